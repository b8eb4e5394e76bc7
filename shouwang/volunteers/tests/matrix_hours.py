"""Part of the volunteers app's permission matrix (see tests/matrix.py): the volunteer's own
pages, check-in, hours, stats and certificates. Being written."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy

# volunteers.serve: everyone of the community but merchants and district viewers; pages without
# an id give the outsider their own community's.
SERVE_HOME = frozenset(
    {"admin", "staff", "grid_leader", "guard", "sampler", "volunteer", "resident", "outsider"}
)

EXPECTED: dict = {
    "volunteers:index": Policy(SERVE_HOME),
    "volunteers:me": Policy(SERVE_HOME),
}
BODIES: dict = {}


def rows(personas, ledger, made) -> dict:
    return {}
