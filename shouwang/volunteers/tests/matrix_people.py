"""Part of the volunteers app's permission matrix (see tests/matrix.py). Stub: being written."""

from __future__ import annotations

EXPECTED: dict = {}
BODIES: dict = {}


def rows(personas, ledger, made) -> dict:
    return {}
