"""The grab key: what the volunteer's pages send with a press of "grab" (header
`X-Shouwang-Grab`), as the gate key does for a guard (checkpoints/gatekey.py).

A page showing tasks to grab is given a key signed with Django's `signing` (salt
"volunteers.grab", valid for 12 hours): the volunteer, their user, the community and the
language, e.g. `41.12.3.zh-hans:1rBqXk:8Qd…`. Verifying it is one HMAC, no database; each
process remembers a verified key until its own age limit. The grab's one SELECT then checks that
the user is still active and still this volunteer's, and the task's own rules
(tasks._refusal). A header, not a cookie: a page of another site cannot make a browser send it,
so the quick grab endpoint needs no CSRF token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core import signing
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from shouwang.core.errors import DomainError

SALT = "volunteers.grab"
MAX_AGE = 12 * 3600
HEADER = "X-Shouwang-Grab"
META = "HTTP_X_SHOUWANG_GRAB"
MAX_KEY_LENGTH = 200  # a real key is about 45 characters


class GrabKeyError(DomainError):
    """No key, a forged or expired one: open the page again."""

    status = 401

    def __init__(self, message=None):
        super().__init__(
            "grab_key",
            message
            or _("This page has expired or you are signed out: open the list of tasks again."),
        )


@dataclass(frozen=True, slots=True)
class GrabKey:
    volunteer_id: int
    user_id: int
    community_id: int
    language: str


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def issue(volunteer, *, language: str | None = None) -> str:
    """The key for `volunteer` (who has a user) grabbing, answers in `language` (default: the
    active one). "" for a volunteer without a login."""
    if not volunteer.user_id:
        return ""
    language = language or translation.get_language() or "zh-hans"
    return _signer().sign(f"{volunteer.pk}.{volunteer.user_id}.{volunteer.community_id}.{language}")


_VERIFIED: dict[str, tuple[float, GrabKey]] = {}
_VERIFIED_MAX = 8192


def verify(key: str | None) -> GrabKey:
    """The volunteer a key names; GrabKeyError when it is missing, forged or older than
    MAX_AGE."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise GrabKeyError()
    hit = _VERIFIED.get(key)
    if hit is not None and time.time() < hit[0]:
        return hit[1]
    try:
        value = _signer().unsign(key, max_age=MAX_AGE)
        signed_at = signing.b62_decode(key.rsplit(signing.Signer().sep, 2)[-2])
    except (signing.BadSignature, ValueError, IndexError):  # SignatureExpired is one
        raise GrabKeyError() from None
    try:
        volunteer, user, community, language = value.split(".", 3)
        found = GrabKey(int(volunteer), int(user), int(community), language)
    except ValueError:
        raise GrabKeyError() from None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (signed_at + MAX_AGE, found)
    return found
