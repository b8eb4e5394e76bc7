"""This app's part of the permission matrix (shouwang/core/tests/matrix_policy.py explains the
shape): who may open each of its URLs."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import Policy  # noqa: F401

EXPECTED: dict[str, Policy] = {}

# data key -> () -> ("form" | "json", body)
BODIES: dict = {}


def rows(personas, ledger) -> dict:
    """Rows of the fixture community for this app's path parameters."""
    return {}
