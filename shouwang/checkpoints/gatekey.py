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

from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from shouwang.core.errors import DomainError
from shouwang.core.signedkey import SignedKeys

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


# A guard's page sends the same key all day: verified once per process (core/signedkey.py).
KEYS = SignedKeys(SALT, MAX_AGE, remember=4096, max_length=MAX_KEY_LENGTH)
_VERIFIED = KEYS.verified


def issue(user, checkpoint, *, language: str | None = None) -> str:
    """The key for `user` guarding `checkpoint`, answers in `language` (default: the active
    one)."""
    language = language or translation.get_language() or "zh-hans"
    return KEYS.sign(f"{user.pk}.{checkpoint.community_id}.{checkpoint.pk}.{language}")


def _parse(value: str) -> GateKey:
    user, community, checkpoint, language = value.split(".", 3)
    return GateKey(int(user), int(community), int(checkpoint), language)


def verify(key: str | None) -> GateKey:
    """The gate a key names; GateKeyError when it is missing, forged or older than MAX_AGE."""
    gate = KEYS.verify(key, _parse)
    if gate is None:
        raise GateKeyError()
    return gate
