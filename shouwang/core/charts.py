"""Axis arithmetic for the small server-drawn SVG charts (the queue's report, a round's
progress): the templates draw, these say where the gridlines go and how they are labelled."""

from __future__ import annotations

import math


def nice_max(value: float, *, steps: int = 4) -> float:
    """The top of an axis with `steps` round gridlines (1, 2 or 5 × 10ⁿ each) above `value`."""
    if value <= 0:
        return steps
    raw = value / steps
    exp = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * exp:
            return m * exp * steps
    return 10 * exp * steps


def tick_label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"
