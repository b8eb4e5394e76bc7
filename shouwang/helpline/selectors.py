"""Reads shared by the help line's parts: the community's categories and policy, which requests a
user may see, whose details they may read, and when a request is due."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.models import Role
from shouwang.accounts.permissions import can
from shouwang.accounts.scope import get_scoped
from shouwang.helpline.models import Category, EventKind, Group, HelpRequest, Policy, Urgency

H = 60  # minutes in an hour

# The default sub-categories (the Xi'an ledger's kinds and what other committees met) with their
# time limits in minutes; made for a community the first time its categories are read.
DEFAULT_CATEGORIES = (
    (Group.LIVELIHOOD, _("Buying medicine"), 24 * H),
    (Group.LIVELIHOOD, _("Gas"), 24 * H),
    (Group.LIVELIHOOD, _("Food and daily needs"), 24 * H),
    (Group.SPECIAL, _("Test at home"), 24 * H),
    (Group.SPECIAL, _("Hospital visit"), 2 * H),
    (Group.SPECIAL, _("Dialysis"), 2 * H),
    (Group.SPECIAL, _("Pregnancy and childbirth"), 2 * H),
    (Group.POLICY, _("Who may go out"), 2 * H),
    (Group.POLICY, _("Where to test"), 2 * H),
    (Group.POLICY, _("How to get medicine"), 2 * H),
    (Group.REPAIRS, _("Water, power and gas repairs"), 24 * H),
    (Group.PSYCHOLOGICAL, _("Anxiety and low mood"), 12 * H),
    (Group.DISPUTE, _("Neighbour dispute"), 24 * H),
    (Group.OTHER, _("Other request"), 24 * H),
)

# However long a category allows, a request this urgent is due within (minutes).
URGENCY_LIMIT = {Urgency.LIFE: 30, Urgency.HEALTH: 2 * H}


def policy_for(community_id: int) -> Policy:
    """The community's help-line policy, made with the defaults the first time."""
    policy, _created = Policy.objects.get_or_create(community_id=community_id)
    return policy


def categories_for(community_id: int, *, active_only: bool = True) -> QuerySet[Category]:
    """The community's categories, the defaults made the first time (named in zh-Hans)."""
    qs = Category.objects.filter(community_id=community_id)
    if not qs.exists():
        with translation.override(settings.LANGUAGE_CODE):
            Category.objects.bulk_create(
                [
                    Category(
                        community_id=community_id,
                        group=group,
                        name=str(name),
                        limit_minutes=minutes,
                        position=i,
                    )
                    for i, (group, name, minutes) in enumerate(DEFAULT_CATEGORIES)
                ],
                ignore_conflicts=True,
            )
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("position", "pk")


def due_at(category: Category, urgency: int, at: dt.datetime) -> dt.datetime:
    """When a request logged at `at` must be resolved: the category's limit, shortened for a
    life- or health-threatening request."""
    minutes = category.limit_minutes
    cap = URGENCY_LIMIT.get(urgency)
    if cap is not None:
        minutes = min(minutes, cap)
    return at + dt.timedelta(minutes=minutes)


def requests_for(user) -> QuerySet[HelpRequest]:
    """The requests a user may see: their community's; a grid leader's grid's households and
    what they logged or own."""
    if not getattr(user, "is_authenticated", False) or user.community_id is None:
        return HelpRequest.objects.none()
    qs = HelpRequest.objects.filter(community_id=user.community_id)
    if user.role == Role.GRID_LEADER:
        qs = qs.filter(
            Q(household__building__grid_id=user.grid_id) | Q(owner=user) | Q(created_by=user)
        )
    return qs


def request_for(user, pk) -> HelpRequest:
    """One request the user may see (404 otherwise)."""
    return get_scoped(
        user, requests_for(user).select_related("category", "owner", "household", "resident"), pk
    )


def may_see_details(user, req: HelpRequest) -> bool:
    """Health and mental-health details: the roles that need them and the request's owner."""
    if not req.sensitive:
        return True
    return can(user, "helpline.sensitive") or (
        req.owner_id is not None and req.owner_id == getattr(user, "pk", None)
    )


def event_text_hidden(e, details: bool) -> bool:
    """Whether a log line's text is left out: notes and resolutions may carry the health details
    of a request whose details the reader may not see."""
    return not details and e.kind in (EventKind.NOTE, EventKind.RESOLVED)


def duty_users(community_id: int) -> QuerySet:
    """Who can own a request: the community's active users whose role takes calls."""
    from shouwang.accounts.models import User
    from shouwang.accounts.permissions import CAPABILITIES

    return User.objects.filter(
        community_id=community_id,
        is_active=True,
        role__in=sorted(CAPABILITIES["helpline.take"]),
    ).order_by("username")
