"""/api/v1/control/: places under control, proposals, approvals, the history. The rules are in
services.py, as for the HTML pages.

    GET  /controls                     the places under a level now
    GET  /proposals?status=pending     POST /proposals
    POST /proposals/{id}/approve       POST /proposals/{id}/reject     POST /proposals/{id}/withdraw
    GET  /history?kind=&place_id=&date_from=&date_to=
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from ninja import Router, Status

from shouwang.accounts.permissions import require
from shouwang.control import places as pl
from shouwang.control import selectors, services
from shouwang.control.models import Proposal, ProposalStatus
from shouwang.control.schemas import (
    ControlOut,
    DecisionIn,
    HistoryOut,
    ProposalIn,
    ProposalOut,
)
from shouwang.core.errors import invalid

router = Router(tags=["control"])

LIST_LIMIT = 200


def _place(row) -> dict:
    return {"kind": row.kind, "id": row.place_id, "label": pl.label(row.place)}


def _proposal_out(p: Proposal) -> dict:
    return {
        "id": p.pk,
        "place": _place(p),
        "level": p.level,
        "reason": p.reason,
        "evidence": p.evidence,
        "source": p.source,
        "status": p.status,
        "starts_at": p.starts_at,
        "planned_end": p.planned_end,
        "proposed_by": p.proposed_by_id,
        "proposed_at": p.proposed_at,
        "expires_at": p.expires_at,
        "decided_by": p.decided_by_id,
        "decided_at": p.decided_at,
        "decision_note": p.decision_note,
    }


@router.get("/controls", response=list[ControlOut], summary="Places under a level now")
def controls_list(request):
    require(request.auth, "control.view")
    user = request.auth
    now = timezone.now()
    qs = services.with_place(services.current(services.controls_for(user), now=now))
    out = []
    for r in selectors.place_rows(qs.order_by("starts_at", "pk"), now=now):
        c = r.control
        out.append(
            {
                "id": c.pk,
                "place": _place(c),
                "level": c.level,
                "reason": c.reason,
                "starts_at": c.starts_at,
                "planned_end": c.planned_end,
                "ended_at": c.ended_at,
                "overdue": r.overdue,
                "days_left": r.days_left,
                "households": r.households,
                "people": r.people,
                "last_positive": r.last_positive,
                "proposal_id": c.proposal_id,
            }
        )
    return out


@router.get("/proposals", response=list[ProposalOut], summary="Proposals (newest first)")
def proposals_list(request, status: str | None = None):
    require(request.auth, "control.view")
    user = request.auth
    services.expire_due(community_id=user.community_id)
    qs = services.with_place(services.proposals_for(user))
    if status:
        if status not in ProposalStatus.values:
            raise invalid("status", "One of: " + ", ".join(ProposalStatus.values))
        qs = qs.filter(status=status)
    return [_proposal_out(p) for p in qs.order_by("-proposed_at", "-pk")[:LIST_LIMIT]]


@router.post("/proposals", response={201: ProposalOut}, summary="Propose a level or a release")
def proposal_create(request, payload: ProposalIn):
    require(request.auth, "control.propose")
    user = request.auth
    if payload.kind not in pl.FIELD:
        raise invalid("kind", "One of: compound, building, unit.")
    place = pl.get_for(user, payload.kind, payload.place_id)
    p = services.proposal_create(
        actor=user,
        place=place,
        level=payload.level,
        reason=payload.reason,
        evidence=payload.evidence,
        starts_at=payload.starts_at,
        planned_end=payload.planned_end,
        expires_at=payload.expires_at,
    )
    return Status(201, _proposal_out(p))


@router.post(
    "/proposals/{proposal_id}/approve",
    response=ProposalOut,
    summary="Approve (never one's own; not once expired)",
)
def proposal_approve(request, proposal_id: int, payload: DecisionIn):
    require(request.auth, "control.approve")
    p = services.proposal_get_for(request.auth, proposal_id)
    out = services.proposal_approve(actor=request.auth, proposal=p, note=payload.note)
    return _proposal_out(out.proposal)


@router.post("/proposals/{proposal_id}/reject", response=ProposalOut, summary="Reject, with a note")
def proposal_reject(request, proposal_id: int, payload: DecisionIn):
    require(request.auth, "control.approve")
    p = services.proposal_get_for(request.auth, proposal_id)
    return _proposal_out(
        services.proposal_reject(actor=request.auth, proposal=p, note=payload.note)
    )


@router.post(
    "/proposals/{proposal_id}/withdraw", response=ProposalOut, summary="Withdraw one's own"
)
def proposal_withdraw(request, proposal_id: int):
    require(request.auth, "control.propose")
    p = services.proposal_get_for(request.auth, proposal_id)
    return _proposal_out(services.proposal_withdraw(actor=request.auth, proposal=p))


@router.get("/history", response=list[HistoryOut], summary="The history (append-only)")
def history(
    request,
    kind: str | None = None,
    place_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = LIST_LIMIT,
):
    require(request.auth, "control.view")
    qs = selectors.history_for(
        request.auth, kind=kind, place_id=place_id, date_from=date_from, date_to=date_to
    )
    limit = max(1, min(limit, 1000))
    return [
        {
            "id": h.pk,
            "at": h.at,
            "event": h.event,
            "place": {"kind": h.kind, "id": h.place_id, "label": h.place_label},
            "level_before": h.level_before,
            "level": h.level,
            "reason": h.reason,
            "evidence": h.evidence,
            "starts_at": h.starts_at,
            "planned_end": h.planned_end,
            "proposal_id": h.proposal_id,
            "actor_id": h.actor_id,
            "actor_name": h.actor_name,
            "note": h.note,
        }
        for h in qs[:limit]
    ]
