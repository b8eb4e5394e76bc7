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

from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from shouwang.core.errors import DomainError
from shouwang.core.signedkey import SignedKeys

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


# Verified once per process (core/signedkey.py, as the gate key).
KEYS = SignedKeys(SALT, MAX_AGE, remember=8192, max_length=MAX_KEY_LENGTH)
_VERIFIED = KEYS.verified


def issue(volunteer, *, language: str | None = None) -> str:
    """The key for `volunteer` (who has a user) grabbing, answers in `language` (default: the
    active one). "" for a volunteer without a login."""
    if not volunteer.user_id:
        return ""
    language = language or translation.get_language() or "zh-hans"
    return KEYS.sign(f"{volunteer.pk}.{volunteer.user_id}.{volunteer.community_id}.{language}")


def _parse(value: str) -> GrabKey:
    volunteer, user, community, language = value.split(".", 3)
    return GrabKey(int(volunteer), int(user), int(community), language)


def verify(key: str | None) -> GrabKey:
    """The volunteer a key names; GrabKeyError when it is missing, forged or older than
    MAX_AGE."""
    found = KEYS.verify(key, _parse)
    if found is None:
        raise GrabKeyError()
    return found
