"""Keys a page sends in a header with every fast JSON request (the gate key of the pass
decision, the grab key of a volunteer's "grab"): signed with Django's `signing` under a salt,
valid for a fixed age, and checked with one HMAC and no database.

A page sends the same key all day, so each process checks a key's signature once and then
remembers what it names until the key's own age limit (its timestamp is signed in it). A key that
fails is never remembered. Rotating SECRET_KEY means restarting the processes, which forgets
everything. A header, not a cookie: a page of another site cannot make a browser send it, so the
endpoints need no CSRF token and a JsonFront (core/front.py) can answer them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.core import signing

T = TypeVar("T")


class SignedKeys:
    """One kind of key: its salt, its age limit, and this process's memory of verified keys."""

    def __init__(self, salt: str, max_age: int, *, remember: int = 4096, max_length: int = 200):
        self.salt = salt
        self.max_age = max_age
        self.remember = remember
        self.max_length = max_length  # a real key is about 45 characters
        self.verified: dict[str, tuple[float, object]] = {}

    def _signer(self) -> signing.TimestampSigner:
        # Made per call (a few attribute reads): it reads SECRET_KEY and its fallbacks then.
        return signing.TimestampSigner(salt=self.salt)

    def sign(self, value: str) -> str:
        return self._signer().sign(value)

    def verify(self, key: str | None, parse: Callable[[str], T]) -> T | None:
        """What `key` names, as `parse(signed value)` makes it; None when the key is missing,
        too long, forged, older than the age limit, or `parse` raises ValueError."""
        if not key or len(key) > self.max_length:
            return None
        hit = self.verified.get(key)
        if hit is not None and time.time() < hit[0]:
            return hit[1]
        try:
            value = self._signer().unsign(key, max_age=self.max_age)
            signed_at = signing.b62_decode(key.rsplit(signing.Signer().sep, 2)[-2])
            found = parse(value)
        except (signing.BadSignature, ValueError, IndexError):  # SignatureExpired is one
            return None
        if len(self.verified) >= self.remember:
            self.verified.clear()
        self.verified[key] = (signed_at + self.max_age, found)
        return found
