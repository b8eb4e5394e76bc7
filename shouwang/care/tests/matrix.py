"""This app's part of the permission matrix (being built)."""

from shouwang.core.tests.matrix_policy import Policy

EXPECTED: dict = {
    "care:index": Policy(frozenset({"admin", "staff", "grid_leader", "outsider"})),
}
BODIES: dict = {}


def rows(personas, ledger) -> dict:
    return {}
