"""The gate key: what the guard page sends with every passage (header `X-Shouwang-Gate`).

The guard page (a signed-in user, at one checkpoint) is given a key signed with Django's
`signing` (salt "checkpoints.gate", valid for 16 hours — a long day at the gate): the user, the
community, the checkpoint and the language, e.g. `12.3.4.zh-hans:1rBqXk:8Qd…`. Verifying it is
one HMAC, no database: the decision's one SELECT then checks that the user is still active and
still a guard role of the community, and that the checkpoint is still in use
(`decision.record`). A header, not a cookie: a page of another site cannot make a browser send
it, so the decision endpoint needs no CSRF token — and the lean front (`quick.py`) can answer
it without the middleware stack, as the scan path does (screening/station.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core import signing
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from shouwang.core.errors import DomainError

SALT = "checkpoints.gate"
MAX_AGE = 16 * 3600
HEADER = "X-Shouwang-Gate"
META = "HTTP_X_SHOUWANG_GATE"
MAX_KEY_LENGTH = 200  # a real key is about 45 characters


class GateKeyError(DomainError):
    """No key, a forged or expired one, or its user may no longer guard: open the page again."""

    status = 401

    def __init__(self, message=None):
        super().__init__(
            "gate_key",
            message
            or _(
                "This guard page has expired, or you may no longer guard this checkpoint. Open "
                "the guard page again."
            ),
        )


@dataclass(frozen=True, slots=True)
class GateKey:
    user_id: int
    community_id: int
    checkpoint_id: int
    language: str


def _signer() -> signing.TimestampSigner:
    # Made per call (a few attribute reads): it reads SECRET_KEY and its fallbacks then.
    return signing.TimestampSigner(salt=SALT)


def issue(user, checkpoint, *, language: str | None = None) -> str:
    """The key for `user` guarding `checkpoint`, answers in `language` (default: the active
    one)."""
    language = language or translation.get_language() or "zh-hans"
    return _signer().sign(f"{user.pk}.{checkpoint.community_id}.{checkpoint.pk}.{language}")


# A guard's page sends the same key all day: each process checks a key's signature once and
# then remembers the gate it names until the key's own age limit (its timestamp is signed in
# it). A key that fails is never remembered. Rotating SECRET_KEY means restarting the
# processes, which forgets everything.
_VERIFIED: dict[str, tuple[float, GateKey]] = {}
_VERIFIED_MAX = 4096


def verify(key: str | None) -> GateKey:
    """The gate a key names; GateKeyError when it is missing, forged or older than MAX_AGE."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise GateKeyError()
    hit = _VERIFIED.get(key)
    if hit is not None and time.time() < hit[0]:
        return hit[1]
    try:
        value = _signer().unsign(key, max_age=MAX_AGE)
        signed_at = signing.b62_decode(key.rsplit(signing.Signer().sep, 2)[-2])
    except (signing.BadSignature, ValueError, IndexError):  # SignatureExpired is one
        raise GateKeyError() from None
    try:
        user, community, checkpoint, language = value.split(".", 3)
        gate = GateKey(int(user), int(community), int(checkpoint), language)
    except ValueError:
        raise GateKeyError() from None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (signed_at + MAX_AGE, gate)
    return gate
