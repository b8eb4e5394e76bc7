"""Reads of the ledger, scoped to what the user may see."""

from __future__ import annotations

import re

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Length

from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.core import crypto
from shouwang.registry.models import (
    Building,
    CareTag,
    Household,
    Presence,
    Resident,
)
from shouwang.registry.validation import (
    InvalidValue,
    check_mobile,
    clean_text,
    normalise_id_number,
)

RESIDENT_GRID = "household__building__grid_id"
HOUSEHOLD_GRID = "building__grid_id"


def residents_for(user) -> QuerySet[Resident]:
    return scope_queryset(user, Resident.objects.all(), grid_path=RESIDENT_GRID)


def households_for(user) -> QuerySet[Household]:
    return scope_queryset(user, Household.objects.all(), grid_path=HOUSEHOLD_GRID)


def resident_get_for(user, pk) -> Resident:
    return get_scoped(user, Resident.objects.with_place(), pk, grid_path=RESIDENT_GRID)


def household_get_for(user, pk) -> Household:
    return get_scoped(user, Household.objects.with_place(), pk, grid_path=HOUSEHOLD_GRID)


_TAIL = re.compile(r"^\d{3}[\dX]$")
_FULL_ID = re.compile(r"^\d{17}[\dX]$")
_PHONE = re.compile(r"^\+?\d{11,15}$")


def resident_search(
    user,
    *,
    q: str = "",
    grid_id: int | None = None,
    tag: int | None = None,
    compound_id: int | None = None,
    building_id: int | None = None,
    limit: int = 50,
) -> QuerySet[Resident]:
    """By name (prefix), last four ID digits, last four phone digits, full phone or full ID.

    Full IDs and phones are matched through their blind index: they are never stored in clear.
    """
    qs = residents_for(user).with_place()
    q = (q or "").strip()
    if q:
        compact = normalise_id_number(q)
        if _TAIL.match(compact):
            tail = Q(id_tail=compact)
            qs = qs.filter(tail | Q(phone_tail=compact) if compact.isdigit() else tail)
        elif _FULL_ID.match(compact):
            qs = qs.filter(id_number_index=crypto.blind_index("id", compact))
        elif _PHONE.match(compact):
            try:
                phone = check_mobile(compact)
            except InvalidValue:
                return qs.none()
            qs = qs.filter(phone_index=crypto.blind_index("phone", phone))
        else:
            qs = qs.filter(name__startswith=clean_text(q))
    if grid_id:
        qs = qs.filter(household__building__grid_id=grid_id)
    if compound_id:
        qs = qs.filter(household__building__compound_id=compound_id)
    if building_id:
        qs = qs.filter(household__building_id=building_id)
    if tag:
        qs = qs.with_tag(tag)
    return qs.order_by("name", "id")[:limit]


def community_overview(user) -> dict:
    """People and households by compound, building, grid and care tag, in a few grouped queries."""
    residents = residents_for(user).living_here()
    households = households_for(user)
    totals = residents.aggregate(
        people=Count("id"),
        present=Count("id", filter=Q(presence=Presence.PRESENT)),
        away=Count("id", filter=Q(presence=Presence.AWAY)),
        hospital=Count("id", filter=Q(presence=Presence.HOSPITAL)),
    )
    threshold = (
        user.community.large_household_threshold if getattr(user, "community_id", None) else 6
    )
    htotals = households.aggregate(
        households=Count("id"), large=Count("id", filter=Q(size__gte=threshold))
    )
    by_compound = list(
        residents.values(
            cid=F("household__building__compound_id"),
            cname=F("household__building__compound__name"),
            ckind=F("household__building__compound__kind"),
        )
        .annotate(people=Count("id"), households=Count("household_id", distinct=True))
        .order_by("cname")
    )
    by_grid = list(
        residents.values(
            gid=F("household__building__grid_id"), gname=F("household__building__grid__name")
        )
        .annotate(people=Count("id"), households=Count("household_id", distinct=True))
        .order_by(F("household__building__grid__sort").asc(nulls_last=True), "gname")
    )
    tag_aliases = {f"t{t.value}": F("tags").bitand(t.value) for t in CareTag}
    tag_counts = residents.alias(**tag_aliases).aggregate(
        **{f"c{t.value}": Count("id", filter=Q(**{f"t{t.value}__gt": 0})) for t in CareTag}
    )
    by_tag = [
        {"tag": t.value, "label": str(t.label), "people": tag_counts[f"c{t.value}"]}
        for t in CareTag
    ]
    return {
        **totals,
        **htotals,
        "threshold": threshold,
        "by_compound": by_compound,
        "by_grid": by_grid,
        "by_tag": by_tag,
    }


def buildings_overview(
    user, *, compound_id: int | None = None, grid_id: int | None = None
) -> list[dict]:
    qs = scope_queryset(user, Building.objects.all(), grid_path="grid_id")
    if compound_id:
        qs = qs.filter(compound_id=compound_id)
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    return list(
        qs.values("id", "name", "compound__name", "grid__name")
        .annotate(
            household_count=Count("households", distinct=True),
            people=Count(
                "households__members",
                filter=~Q(households__members__presence=Presence.MOVED_OUT),
            ),
        )
        # 2号楼 before 10号楼: shorter names first, then by name.
        .order_by("compound__name", Length("name"), "name")
    )


def buildings_for(user) -> QuerySet[Building]:
    return scope_queryset(user, Building.objects.all(), grid_path="grid_id").order_by(
        "compound__name", Length("name"), "name"
    )


def building_get_for(user, pk) -> Building:
    return get_scoped(user, Building.objects.select_related("compound"), pk, grid_path="grid_id")


def communities_rollup(communities) -> list[dict]:
    """Counts only, never a person: what a district viewer may see."""
    residents = (
        Resident.objects.filter(community__in=communities)
        .exclude(presence=Presence.MOVED_OUT)
        .values("community_id")
        .annotate(people=Count("id"))
    )
    people = {r["community_id"]: r["people"] for r in residents}
    households = {
        r["community_id"]: r["n"]
        for r in Household.objects.filter(community__in=communities)
        .values("community_id")
        .annotate(n=Count("id"))
    }
    return [
        {
            "code": c.code,
            "name": c.name,
            "street": c.street.name if c.street_id else "",
            "people": people.get(c.pk, 0),
            "households": households.get(c.pk, 0),
        }
        for c in communities.select_related("street").order_by("code")
    ]


def households_at_door(user, household: Household) -> list[Household]:
    """The families behind one door (a homestead door can hold several)."""
    return list(
        households_for(user)
        .filter(dwelling_id=household.dwelling_id)
        .select_related("head")
        .order_by("id")
    )
