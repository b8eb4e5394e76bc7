"""Part of the checkpoints app's permission matrix (see tests/matrix.py): guard — the guard page
and its search (checkpoints.guard), the decision endpoint (gate key, never a session: 401 for
everybody without one; test_pass_endpoint.py covers the key), and its API."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import NOBODY, Policy

GUARD = frozenset({"admin", "staff", "grid_leader", "guard", "volunteer"})
# Pages without an id: the outsider sees their own community's checkpoints.
GUARD_HOME = GUARD | {"outsider"}

_IDS: dict = {}

EXPECTED: dict = {
    "checkpoints:guard": Policy(GUARD_HOME),
    "checkpoints:guard_at": Policy(GUARD, params={"pk": "g_checkpoint"}),
    "checkpoints:guard_find": Policy(GUARD, params={"pk": "g_checkpoint"}),
    "checkpoints:pass": Policy(
        NOBODY, method="POST", status=401, post_only=True, data="g_pass_json"
    ),
    "POST api/v1/checkpoints/pass": Policy(GUARD, data="g_api_pass_json"),
    "GET api/v1/checkpoints/reasons": Policy(GUARD_HOME),
}


def _body() -> dict:
    import uuid

    return {"uid": str(uuid.uuid4()), "direction": "in", "temperature": "36.5", **_IDS["who"]}


BODIES: dict = {
    "g_pass_json": lambda: ("json", _body()),
    "g_api_pass_json": lambda: ("json", {"checkpoint": _IDS["checkpoint"], **_body()}),
}


def rows(personas, ledger, made) -> dict:
    from shouwang.checkpoints.models import Checkpoint

    community = personas["admin"].community
    # Two checkpoints: with one, the "pick a checkpoint" page goes straight to it.
    cp = Checkpoint.objects.create(community=community, name="矩阵南门")
    Checkpoint.objects.create(community=community, name="矩阵北门")
    _IDS.update(checkpoint=cp.pk, who={"resident": ledger["r1"].pk})
    return {"g_checkpoint": cp}
