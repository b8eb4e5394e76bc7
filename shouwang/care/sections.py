"""This app's sections of the household page (一户一档): see shouwang/core/sections.py.

"summary" (staff page, at the top): one line of tiles of what the community did for the household
— requests (open of all), medicine needs (in the flow of all), the last care contact — read as
counts only, so no health detail of another module leaks through it.
"care" (staff page): the household's people on the care list, their carer, their state, and the
last follow-ups; condition and needs only for the roles with care.view. Not on the residents'
page: follow-up notes are health information kept for the committee."""

from __future__ import annotations

from django.db.models import Count, Max, Q
from django.urls import reverse

from shouwang.accounts.permissions import can
from shouwang.care import selectors
from shouwang.care.models import FollowUp
from shouwang.core import sections
from shouwang.core.sections import Section

FOLLOW_UPS_SHOWN = 3


def _care(request, household, viewer):
    user = request.user
    people = selectors.with_carers(list(selectors.care_list(user).filter(household=household)))
    recent = list(
        FollowUp.objects.filter(household=household)
        .select_related("by", "request", "resident")
        .order_by("-at", "-pk")[: FOLLOW_UPS_SHOWN * max(len(people), 1) + 3]
    )
    if not people and not recent:
        return None
    by_person: dict[int, list] = {}
    for fu in recent:
        by_person.setdefault(fu.resident_id, []).append(fu)
    for p in people:
        p.days = selectors.days_since(p.last_at)
        p.recent = by_person.pop(p.pk, [])[:FOLLOW_UPS_SHOWN]
    # Follow-ups of members no longer on the list (tag removed, pairing ended) still show.
    others = [fu for fus in by_person.values() for fu in fus[:FOLLOW_UPS_SHOWN]]
    return {
        "people": people,
        "others": others,
        "details": can(user, "care.view"),
        "care_url": reverse("care:index") if can(user, "care.view") else "",
    }


def _summary(request, household, viewer):
    from shouwang.helpline.models import LIVE, HelpRequest
    from shouwang.medicine.models import Need, Stage

    requests = HelpRequest.objects.filter(household=household).aggregate(
        total=Count("pk"), live=Count("pk", filter=Q(status__in=LIVE))
    )
    needs = Need.objects.filter(household=household).aggregate(
        total=Count("pk"),
        flowing=Count("pk", filter=~Q(stage__in=[Stage.SETTLED, Stage.CANCELLED])),
    )
    care = FollowUp.objects.filter(household=household).aggregate(n=Count("pk"), last=Max("at"))
    if not (requests["total"] or needs["total"] or care["n"]):
        return None
    return {
        "requests": requests,
        "needs": needs,
        "care": care,
        "days": selectors.days_since(care["last"]),
    }


sections.register(
    sections.STAFF, Section("care_summary", "care/sections/summary.html", _summary, order=5)
)
sections.register(sections.STAFF, Section("care", "care/sections/staff.html", _care, order=60))
