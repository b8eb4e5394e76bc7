"""/api/v1/care/: the care list, a person with their pairing and follow-ups, recording a
follow-up (optionally turning its need into a help-line request in the same step), a need into a
request later, pairing and the policy. The rules are in services.py, as for the pages.

GET  /people?state=&grid_id=&carer_id=&mine=&unpaired=&q=     GET /people/{id}
POST /people/{id}/follow-ups        POST /follow-ups/{id}/request
POST /people/{id}/pairing           POST /people/{id}/unpair
GET  /policy                        PATCH /policy
"""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema, Status

from shouwang.accounts.permissions import can, require
from shouwang.care import selectors, services
from shouwang.core.errors import invalid
from shouwang.registry.models import CareTag

router = Router(tags=["care"])
LIST_LIMIT = 500


class PersonRow(Schema):
    id: int
    name: str
    household_id: int
    grid: str | None
    tags: list[str]
    state: str
    every_days: int
    last_at: dt.datetime | None
    last_outcome: str | None
    days_since: int | None
    pairing_id: int | None
    carer_id: int | None
    carer_resident_id: int | None
    carer: str


class FollowUpOut(Schema):
    id: int
    at: dt.datetime
    mode: str
    outcome: str
    # Health information: empty for roles without care.view.
    condition: str
    needs: str
    by: str
    request_id: int | None
    request_reference: str | None


class PairingOut(Schema):
    id: int
    carer_id: int | None
    carer_resident_id: int | None
    carer: str
    every_days: int | None
    note: str
    started_at: dt.datetime
    ended_at: dt.datetime | None


class PersonOut(PersonRow):
    on_list: bool
    pairing: PairingOut | None
    follow_ups: list[FollowUpOut]


class RequestIn(Schema):
    category_id: int
    urgency: int | None = None
    owner_id: int | None = None
    summary: str = ""


class FollowUpIn(Schema):
    mode: str
    outcome: str
    condition: str = ""
    needs: str = ""
    at: dt.datetime | None = None
    by_name: str = ""
    client_key: str = ""
    # The need as a help-line request in the same step.
    request: RequestIn | None = None


class RequestOut(Schema):
    id: int
    reference: str
    status: str
    follow_up_id: int


class PairingIn(Schema):
    carer_id: int | None = None
    carer_resident_id: int | None = None
    every_days: int | None = None
    note: str = ""


class PolicyOut(Schema):
    tags: list[str]
    tag_bits: int
    default_tags: bool
    every_days: int


class PolicyPatch(Schema):
    tags: list[str] | None = None
    every_days: int | None = None


def _row(r) -> dict:
    grid = r.household.building.grid
    return {
        "id": r.pk,
        "name": r.name,
        "household_id": r.household_id,
        "grid": grid.name if grid else None,
        "tags": [t.name.lower() for t in CareTag if r.tags & t.value],
        "state": r.state,
        "every_days": r.every,
        "last_at": r.last_at,
        "last_outcome": r.last_outcome,
        "days_since": selectors.days_since(r.last_at),
        "pairing_id": r.pairing_id,
        "carer_id": r.carer_id,
        "carer_resident_id": r.carer_resident_id,
        "carer": getattr(r, "carer_name", ""),
    }


def _follow_up(fu, details: bool) -> dict:
    return {
        "id": fu.pk,
        "at": fu.at,
        "mode": fu.mode,
        "outcome": fu.outcome,
        "condition": fu.condition if details else "",
        "needs": fu.needs if details else "",
        "by": fu.by.label if fu.by_id else fu.by_name,
        "request_id": fu.request_id,
        "request_reference": fu.request.reference if fu.request_id else None,
    }


def _pairing(p) -> dict | None:
    if p is None:
        return None
    return {
        "id": p.pk,
        "carer_id": p.carer_id,
        "carer_resident_id": p.carer_resident_id,
        "carer": p.carer_name,
        "every_days": p.every_days,
        "note": p.note,
        "started_at": p.started_at,
        "ended_at": p.ended_at,
    }


def _person(user, pk) -> dict:
    p = selectors.person_for(user, pk)
    selectors.with_carers([p])
    out = _row(p)
    out["on_list"] = p.on_list
    out["pairing"] = _pairing(selectors.live_pairing(p))
    details = can(user, "care.view")
    out["follow_ups"] = [_follow_up(fu, details) for fu in selectors.follow_ups_of(p)]
    return out


@router.get("/people", response=list[PersonRow], summary="The people to look after")
def people(
    request,
    state: str | None = None,
    grid_id: int | None = None,
    carer_id: int | None = None,
    carer_resident_id: int | None = None,
    mine: bool = False,
    unpaired: bool = False,
    q: str | None = None,
):
    require(request.auth, "care.view")
    user = request.auth
    if state and state not in selectors.STATES:
        raise invalid("state", f"state is one of {', '.join(selectors.STATES)}")
    qs = selectors.care_list(
        user,
        state=state or "",
        grid_id=grid_id,
        carer_id=user.pk if mine else carer_id,
        carer_resident_id=carer_resident_id,
        unpaired=unpaired,
        q=q or "",
    )
    return [_row(r) for r in selectors.with_carers(list(qs[:LIST_LIMIT]))]


@router.get("/people/{resident_id}", response=PersonOut, summary="One person, with follow-ups")
def person(request, resident_id: int):
    require(request.auth, "care.view")
    return _person(request.auth, resident_id)


@router.post(
    "/people/{resident_id}/follow-ups",
    response={201: FollowUpOut},
    summary="Record a follow-up (and its need as a request)",
)
def follow_up(request, resident_id: int, payload: FollowUpIn):
    require(request.auth, "care.follow")
    user = request.auth
    p = selectors.person_for(user, resident_id)
    r = payload.request
    fu = services.record_follow_up(
        actor=user,
        resident=p,
        mode=payload.mode,
        outcome=payload.outcome,
        condition=payload.condition,
        needs=payload.needs,
        at=payload.at,
        by_name=payload.by_name,
        client_key=payload.client_key,
        request_category=selectors.request_category(user.community_id, r.category_id)
        if r
        else None,
        request_urgency=r.urgency if r else None,
        request_owner=selectors.request_owner(user.community_id, r.owner_id) if r else None,
    )
    return Status(201, _follow_up(fu, True))


@router.post(
    "/follow-ups/{follow_up_id}/request",
    response={201: RequestOut},
    summary="Turn a follow-up's need into a help-line request",
)
def to_request(request, follow_up_id: int, payload: RequestIn):
    require(request.auth, "care.follow")
    user = request.auth
    fu = selectors.follow_up_for(user, follow_up_id)
    req = services.need_to_request(
        actor=user,
        follow_up=fu,
        category=selectors.request_category(user.community_id, payload.category_id),
        urgency=payload.urgency,
        summary=payload.summary,
        owner=selectors.request_owner(user.community_id, payload.owner_id),
    )
    return Status(
        201, {"id": req.pk, "reference": req.reference, "status": req.status, "follow_up_id": fu.pk}
    )


@router.post("/people/{resident_id}/pairing", response=PairingOut, summary="Pair with a carer")
def pairing(request, resident_id: int, payload: PairingIn):
    require(request.auth, "care.manage")
    user = request.auth
    p = selectors.person_for(user, resident_id)
    carer = carer_resident = None
    if payload.carer_id is not None:
        carer = selectors.carers_for(user.community_id).filter(pk=payload.carer_id).first()
        if carer is None:
            raise invalid("carer_id", "The carer must be an active staff member here.")
    if payload.carer_resident_id is not None:
        carer_resident = (
            selectors.party_members_for(user.community_id)
            .filter(pk=payload.carer_resident_id)
            .first()
        )
        if carer_resident is None:
            raise invalid("carer_resident_id", "The carer must be a party member living here.")
    made = services.pair(
        actor=user,
        resident=p,
        carer=carer,
        carer_resident=carer_resident,
        every_days=payload.every_days,
        note=payload.note,
    )
    return _pairing(made)


@router.post("/people/{resident_id}/unpair", response=PairingOut, summary="End the pairing")
def unpair(request, resident_id: int):
    require(request.auth, "care.manage")
    user = request.auth
    return _pairing(services.unpair(actor=user, resident=selectors.person_for(user, resident_id)))


def _policy_out(policy) -> dict:
    bits = selectors.tags_of(policy)
    return {
        "tags": [t.name.lower() for t in CareTag if bits & t.value],
        "tag_bits": bits,
        "default_tags": not policy.tags,
        "every_days": policy.every_days,
    }


@router.get("/policy", response=PolicyOut, summary="The care rules")
def policy(request):
    require(request.auth, "care.manage")
    return _policy_out(selectors.policy_for(request.auth.community_id))


@router.patch("/policy", response=PolicyOut, summary="Change the care rules")
def policy_patch(request, payload: PolicyPatch):
    require(request.auth, "care.manage")
    user = request.auth
    current = selectors.policy_for(user.community_id)
    bits = selectors.tags_of(current)
    if payload.tags is not None:
        names = {t.name.lower(): t.value for t in CareTag}
        unknown = [t for t in payload.tags if t not in names]
        if unknown:
            raise invalid("tags", f"Unknown tags: {', '.join(unknown)}; use {', '.join(names)}.")
        bits = sum({names[t] for t in payload.tags})
    done = services.policy_update(
        actor=user,
        community_id=user.community_id,
        tags=bits,
        every_days=payload.every_days if payload.every_days is not None else current.every_days,
    )
    return _policy_out(done)
