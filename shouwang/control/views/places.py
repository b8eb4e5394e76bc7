"""Area control pages: the places under a level now (the index, with the proposals awaiting a
decision) and one place's page (its level and its whole history)."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from shouwang.accounts.permissions import can
from shouwang.control import levels, selectors, services
from shouwang.control import places as pl
from shouwang.control.meaning import MEANING
from shouwang.control.models import ProposalStatus
from shouwang.core.views import capability_required


def proposal_rows(user, proposals) -> list[dict]:
    return [
        {
            "p": p,
            "label": pl.label(p.place),
            "can_decide": services.can_decide(user, p),
            "mine": p.proposed_by_id == user.pk,
        }
        for p in proposals
    ]


@capability_required("control.view")
def index(request):
    user = request.user
    now = timezone.now()
    # Proposals past their expiry are marked expired (with their history line) when anyone
    # looks, as well as by `shouwang control_reminders`.
    services.expire_due(now=now, community_id=user.community_id)
    groups = selectors.under_control(user, now=now)
    return render(
        request,
        "control/index.html",
        {
            "groups": groups,
            "total": sum(len(g["rows"]) for g in groups),
            "overdue": [r for g in groups for r in g["rows"] if r.overdue],
            "pending": proposal_rows(user, selectors.pending(user, now=now)),
            "recent": proposal_rows(user, selectors.recent_decisions(user)),
            "can_propose": can(user, "control.propose"),
            "can_approve": can(user, "control.approve"),
        },
    )


@capability_required("control.view")
def place(request, kind: str, pk: int):
    user = request.user
    obj = pl.get_for(user, kind, pk)
    now = timezone.now()
    own = services.current_of(kind, obj.pk)
    rows = selectors.place_rows([own], now=now) if own is not None else []
    # The level the homes here are under (through their compound or building too).
    if kind == "compound":
        effective = levels.strictest(levels.in_force(now=now).filter(compound_id=obj.pk))
    elif kind == "building":
        effective = levels.level_of(
            unit_id=None, building_id=obj.pk, compound_id=obj.compound_id, now=now
        )
    else:
        effective = levels.level_of(
            unit_id=obj.pk,
            building_id=obj.building_id,
            compound_id=obj.building.compound_id,
            now=now,
        )
    return render(
        request,
        "control/place.html",
        {
            "kind": kind,
            "place": obj,
            "label": pl.label(obj),
            "row": rows[0] if rows else None,
            "effective": effective if effective is not None and effective != own else None,
            "effective_label": pl.label(effective.place) if effective is not None else "",
            "meaning": MEANING.get(own.level, "") if own else "",
            "proposals": proposal_rows(
                user,
                selectors.place_proposals(user, kind, obj.pk).filter(
                    status=ProposalStatus.PENDING, expires_at__gt=now
                ),
            ),
            "history": selectors.history_for(user, kind=kind, place_id=obj.pk),
            "can_propose": can(user, "control.propose"),
        },
    )


urlpatterns = [
    path("control/", index, name="index"),
    path("control/places/<str:kind>/<int:pk>/", place, name="place"),
]
