"""Pass tokens and household-link tokens.

A pass token is what the QR holds and what a hand-held scanner types: "SW", 8 random characters
(the pass's code) and a 6-character keyed check, all in Crockford base 32 (digits and capitals
without I, L, O, U) — 16 characters, QR alphanumeric mode, a small code that prints legibly and
a scanner types in a blink. The check lets every scanner refuse a typo or a forged code without
asking the database; revocation is the database's job (`services.pass_resolve`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from shouwang.core import crypto

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "SW"
CODE_LEN = 8
CHECK_LEN = 6
TOKEN_LEN = len(PREFIX) + CODE_LEN + CHECK_LEN
_TOKEN = re.compile(rf"^{PREFIX}[{ALPHABET}]{{{CODE_LEN + CHECK_LEN}}}$")
# Crockford's reading rules: letters that look like digits are read as those digits.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


class TokenError(ValueError):
    """`kind` is "empty", "unreadable" (not the shape of a pass) or "forged" (check fails)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def _b32(data: bytes, length: int) -> str:
    n = int.from_bytes(data, "big")
    out = []
    for _ in range(length):
        out.append(ALPHABET[n & 31])
        n >>= 5
    return "".join(reversed(out))


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))


def check_for(code: str) -> str:
    return _b32(crypto.mac("pass", code, size=8), CHECK_LEN)


def token_for(code: str) -> str:
    return f"{PREFIX}{code}{check_for(code)}"


def grouped(token: str) -> str:
    """For people typing from a card: SW3K-9QXT-M2H7-PA4C."""
    return "-".join(token[i : i + 4] for i in range(0, len(token), 4))


def normalise(raw: str) -> str:
    """What a camera, a keyboard-wedge scanner or a person typing may deliver, as a bare token.

    Full-width characters from a Chinese input method, lower case from Caps Lock, spaces and
    dashes from the printed grouping, and a URL around the token are all accepted."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if "/" in text:
        text = text.rstrip("/").rsplit("/", 1)[-1]
    text = re.sub(r"[\s\-_.·]", "", text).upper()
    if text.startswith(PREFIX):
        text = PREFIX + text[len(PREFIX) :].translate(_CONFUSABLE)
    return text


def parse(raw: str) -> str:
    """The pass code inside a scanned or typed token; TokenError when it is not a valid one."""
    token = normalise(raw)
    if not token:
        raise TokenError("empty")
    if not _TOKEN.match(token):
        raise TokenError("unreadable")
    code, check = token[len(PREFIX) : len(PREFIX) + CODE_LEN], token[len(PREFIX) + CODE_LEN :]
    if not hmac.compare_digest(check, check_for(code)):
        raise TokenError("forged")
    return code


# --- household links ----------------------------------------------------------------------


def new_link_token() -> str:
    """128 random bits, URL-safe: the whole secret of a household link."""
    return secrets.token_urlsafe(16)


def link_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
