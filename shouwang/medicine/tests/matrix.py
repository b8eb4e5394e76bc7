"""This app's part of the permission matrix (being built)."""

from shouwang.core.tests.matrix_policy import Policy

EXPECTED: dict = {
    "medicine:index": Policy(frozenset({"admin", "staff", "grid_leader", "volunteer", "outsider"})),
}
BODIES: dict = {}


def rows(personas, ledger) -> dict:
    return {}
