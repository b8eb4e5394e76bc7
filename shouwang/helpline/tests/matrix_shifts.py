"""Part of the help line's permission matrix (see tests/matrix.py) (being built)."""

from __future__ import annotations

EXPECTED: dict = {}
BODIES: dict = {}


def rows(personas, ledger, made) -> dict:
    return {}
