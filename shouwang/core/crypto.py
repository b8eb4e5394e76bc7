"""Encryption at rest for ID numbers and phones, and their keyed blind index.

AES-GCM (via `cryptography`) with a fresh nonce per value: the same ID stored twice gives two
different ciphertexts, so a dump of the database shows nothing to match against. Exact lookups
and duplicate detection use an HMAC-SHA256 "blind index" under a second key derived from the
same master key; the master key lives outside the database (var/ or the environment).
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

_VERSION = b"\x01"


@lru_cache(maxsize=4)
def _derive(master: str) -> tuple[AESGCM, bytes, bytes]:
    def derive(info: bytes) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"shouwang-fields", info=info
        ).derive(master.encode())

    return AESGCM(derive(b"encrypt")), derive(b"blind-index"), derive(b"mac")


_active: tuple[AESGCM, bytes, bytes] | None = None


def _keys(_master=None) -> tuple[AESGCM, bytes, bytes]:
    # Reading settings.FIELD_KEY on every call costs more than the hash itself during an
    # import; the keys are kept until a test (or anything else) changes the setting.
    global _active
    if _active is None:
        _active = _derive(settings.FIELD_KEY)
    return _active


@receiver(setting_changed)
def _forget_keys(*, setting, **kwargs):
    global _active
    if setting == "FIELD_KEY":
        _active = None


def encrypt(value: str) -> str:
    if not value:
        return ""
    aead = _keys()[0]
    nonce = os.urandom(12)
    blob = _VERSION + nonce + aead.encrypt(nonce, value.encode(), None)
    return base64.urlsafe_b64encode(blob).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    aead = _keys()[0]
    blob = base64.urlsafe_b64decode(token.encode("ascii"))
    if blob[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    return aead.decrypt(blob[1:13], blob[13:], None).decode()


def blind_index(kind: str, value: str) -> str:
    """Deterministic keyed hash of a normalised value (32 hex characters); empty for empty input.

    Keyed BLAKE2b is a MAC in one C call; an import computes three of these per row.
    """
    if not value:
        return ""
    key = _keys()[1]
    return hashlib.blake2b(f"{kind}:{value}".encode(), key=key, digest_size=16).hexdigest()


def mac(kind: str, value: str, size: int = 32) -> bytes:
    """A keyed tag over `value` (for pass tokens and sign-in codes), under a key of its own.

    Derived from the field key, not SECRET_KEY: printed cards must survive a secret-key change.
    """
    return hashlib.blake2b(f"{kind}:{value}".encode(), key=_keys()[2], digest_size=size).digest()
