"""The station key: what a sampling page sends with every scan (header `X-Shouwang-Station`).

The sampling page (a signed-in user, for one round and point) is given a key signed with
Django's `signing` (salt "screening.station", valid for 16 hours — a long sampling day): the user,
the community, the round, the point and the language, as five short fields and a timestamped
signature, e.g. `12.3.45.6.zh-hans:1rBqXk:8Qd…`. Verifying it is one HMAC, no database: the scan's
one SELECT then checks that the user is still active and still allowed to sample
(`scan.py`). A header, not a cookie: a page of another site cannot make a browser send it, so
the scan endpoints need no CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from shouwang.core.errors import DomainError

SALT = "screening.station"
MAX_AGE = 16 * 3600
HEADER = "X-Shouwang-Station"
MAX_KEY_LENGTH = 200  # a real key is about 50 characters


class StationError(DomainError):
    """No key, a forged or expired one, or its user may no longer sample: open the page again."""

    status = 401

    def __init__(self, message=None):
        super().__init__(
            "station",
            message
            or _(
                "This sampling page has expired or you may no longer sample here. Open the "
                "sampling page again."
            ),
        )


@dataclass(frozen=True, slots=True)
class Station:
    user_id: int
    community_id: int
    round_id: int
    point_id: int | None
    language: str


def _signer() -> signing.TimestampSigner:
    # Made per call (a few attribute reads): it reads SECRET_KEY and its fallbacks then.
    return signing.TimestampSigner(salt=SALT)


def issue(user, round, point=None, *, language: str | None = None) -> str:
    """The key for `user` sampling in `round` (at `point`, if any), in `language` (default:
    the active one)."""
    language = language or translation.get_language() or "zh-hans"
    value = f"{user.pk}.{round.community_id}.{round.pk}.{point.pk if point else 0}.{language}"
    return _signer().sign(value)


def verify(key: str | None) -> Station:
    """The station a key names; StationError when it is missing, forged or older than MAX_AGE."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise StationError()
    try:
        value = _signer().unsign(key, max_age=MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one
        raise StationError() from None
    try:
        user, community, round_, point, language = value.split(".", 4)
        return Station(int(user), int(community), int(round_), int(point) or None, language)
    except ValueError:
        raise StationError() from None
