"""Encryption at rest for ID numbers and phones, and their keyed blind index.

AES-GCM (via `cryptography`) with a fresh nonce per value: the same ID stored twice gives two
different ciphertexts, so a dump of the database shows nothing to match against. Exact lookups
and duplicate detection use an HMAC-SHA256 "blind index" under a second key derived from the
same master key; the master key lives outside the database (var/ or the environment).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_VERSION = b"\x01"


@lru_cache(maxsize=4)
def _keys(master: str) -> tuple[AESGCM, bytes]:
    def derive(info: bytes) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"shouwang-fields", info=info
        ).derive(master.encode())

    return AESGCM(derive(b"encrypt")), derive(b"blind-index")


def encrypt(value: str) -> str:
    if not value:
        return ""
    aead, _ = _keys(settings.FIELD_KEY)
    nonce = os.urandom(12)
    blob = _VERSION + nonce + aead.encrypt(nonce, value.encode(), None)
    return base64.urlsafe_b64encode(blob).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    aead, _ = _keys(settings.FIELD_KEY)
    blob = base64.urlsafe_b64decode(token.encode("ascii"))
    if blob[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    return aead.decrypt(blob[1:13], blob[13:], None).decode()


def blind_index(kind: str, value: str) -> str:
    """Deterministic keyed hash of a normalised value; empty for empty input."""
    if not value:
        return ""
    _, key = _keys(settings.FIELD_KEY)
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode("ascii").rstrip("=").lower()
