"""/api/v1/volunteers/: people and teams. The rules are in people.py, as for the pages.

POST /signup                      GET /me          PATCH /me       POST /me/declaration
GET  /people?status=&team_id=&skill=&q=            POST /people    GET /people/{id}
POST /people/{id}/approve|pause|activate|leave|move|link
GET  /teams                       POST /teams      PATCH /teams/{id}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Router, Schema, Status

from shouwang.accounts.permissions import can, require
from shouwang.accounts.scope import get_scoped
from shouwang.core.errors import Forbidden, invalid
from shouwang.core.masking import mask_phone
from shouwang.volunteers import people
from shouwang.volunteers.models import Team, Volunteer
from shouwang.volunteers.selectors import teams_for, volunteer_for, volunteer_of

router = Router()
LIST_LIMIT = 500


class SignupIn(Schema):
    name: str
    phone: str
    origin: str = "resident"
    organisation: str = ""
    skills: list[str] = []
    skills_note: str = ""
    wish_ids: list[int] = []


class ProfilePatch(Schema):
    name: str | None = None
    phone: str | None = None
    origin: str | None = None
    organisation: str | None = None
    skills: list[str] | None = None
    skills_note: str | None = None
    wish_ids: list[int] | None = None
    hide_from_board: bool | None = None


class DeclarationIn(Schema):
    temperature: str | None = None
    symptoms: bool = False
    contact: bool = False


class DeclarationOut(Schema):
    date: dt.date
    temperature: Decimal | None
    symptoms: bool
    contact: bool
    well: bool
    at: dt.datetime


class VolunteerOut(Schema):
    id: int
    name: str
    phone: str  # masked unless the caller manages volunteers or it is their own
    origin: str
    organisation: str
    skills: list[str]
    skills_note: str
    wish_ids: list[int]
    team_id: int | None
    team: str | None
    status: str
    has_login: bool
    resident_id: int | None
    hide_from_board: bool
    joined_at: dt.datetime
    approved_at: dt.datetime | None
    declared_today: DeclarationOut | None = None


class PersonIn(Schema):
    name: str
    phone: str
    origin: str = "resident"
    organisation: str = ""
    skills: list[str] = []
    skills_note: str = ""
    wish_ids: list[int] = []
    team_id: int | None = None
    note: str = ""


class MoveOut(Schema):
    id: int
    from_team_id: int | None
    to_team_id: int | None
    emergency: bool
    reason: str
    at: dt.datetime


class PersonOut(VolunteerOut):
    note: str = ""
    moves: list[MoveOut] = []


class ApproveIn(Schema):
    team_id: int | None = None


class ReasonIn(Schema):
    reason: str = ""


class MoveIn(Schema):
    team_id: int | None = None
    emergency: bool = False
    reason: str = ""


class LinkIn(Schema):
    resident_id: int | None = None


class TeamIn(Schema):
    name: str
    kind: str
    description: str = ""
    leader_id: int | None = None
    is_active: bool = True


class TeamPatch(Schema):
    name: str | None = None
    kind: str | None = None
    description: str | None = None
    leader_id: int | None = None
    is_active: bool | None = None


class TeamOut(Schema):
    id: int
    name: str
    kind: str
    description: str
    leader_id: int | None
    leader: str | None
    is_active: bool
    active_count: int
    member_count: int


def _out(v: Volunteer, *, full_phone: bool, declaration=False) -> dict:
    out = {
        "id": v.pk,
        "name": v.name,
        "phone": people.national(v.phone) if full_phone else mask_phone(v.phone),
        "origin": v.origin,
        "organisation": v.organisation,
        "skills": list(v.skills),
        "skills_note": v.skills_note,
        "wish_ids": [t.pk for t in v.wishes.all()],
        "team_id": v.team_id,
        "team": v.team.name if v.team_id else None,
        "status": v.status,
        "has_login": v.user_id is not None,
        "resident_id": v.resident_id,
        "hide_from_board": v.hide_from_board,
        "joined_at": v.joined_at,
        "approved_at": v.approved_at,
    }
    if declaration:
        out["declared_today"] = people.declaration_today(v)
    return out


def _person_out(user, v: Volunteer) -> dict:
    out = _out(v, full_phone=can(user, "volunteers.manage"), declaration=True)
    out["note"] = v.note
    out["moves"] = list(v.moves.order_by("at", "pk"))
    return out


def _mine(user) -> Volunteer:
    v = volunteer_of(user)
    if v is None:
        raise Forbidden(
            "not_volunteer", "You have not signed up as a volunteer yet: sign up first."
        )
    return v


def _team(user, team_id):
    if team_id is None:
        return None
    return get_scoped(user, Team.objects.all(), team_id)


def _leader(user, leader_id):
    if leader_id is None:
        return None
    return volunteer_for(user, leader_id)


# --- the volunteer themselves --------------------------------------------------------------------


@router.post("/signup", response={201: VolunteerOut}, summary="Sign up as a volunteer")
def signup(request, payload: SignupIn):
    require(request.auth, "volunteers.serve")
    user = request.auth
    v = people.sign_up(
        community=user.community,
        name=payload.name,
        phone=payload.phone,
        origin=payload.origin,
        organisation=payload.organisation,
        skills=payload.skills,
        skills_note=payload.skills_note,
        wishes=payload.wish_ids,
        user=user,
    )
    return Status(201, _out(v, full_phone=True, declaration=True))


@router.get("/me", response=VolunteerOut, summary="My volunteer profile")
def me(request):
    require(request.auth, "volunteers.serve")
    return _out(_mine(request.auth), full_phone=True, declaration=True)


@router.patch("/me", response=VolunteerOut, summary="Change my volunteer profile")
def me_patch(request, payload: ProfilePatch):
    require(request.auth, "volunteers.serve")
    v = _mine(request.auth)
    fields = payload.dict(exclude_unset=True)
    if "wish_ids" in fields:
        fields["wishes"] = fields.pop("wish_ids") or []
    fields = {k: v_ for k, v_ in fields.items() if v_ is not None or k == "wishes"}
    v = people.update_profile(actor=request.auth, volunteer=v, **fields)
    return _out(v, full_phone=True, declaration=True)


@router.post("/me/declaration", response=DeclarationOut, summary="Today's health declaration")
def declaration(request, payload: DeclarationIn):
    require(request.auth, "volunteers.serve")
    return people.declare(
        volunteer=_mine(request.auth),
        temperature=payload.temperature,
        symptoms=payload.symptoms,
        contact=payload.contact,
    )


# --- staff ---------------------------------------------------------------------------------------


@router.get("/people", response=list[VolunteerOut], summary="The community's volunteers")
def people_list(
    request,
    status: str | None = None,
    team_id: int | None = None,
    skill: str | None = None,
    q: str | None = None,
):
    require(request.auth, "volunteers.view")
    user = request.auth
    qs = people.people_for(
        user, status=status or "", team_id=team_id, skill=skill or "", q=q or ""
    ).prefetch_related("wishes")
    full = can(user, "volunteers.manage")
    return [_out(v, full_phone=full) for v in qs[:LIST_LIMIT]]


@router.post("/people", response={201: PersonOut}, summary="Add a volunteer without a login")
def person_create(request, payload: PersonIn):
    require(request.auth, "volunteers.manage")
    user = request.auth
    v = people.add(
        actor=user,
        community=user.community,
        name=payload.name,
        phone=payload.phone,
        origin=payload.origin,
        organisation=payload.organisation,
        skills=payload.skills,
        skills_note=payload.skills_note,
        wishes=payload.wish_ids,
        team=_team(user, payload.team_id),
        note=payload.note,
    )
    return Status(201, _person_out(user, v))


@router.get("/people/{volunteer_id}", response=PersonOut, summary="One volunteer")
def person_get(request, volunteer_id: int):
    require(request.auth, "volunteers.view")
    return _person_out(request.auth, volunteer_for(request.auth, volunteer_id))


@router.post("/people/{volunteer_id}/approve", response=PersonOut, summary="Approve a sign-up")
def person_approve(request, volunteer_id: int, payload: ApproveIn | None = None):
    require(request.auth, "volunteers.manage")
    user = request.auth
    v = volunteer_for(user, volunteer_id)
    team = _team(user, payload.team_id if payload else None)
    return _person_out(user, people.approve(actor=user, volunteer=v, team=team))


@router.post("/people/{volunteer_id}/pause", response=PersonOut, summary="Pause a volunteer")
def person_pause(request, volunteer_id: int, payload: ReasonIn | None = None):
    require(request.auth, "volunteers.manage")
    user = request.auth
    v = volunteer_for(user, volunteer_id)
    reason = payload.reason if payload else ""
    return _person_out(user, people.pause(actor=user, volunteer=v, reason=reason))


@router.post("/people/{volunteer_id}/activate", response=PersonOut, summary="Make active again")
def person_activate(request, volunteer_id: int):
    require(request.auth, "volunteers.manage")
    user = request.auth
    v = volunteer_for(user, volunteer_id)
    return _person_out(user, people.activate(actor=user, volunteer=v))


@router.post("/people/{volunteer_id}/leave", response=PersonOut, summary="A volunteer leaves")
def person_leave(request, volunteer_id: int, payload: ReasonIn):
    require(request.auth, "volunteers.manage")
    user = request.auth
    v = volunteer_for(user, volunteer_id)
    return _person_out(user, people.leave(actor=user, volunteer=v, reason=payload.reason))


@router.post("/people/{volunteer_id}/move", response=MoveOut, summary="Move between teams")
def person_move(request, volunteer_id: int, payload: MoveIn):
    require(request.auth, "volunteers.manage")
    user = request.auth
    v = volunteer_for(user, volunteer_id)
    return people.move(
        actor=user,
        volunteer=v,
        team=_team(user, payload.team_id),
        emergency=payload.emergency,
        reason=payload.reason,
    )


@router.post("/people/{volunteer_id}/link", response=PersonOut, summary="Link the resident record")
def person_link(request, volunteer_id: int, payload: LinkIn):
    from shouwang.registry.models import Resident

    require(request.auth, "volunteers.manage")
    user = request.auth
    v = volunteer_for(user, volunteer_id)
    resident = None
    if payload.resident_id is not None:
        resident = Resident.objects.filter(
            community_id=user.community_id, pk=payload.resident_id
        ).first()
        if resident is None:
            raise invalid("resident_id", "No such resident in your community.")
    return _person_out(user, people.link_resident(actor=user, volunteer=v, resident=resident))


# --- teams ---------------------------------------------------------------------------------------


def _team_out(t: Team) -> dict:
    return {
        "id": t.pk,
        "name": t.name,
        "kind": t.kind,
        "description": t.description,
        "leader_id": t.leader_id,
        "leader": t.leader.name if t.leader_id else None,
        "is_active": t.is_active,
        "active_count": getattr(t, "active_count", 0),
        "member_count": getattr(t, "member_count", 0),
    }


def _counted(user, pk: int) -> Team:
    return people.teams_with_counts(user.community_id).get(pk=pk)


@router.get("/teams", response=list[TeamOut], summary="Teams with member counts")
def teams_list(request):
    # Volunteers pick wishes from these, so everyone who serves may read them.
    if not can(request.auth, "volunteers.view"):
        require(request.auth, "volunteers.serve")
    return [_team_out(t) for t in people.teams_with_counts(request.auth.community_id)]


@router.post("/teams", response={201: TeamOut}, summary="Add a team")
def team_create(request, payload: TeamIn):
    require(request.auth, "volunteers.manage")
    user = request.auth
    teams_for(user.community_id)  # the six defaults first, so the new one comes after
    t = people.team_save(
        actor=user,
        community=user.community,
        name=payload.name,
        kind=payload.kind,
        description=payload.description,
        leader=_leader(user, payload.leader_id),
        is_active=payload.is_active,
    )
    return Status(201, _team_out(_counted(user, t.pk)))


@router.patch("/teams/{team_id}", response=TeamOut, summary="Change a team")
def team_patch(request, team_id: int, payload: TeamPatch):
    require(request.auth, "volunteers.manage")
    user = request.auth
    t = _team(user, team_id)
    given = payload.dict(exclude_unset=True)
    leader = t.leader
    if "leader_id" in given:
        leader = _leader(user, given["leader_id"])
    t = people.team_save(
        actor=user,
        community=user.community,
        team=t,
        name=given.get("name") if given.get("name") is not None else t.name,
        kind=given.get("kind") if given.get("kind") is not None else t.kind,
        description=(
            given.get("description") if given.get("description") is not None else t.description
        ),
        leader=leader,
        is_active=given.get("is_active") if given.get("is_active") is not None else t.is_active,
    )
    return _team_out(_counted(user, t.pk))
