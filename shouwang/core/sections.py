"""Sections of a household's page, contributed by the modules.

The household page (the residents' own and the staff's 一户一档) is where queue tickets, orders,
test results, requests and deliveries show up. Each module registers a section in its
AppConfig.ready(); the page renders every section whose context function returns a dict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RESIDENT = "resident"
STAFF = "staff"


@dataclass(frozen=True)
class Section:
    key: str
    template: str
    # (request, household, viewer) -> context dict, or None to leave the section out.
    # viewer is the staff user on the staff page, the ResidentAccess (or a proxy's consent
    # holder) on the residents' page.
    context: Callable[..., dict[str, Any] | None]
    order: int = 100


_REGISTRY: dict[str, dict[str, Section]] = {RESIDENT: {}, STAFF: {}}


def register(page: str, section: Section) -> None:
    _REGISTRY[page][section.key] = section


def render_list(page: str, request, household, viewer) -> list[dict[str, Any]]:
    """[{"template", "key", **context}] in order, for `{% include s.template with s=s %}`."""
    out = []
    for s in sorted(_REGISTRY[page].values(), key=lambda s: (s.order, s.key)):
        ctx = s.context(request, household, viewer)
        if ctx is not None:
            out.append({"template": s.template, "key": s.key, **ctx})
    return out
