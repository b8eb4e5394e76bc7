"""/api/v1/helpline/: the requests ledger — the same rules (intake.py) as the pages.

    GET  /requests?show=&status=&group=&grid_id=&q=    POST /requests
    GET  /requests/{id}                                 POST /requests/{id}/assign
    POST /requests/{id}/start                           POST /requests/{id}/note
    POST /requests/{id}/resolve                         POST /requests/{id}/callback
    POST /requests/{id}/reopen                          GET  /phone?phone=

`show` is open (default), mine, overdue, callback or all. Health and mental-health details
(`details`, `resolution`, notes) are null for those who may not read them
(selectors.may_see_details). The caller's phone is masked unless the user works the request.
Refusals in the API's error shape: `not_owner` (403), `not_live`, `not_resolved`, `closed`,
`live` (409), `invalid` with the field.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from shouwang.accounts.permissions import require
from shouwang.accounts.scope import get_scoped
from shouwang.core.errors import invalid
from shouwang.helpline import intake, selectors
from shouwang.helpline.models import Answer, Category, Channel, HelpRequest, Urgency
from shouwang.helpline.views.ledger import ledger_rows

router = Router()
LIST_LIMIT = 500


class EventOut(Schema):
    kind: str
    at: dt.datetime
    by: str
    from_user: str
    to_user: str
    status: str
    text: str | None


class RequestOut(Schema):
    id: int
    reference: str
    channel: str
    household_id: int | None
    resident_id: int | None
    resident: str
    caller_name: str
    caller_phone: str
    category_id: int
    category: str
    group: str
    urgency: int
    summary: str
    # Null for those who may not read a health or mental-health request's details.
    details: str | None
    owner_id: int | None
    owner: str
    status: str
    due_at: dt.datetime
    overdue: bool
    resolution: str | None
    answer_id: int | None
    resolved_at: dt.datetime | None
    callback_at: dt.datetime | None
    satisfaction: str
    callback_note: str
    escalated_at: dt.datetime | None
    intake_seconds: int | None
    created_at: dt.datetime
    may_work: bool


class RequestDetailOut(RequestOut):
    events: list[EventOut]


class RequestIn(Schema):
    category_id: int
    summary: str
    urgency: int = Urgency.NONE
    channel: str = Channel.PHONE
    household_id: int | None = None
    resident_id: int | None = None
    caller_name: str = ""
    caller_phone: str = ""
    details: str = ""
    # Omitted: the caller owns it when they take calls; null: nobody yet.
    owner_id: int | None = -1
    client_key: str = ""
    intake_seconds: int | None = None


class AssignIn(Schema):
    owner_id: int
    text: str = ""


class NoteIn(Schema):
    text: str


class ResolveIn(Schema):
    resolution: str
    resolved: bool = True
    answer_id: int | None = None


class CallbackIn(Schema):
    satisfaction: str
    note: str = ""


class ReasonIn(Schema):
    reason: str


class MemberOut(Schema):
    id: int
    name: str
    relation: str
    phone_owner: bool


class PhoneMatchOut(Schema):
    household_id: int
    place: str
    head: str
    members: list[MemberOut]
    resident_id: int | None
    via_request: str
    open_requests: int


def _name(user) -> str:
    return user.label if user is not None else ""


def request_out(user, r: HelpRequest, *, now=None) -> dict:
    now = now or timezone.now()
    details = selectors.may_see_details(user, r)
    work = intake.may_work(user, r)
    return {
        "id": r.pk,
        "reference": r.reference,
        "channel": r.channel,
        "household_id": r.household_id,
        "resident_id": r.resident_id,
        "resident": r.resident.name if r.resident_id else "",
        "caller_name": r.caller_name,
        "caller_phone": intake.caller_phone(user, r) or r.caller_phone_masked,
        "category_id": r.category_id,
        "category": r.category.name,
        "group": r.group,
        "urgency": r.urgency,
        "summary": r.summary,
        "details": r.details if details else None,
        "owner_id": r.owner_id,
        "owner": _name(r.owner),
        "status": r.status,
        "due_at": r.due_at,
        "overdue": r.is_live and r.due_at < now,
        "resolution": r.resolution if details else None,
        "answer_id": r.answer_id,
        "resolved_at": r.resolved_at,
        "callback_at": r.callback_at,
        "satisfaction": r.satisfaction,
        "callback_note": r.callback_note,
        "escalated_at": r.escalated_at,
        "intake_seconds": r.intake_seconds,
        "created_at": r.created_at,
        "may_work": work,
    }


def _detail(user, pk: int) -> dict:
    """A request with its log, read afresh (after a service changed it, too)."""
    r = selectors.request_for(user, pk)
    out = request_out(user, r)
    details = selectors.may_see_details(user, r)
    out["events"] = [
        {
            "kind": e.kind,
            "at": e.at,
            "by": _name(e.by),
            "from_user": _name(e.from_user),
            "to_user": _name(e.to_user),
            "status": e.status,
            "text": None if selectors.event_text_hidden(e, details) else e.text,
        }
        for e in r.events.select_related("by", "from_user", "to_user")
    ]
    return out


def _duty_user(community_id: int, pk: int | None, field: str = "owner_id"):
    if pk is None:
        return None
    owner = selectors.duty_users(community_id).filter(pk=pk).first()
    if owner is None:
        raise invalid(field, _("The owner must be someone of this community who takes calls."))
    return owner


@router.get("/requests", response=list[RequestOut], summary="The requests ledger")
def requests_list(
    request,
    show: str = "open",
    status: str = "",
    group: str = "",
    grid_id: int | None = Query(None),
    q: str = "",
):
    """Most urgent first, then by due time; at most 500."""
    user = request.auth
    require(user, "helpline.take")
    now = timezone.now()
    qs, _f = ledger_rows(
        user,
        {"show": show, "status": status, "group": group, "grid": grid_id, "q": q},
        now=now,
    )
    return [request_out(user, r, now=now) for r in qs[:LIST_LIMIT]]


@router.post("/requests", response={201: RequestDetailOut}, summary="Log a request")
def request_create(request, payload: RequestIn):
    """The same `client_key` again returns the request it made."""
    from shouwang.registry.selectors import households_for, residents_for

    user = request.auth
    require(user, "helpline.take")
    category = get_scoped(user, Category.objects.all(), payload.category_id)
    household = resident = None
    if payload.household_id is not None:
        household = get_scoped(
            user,
            households_for(user),
            payload.household_id,
        )
    if payload.resident_id is not None:
        resident = get_scoped(user, residents_for(user), payload.resident_id)
    if payload.owner_id == -1:
        owner = selectors.duty_users(user.community_id).filter(pk=user.pk).first()
    else:
        owner = _duty_user(user.community_id, payload.owner_id)
    seconds = payload.intake_seconds
    if seconds is not None and not 0 <= seconds <= 24 * 3600:
        raise invalid("intake_seconds", _("Give the seconds the intake took."))
    r = intake.log_request(
        user,
        community_id=user.community_id,
        category=category,
        summary=payload.summary,
        urgency=payload.urgency,
        channel=payload.channel,
        household=household,
        resident=resident,
        caller_name=payload.caller_name,
        caller_phone=payload.caller_phone,
        details=payload.details,
        owner=owner,
        client_key=payload.client_key[:64],
        intake_seconds=seconds,
    )
    return Status(201, _detail(user, r.pk))


@router.get("/requests/{request_id}", response=RequestDetailOut, summary="A request and its log")
def request_detail(request, request_id: int):
    user = request.auth
    require(user, "helpline.take")
    return _detail(user, request_id)


@router.post("/requests/{request_id}/assign", response=RequestDetailOut, summary="Assign")
def request_assign(request, request_id: int, payload: AssignIn):
    user = request.auth
    require(user, "helpline.take")
    r = selectors.request_for(user, request_id)
    owner = _duty_user(r.community_id, payload.owner_id)
    return _detail(user, intake.assign(user, r, owner, text=payload.text).pk)


@router.post("/requests/{request_id}/start", response=RequestDetailOut, summary="Start on it")
def request_start(request, request_id: int):
    """In progress; an unowned request becomes the caller's."""
    user = request.auth
    require(user, "helpline.take")
    return _detail(user, intake.start(user, selectors.request_for(user, request_id)).pk)


@router.post("/requests/{request_id}/note", response=RequestDetailOut, summary="Add a note")
def request_note(request, request_id: int, payload: NoteIn):
    user = request.auth
    require(user, "helpline.take")
    r = selectors.request_for(user, request_id)
    intake.note(user, r, payload.text)
    return _detail(user, r.pk)


@router.post("/requests/{request_id}/resolve", response=RequestDetailOut, summary="Resolve")
def request_resolve(request, request_id: int, payload: ResolveIn):
    """Resolved (or `resolved: false`: could not be), with the resolution and the knowledge-base
    answer quoted, if any."""
    user = request.auth
    require(user, "helpline.take")
    r = selectors.request_for(user, request_id)
    answer = None
    if payload.answer_id is not None:
        answer = Answer.objects.filter(pk=payload.answer_id, community_id=r.community_id).first()
        if answer is None:
            raise invalid("answer_id", _("Quote one of the community's current answers."))
    r = intake.resolve(
        user, r, resolution=payload.resolution, resolved=payload.resolved, answer=answer
    )
    return _detail(user, r.pk)


@router.post("/requests/{request_id}/callback", response=RequestDetailOut, summary="Call back")
def request_callback(request, request_id: int, payload: CallbackIn):
    """After the resolution: what the resident said; the request is closed."""
    user = request.auth
    require(user, "helpline.take")
    r = selectors.request_for(user, request_id)
    r = intake.callback(user, r, satisfaction=payload.satisfaction, text=payload.note)
    return _detail(user, r.pk)


@router.post("/requests/{request_id}/reopen", response=RequestDetailOut, summary="Reopen")
def request_reopen(request, request_id: int, payload: ReasonIn):
    user = request.auth
    require(user, "helpline.take")
    r = selectors.request_for(user, request_id)
    return _detail(user, intake.reopen(user, r, reason=payload.reason).pk)


@router.get("/phone", response=list[PhoneMatchOut], summary="Households of a caller's number")
def phone_lookup(request, phone: str = ""):
    """The households the number opens (a member's phone first, then households earlier calls
    from it were about), with their members to pick whom a request is for."""
    user = request.auth
    require(user, "helpline.take")
    out = []
    for m in intake.households_by_phone(user, phone):
        h = m.household
        d = h.dwelling
        place = " ".join(
            p
            for p in (
                h.building.compound.name,
                h.building.name,
                d.unit.name if d.unit_id else "",
                d.door,
            )
            if p
        )
        out.append(
            {
                "household_id": h.pk,
                "place": place,
                "head": h.head.name if h.head_id else "",
                "members": [
                    {
                        "id": p.pk,
                        "name": p.name,
                        "relation": p.relation,
                        "phone_owner": m.resident is not None and p.pk == m.resident.pk,
                    }
                    for p in m.members
                ],
                "resident_id": m.resident.pk if m.resident else None,
                "via_request": m.via_request.reference if m.via_request else "",
                "open_requests": m.live,
            }
        )
    return out
