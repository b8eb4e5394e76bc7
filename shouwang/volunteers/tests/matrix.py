"""This app's part of the permission matrix (shouwang/core/tests/matrix_policy.py explains the
shape), put together from its parts' own fragments: sign-up, volunteers and teams (people); tasks,
grabbing and the rest rules (tasks); the staff's task pages and shift plans (staff); the
volunteer's own pages, check-in, hours, stats and certificates (hours)."""

from __future__ import annotations

from shouwang.volunteers.tests import matrix_hours, matrix_people, matrix_staff, matrix_tasks

PARTS = (matrix_people, matrix_tasks, matrix_staff, matrix_hours)

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
