"""Part of the help line's permission matrix (see tests/matrix.py) (being built)."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

EXPECTED: dict = {
    "helpline:index": Policy(frozenset({"admin", "staff", "grid_leader", "outsider"})),
}
BODIES: dict = {}


def rows(personas, ledger, made) -> dict:
    return {}
