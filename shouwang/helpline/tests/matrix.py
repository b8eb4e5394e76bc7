"""This app's part of the permission matrix (shouwang/core/tests/matrix_policy.py explains the
shape), put together from its parts' own fragments: intake, the ledger and a request's work
(requests); shifts and handovers, the answers and the statistics (shifts)."""

from __future__ import annotations

from shouwang.helpline.tests import matrix_requests, matrix_shifts

PARTS = (matrix_requests, matrix_shifts)

EXPECTED: dict = {}
BODIES: dict = {}
for _part in PARTS:
    assert not set(EXPECTED) & set(_part.EXPECTED), _part.__name__
    assert not set(BODIES) & set(_part.BODIES), _part.__name__
    EXPECTED.update(_part.EXPECTED)
    BODIES.update(_part.BODIES)


def rows(personas, ledger) -> dict:
    out: dict = {}
    for part in PARTS:
        made = part.rows(personas, ledger, out)
        assert not set(out) & set(made), part.__name__
        out.update(made)
    return out
