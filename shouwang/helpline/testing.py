"""Test helpers of the help line: a request in one line."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shouwang.helpline import selectors
from shouwang.helpline.intake import log_request
from shouwang.helpline.models import Group, HelpRequest, Urgency


def category(community, group: str = Group.LIVELIHOOD, index: int = 0):
    """The community's `index`-th default category of `group`."""
    return list(selectors.categories_for(community.pk).filter(group=group))[index]


def make_request(
    community,
    *,
    actor=None,
    group: str = Group.LIVELIHOOD,
    urgency: int = Urgency.NONE,
    summary: str = "需要买降压药",
    household=None,
    resident=None,
    owner=None,
    at: dt.datetime | None = None,
    **kw,
) -> HelpRequest:
    """A request logged through the intake service (so its due time and log are real)."""
    return log_request(
        actor,
        community_id=community.pk,
        category=kw.pop("category", None) or category(community, group),
        summary=summary,
        urgency=urgency,
        household=household,
        resident=resident,
        owner=owner,
        at=at or timezone.now(),
        **kw,
    )
