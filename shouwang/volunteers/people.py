"""People: signing up as a volunteer, staff approving, pausing and moving them between teams, the
daily health declaration, the teams themselves and the community's volunteer policy.

Every write is here (the pages and the API only parse, check the capability and call these), runs
in one transaction and writes its audit row there. Pausing or leaving frees the person's future
places through the tasks part's `cancel`, so the waiting list moves up as for any cancellation.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, IntegerField, Max, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.accounts.permissions import can
from shouwang.accounts.scope import scope_queryset
from shouwang.core.audit import audit
from shouwang.core.errors import Conflict, DomainError, Forbidden, invalid
from shouwang.volunteers.models import (
    LIVE,
    Declaration,
    Origin,
    Policy,
    Signup,
    Skill,
    Team,
    TeamKind,
    TeamMove,
    Volunteer,
    VolunteerStatus,
)
from shouwang.volunteers.selectors import policy_for, teams_for

NAME_MAX = 50
# A body temperature outside this range is a typing slip (3.65, 365), not a reading.
TEMPERATURE_RANGE = (Decimal("34.0"), Decimal("43.0"))
POLICY_FIELDS = {
    # field: (least, most)
    "no_show_limit": (1, 20),
    "no_show_days": (1, 365),
    "cancel_hours": (0, 72),
    "check_in_early_minutes": (0, 240),
}
PROFILE_FIELDS = (
    "name",
    "phone",
    "origin",
    "organisation",
    "skills",
    "skills_note",
    "wishes",
    "hide_from_board",
)
STAFF_ONLY_FIELDS = ("note",)


# --- checks shared by the writes ---------------------------------------------------------------


def _require_manage(actor, community_id: int) -> None:
    if not can(actor, "volunteers.manage") or actor.community_id != community_id:
        raise Forbidden("forbidden", _("Only the committee office can do that for this community."))


def _clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise invalid("name", _("Write your name, as people call you (e.g. 王小明)."))
    if len(name) > NAME_MAX:
        raise invalid(
            "name", _("The name is too long: at most %(n)d characters.") % {"n": NAME_MAX}
        )
    return name


def clean_phone(raw) -> str:
    """A Chinese mobile number as E.164 (+8613912345678), with the ledger's own check."""
    from shouwang.registry.validation import InvalidValue, check_mobile

    try:
        phone = check_mobile(str(raw or "").strip())
    except InvalidValue as e:
        raise invalid("phone", str(e.message)) from None
    if not phone:
        raise invalid(
            "phone",
            _("Write your 11-digit mobile number (e.g. 13912345678): staff call you on it."),
        )
    return phone


def national(phone: str) -> str:
    """+8613912345678 → 13912345678 (the sign-in name of a volunteer who signed up alone)."""
    return phone[3:] if phone.startswith("+86") else phone


def _same_phone(community_id: int, phone: str, *, exclude_pk=None):
    qs = Volunteer.objects.filter(community_id=community_id, phone__in=[phone, national(phone)])
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs


def _duplicate_phone() -> Conflict:
    msg = _(
        "This phone number has already signed up as a volunteer. Sign in with it (the phone "
        "number and your password), or ask the committee if you forgot the password."
    )
    return Conflict("duplicate", msg, fields={"phone": msg})


def _clean_origin(origin) -> str:
    if origin not in Origin.values:
        raise invalid("origin", _("Choose who you are: living here, from outside, cadre or staff."))
    return origin


def _clean_skills(skills: Iterable) -> list[str]:
    out = []
    for s in skills or ():
        if s not in Skill.values:
            raise invalid("skills", _("Unknown skill “%(s)s”: tick from the list.") % {"s": s})
        if s not in out:
            out.append(s)
    return out


def _clean_wishes(community_id: int, wishes: Iterable) -> list[Team]:
    ids = [getattr(w, "pk", w) for w in wishes or ()]
    teams = list(Team.objects.filter(community_id=community_id, is_active=True, pk__in=ids))
    if len(teams) != len(set(ids)):
        raise invalid("wishes", _("Pick the teams from the list of this community's teams."))
    return teams


def _clean_team(community_id: int, team) -> Team | None:
    if team is None or team == "":
        return None
    if not isinstance(team, Team):
        team = Team.objects.filter(community_id=community_id, pk=team).first()
    if team is None or team.community_id != community_id:
        raise invalid("team", _("Pick a team of this community."))
    if not team.is_active:
        raise invalid("team", _("This team is no longer in use: pick another."))
    return team


def _text(value, field: str, most: int) -> str:
    value = " ".join(str(value or "").split())
    if len(value) > most:
        raise invalid(field, _("Too long: at most %(n)d characters.") % {"n": most})
    return value


def _who(v: Volunteer) -> str:
    return f"{v.name} ({v.pk})"


# --- signing up ---------------------------------------------------------------------------------


@transaction.atomic
def sign_up(
    *,
    community,
    name,
    phone,
    origin,
    organisation="",
    skills=(),
    skills_note="",
    wishes=(),
    user=None,
    password=None,
) -> Volunteer:
    """A volunteer signs themselves up (status pending until staff approve). Signed in: a profile
    for that user (a retry returns it). Signed out: a new user to sign in with — the phone's
    11 digits and the password chosen — and the profile."""
    from shouwang.accounts.models import Role, User

    if user is not None and getattr(user, "is_authenticated", False):
        existing = Volunteer.objects.filter(user=user).first()
        if existing is not None:
            return existing  # a phone that pressed twice
        if user.community_id != community.pk:
            raise Forbidden("other_community", _("You can only sign up in your own community."))
    else:
        user = None
    # Every wrong field at once: on a small screen, one round trip per mistake is unkind.
    errors: dict = {}

    def check(fn, *args):
        try:
            return fn(*args)
        except DomainError as e:
            errors.update(e.fields or {"__all__": e.message})
            return None

    name = check(_clean_name, name)
    phone = check(clean_phone, phone)
    origin = check(_clean_origin, origin)
    organisation = check(_text, organisation, "organisation", 100)
    skills = check(_clean_skills, skills)
    skills_note = check(_text, skills_note, "skills_note", 200)
    teams = check(_clean_wishes, community.pk, wishes)
    if user is None:
        if not password:
            errors["password"] = _("Choose a password to sign in with later.")
        else:
            probe = User(username=national(phone or ""), display_name=name or "")
            try:
                validate_password(password, user=probe)
            except ValidationError as e:
                errors["password"] = " ".join(e.messages)
    if errors:
        raise DomainError("invalid", next(iter(errors.values())), fields=errors)
    if _same_phone(community.pk, phone).exists():
        raise _duplicate_phone()
    if user is None:
        username = national(phone)
        if User.objects.filter(username=username).exists():
            raise _duplicate_phone()
        candidate = User(username=username, display_name=name, role=Role.VOLUNTEER)
        candidate.community = community
        candidate.set_password(password)
        try:
            # Two presses of "sign up" at once: the second finds the username taken.
            with transaction.atomic():
                candidate.save()
        except IntegrityError:
            raise _duplicate_phone() from None
        user = candidate
        actor = user
    else:
        actor = user
    v = Volunteer.objects.create(
        community=community,
        user=user,
        name=name,
        phone=phone,
        origin=origin,
        organisation=organisation,
        skills=skills,
        skills_note=skills_note,
        status=VolunteerStatus.PENDING,
    )
    if teams:
        v.wishes.set(teams)
    audit(
        actor=actor,
        action="volunteers.sign_up",
        community=community,
        target=v,
        summary=f"{_who(v)} {origin}",
    )
    return v


@transaction.atomic
def add(
    *,
    actor,
    community,
    name,
    phone,
    origin,
    organisation="",
    skills=(),
    skills_note="",
    wishes=(),
    team=None,
    note="",
) -> Volunteer:
    """Staff add a volunteer without a login (an older party member serving at the gate):
    active at once, checked in by hand by their leader."""
    _require_manage(actor, community.pk)
    name = _clean_name(name)
    phone = clean_phone(phone)
    origin = _clean_origin(origin)
    team = _clean_team(community.pk, team)
    teams = _clean_wishes(community.pk, wishes)
    if _same_phone(community.pk, phone).exists():
        raise Conflict(
            "duplicate",
            _("A volunteer with this phone number is already on the list."),
            fields={"phone": _("A volunteer with this phone number is already on the list.")},
        )
    now = timezone.now()
    v = Volunteer.objects.create(
        community=community,
        name=name,
        phone=phone,
        origin=origin,
        organisation=_text(organisation, "organisation", 100),
        skills=_clean_skills(skills),
        skills_note=_text(skills_note, "skills_note", 200),
        team=team,
        status=VolunteerStatus.ACTIVE,
        approved_at=now,
        approved_by=actor,
        note=_text(note, "note", 200),
    )
    if teams:
        v.wishes.set(teams)
    if team is not None:
        TeamMove.objects.create(
            community=community, volunteer=v, from_team=None, to_team=team, by=actor, at=now
        )
    audit(actor=actor, action="volunteers.add", community=community, target=v, summary=_who(v))
    return v


def _locked(volunteer: Volunteer) -> Volunteer:
    """The volunteer's row, locked for this transaction (two staff pressing at once)."""
    # NO KEY: a signup's foreign-key check (key share) need not wait for it (tasks._write_place).
    return Volunteer.objects.select_for_update(no_key=True).get(pk=volunteer.pk)


def _set_team(v: Volunteer, team, *, actor, emergency=False, reason="", now=None) -> TeamMove:
    move = TeamMove.objects.create(
        community_id=v.community_id,
        volunteer=v,
        from_team_id=v.team_id,
        to_team=team,
        emergency=emergency,
        reason=reason,
        by=actor if getattr(actor, "is_authenticated", False) else None,
        at=now or timezone.now(),
    )
    v.team = team
    v.save(update_fields=["team"])
    return move


@transaction.atomic
def approve(*, actor, volunteer: Volunteer, team=None) -> Volunteer:
    """Pending → active, optionally into a team. Approving an active volunteer again is a no-op
    (two staff on the same list)."""
    _require_manage(actor, volunteer.community_id)
    v = _locked(volunteer)
    team = _clean_team(v.community_id, team)
    if v.status == VolunteerStatus.ACTIVE:
        return v
    if v.status != VolunteerStatus.PENDING:
        raise Conflict(
            "not_pending",
            _("%(name)s is not waiting for approval (%(status)s): make them active instead.")
            % {"name": v.name, "status": v.get_status_display()},
        )
    v.status = VolunteerStatus.ACTIVE
    v.approved_at = timezone.now()
    v.approved_by = actor
    v.save(update_fields=["status", "approved_at", "approved_by"])
    if team is not None and team.pk != v.team_id:
        _set_team(v, team, actor=actor)
    audit(
        actor=actor,
        action="volunteers.approve",
        community=v.community_id,
        target=v,
        summary=f"{_who(v)} → {team.name if team else '-'}",
    )
    return v


def _free_future_places(*, actor, v: Volunteer, reason: str, now) -> int:
    """Cancel the volunteer's places on tasks that have not started, through the tasks part's
    rule (the first on the waiting list moves up). Returns how many."""
    from shouwang.volunteers import tasks

    live = list(
        Signup.objects.filter(
            volunteer=v,
            status__in=LIVE,
            task__starts_at__gt=now,
            task__cancelled_at__isnull=True,
        )
        .select_related("task", "volunteer")
        .order_by("task__starts_at", "pk")
    )
    for s in live:
        tasks.cancel(actor=actor, signup=s, now=now, reason=reason)
    return len(live)


def _may_change_self(actor, v: Volunteer) -> None:
    """Staff, or the volunteer about their own profile."""
    if v.user_id is not None and getattr(actor, "pk", None) == v.user_id:
        return
    _require_manage(actor, v.community_id)


@transaction.atomic
def pause(*, actor, volunteer: Volunteer, reason: str = "", now=None) -> Volunteer:
    """Active → paused (ill, away, needed at home): their future places are freed."""
    _may_change_self(actor, volunteer)
    now = now or timezone.now()
    v = _locked(volunteer)
    if v.status == VolunteerStatus.PAUSED:
        return v
    if v.status != VolunteerStatus.ACTIVE:
        raise Conflict(
            "not_active",
            _("Only an active volunteer can be paused (%(name)s: %(status)s).")
            % {"name": v.name, "status": v.get_status_display()},
        )
    reason = _text(reason, "reason", 200)
    # Paused first, so that no waiting list moves them up while their places are freed.
    v.status = VolunteerStatus.PAUSED
    v.save(update_fields=["status"])
    freed = _free_future_places(actor=actor, v=v, reason=reason or _("paused"), now=now)
    audit(
        actor=actor,
        action="volunteers.pause",
        community=v.community_id,
        target=v,
        summary=f"{_who(v)}: {freed} places freed",
        reason=reason,
    )
    v.freed = freed
    return v


@transaction.atomic
def activate(*, actor, volunteer: Volunteer) -> Volunteer:
    """Paused or left → active again (staff); a pending one is approved."""
    _require_manage(actor, volunteer.community_id)
    v = _locked(volunteer)
    if v.status == VolunteerStatus.ACTIVE:
        return v
    if v.status == VolunteerStatus.PENDING:
        return approve(actor=actor, volunteer=v)
    before = v.status
    v.status = VolunteerStatus.ACTIVE
    fields = ["status"]
    if v.approved_at is None:
        v.approved_at, v.approved_by = timezone.now(), actor
        fields += ["approved_at", "approved_by"]
    v.save(update_fields=fields)
    audit(
        actor=actor,
        action="volunteers.activate",
        community=v.community_id,
        target=v,
        summary=f"{_who(v)} {before} → active",
    )
    return v


@transaction.atomic
def leave(*, actor, volunteer: Volunteer, reason: str, now=None) -> Volunteer:
    """The volunteer leaves (moved away, back to work): future places freed, out of the team,
    no longer anyone's team leader. Their hours stay on their record."""
    _may_change_self(actor, volunteer)
    now = now or timezone.now()
    reason = _text(reason, "reason", 200)
    if not reason:
        raise invalid("reason", _("Say why they leave (e.g. moved away, back to work)."))
    v = _locked(volunteer)
    if v.status == VolunteerStatus.LEFT:
        return v
    v.status = VolunteerStatus.LEFT
    v.save(update_fields=["status"])
    freed = _free_future_places(actor=actor, v=v, reason=reason, now=now)
    if v.team_id is not None:
        _set_team(v, None, actor=actor, reason=reason, now=now)
    Team.objects.filter(leader=v).update(leader=None)
    audit(
        actor=actor,
        action="volunteers.leave",
        community=v.community_id,
        target=v,
        summary=f"{_who(v)}: {freed} places freed",
        reason=reason,
    )
    v.freed = freed
    return v


@transaction.atomic
def move(
    *, actor, volunteer: Volunteer, team, emergency: bool = False, reason: str = ""
) -> TeamMove:
    """Put a volunteer in a team, move them, or take them out (team None). An emergency move
    (something urgent came up) must say why; it is marked in the team history."""
    _require_manage(actor, volunteer.community_id)
    v = _locked(volunteer)
    team = _clean_team(v.community_id, team)
    reason = _text(reason, "reason", 200)
    if emergency and not reason:
        raise invalid("reason", _("An emergency move needs a reason (what came up)."))
    if v.status == VolunteerStatus.LEFT:
        raise Conflict("left", _("%(name)s has left: make them active first.") % {"name": v.name})
    if v.team_id == (team.pk if team else None):
        last = v.moves.order_by("-at", "-pk").first()
        if last is not None and last.to_team_id == v.team_id:
            return last  # pressed twice
        raise invalid("team", _("%(name)s is already in this team.") % {"name": v.name})
    old = v.team
    m = _set_team(v, team, actor=actor, emergency=emergency, reason=reason)
    audit(
        actor=actor,
        action="volunteers.move",
        community=v.community_id,
        target=v,
        summary=f"{_who(v)}: {old.name if old else '-'} → {team.name if team else '-'}"
        + (" (emergency)" if emergency else ""),
        reason=reason,
    )
    return m


@transaction.atomic
def update_profile(*, actor, volunteer: Volunteer, **fields) -> Volunteer:
    """The volunteer's own profile (or staff for them): only the fields given change."""
    _may_change_self(actor, volunteer)
    staff = can(actor, "volunteers.manage") and actor.community_id == volunteer.community_id
    allowed = PROFILE_FIELDS + (STAFF_ONLY_FIELDS if staff else ())
    unknown = set(fields) - set(allowed)
    if unknown:
        raise invalid(sorted(unknown)[0], _("This cannot be changed here."))
    v = _locked(volunteer)
    errors: dict = {}
    values: dict = {}
    cleaners = {
        "name": _clean_name,
        "phone": clean_phone,
        "origin": _clean_origin,
        "organisation": lambda x: _text(x, "organisation", 100),
        "skills_note": lambda x: _text(x, "skills_note", 200),
        "note": lambda x: _text(x, "note", 200),
        "skills": _clean_skills,
        "hide_from_board": bool,
        "wishes": lambda x: _clean_wishes(v.community_id, x),
    }
    for key, value in fields.items():
        try:
            values[key] = cleaners[key](value)
        except DomainError as e:
            errors.update(e.fields or {key: e.message})
    if errors:  # every wrong field at once
        raise DomainError("invalid", next(iter(errors.values())), fields=errors)
    wishes = values.pop("wishes", None)
    if "phone" in values:
        if national(values["phone"]) == national(v.phone):
            del values["phone"]
        elif _same_phone(v.community_id, values["phone"], exclude_pk=v.pk).exists():
            raise _duplicate_phone()
    changed = []
    for key, value in values.items():
        if getattr(v, key) != value:
            setattr(v, key, value)
            changed.append(key)
    if changed:
        v.save(update_fields=changed)
    if wishes is not None and {t.pk for t in wishes} != set(v.wishes.values_list("pk", flat=True)):
        v.wishes.set(wishes)
        changed.append("wishes")
    if changed:
        audit(
            actor=actor,
            action="volunteers.update_profile",
            community=v.community_id,
            target=v,
            summary=f"{_who(v)}: {', '.join(changed)}",
        )
    return v


# --- the ledger link ----------------------------------------------------------------------------


def resident_matches(volunteer: Volunteer, *, limit: int = 10) -> list:
    """Residents of the volunteer's community who may be them: the same mobile (through the
    ledger's blind index, as the ledger's search finds a full phone) first, then the same name.
    Each carries `match` ("phone", "name" or "both")."""
    from shouwang.core import crypto
    from shouwang.registry.models import Resident

    qs = Resident.objects.filter(community_id=volunteer.community_id)
    cond = Q(name=volunteer.name)
    phone = volunteer.phone if volunteer.phone.startswith("+") else "+86" + volunteer.phone
    index = crypto.blind_index("phone", phone)
    cond |= Q(phone_index=index)
    rows = list(qs.filter(cond).select_related("household")[: limit * 2])
    for r in rows:
        by_phone = r.phone_index == index
        by_name = r.name == volunteer.name
        r.match = "both" if by_phone and by_name else "phone" if by_phone else "name"
    order = {"both": 0, "phone": 1, "name": 2}
    rows.sort(key=lambda r: (order[r.match], r.pk))
    return rows[:limit]


@transaction.atomic
def link_resident(*, actor, volunteer: Volunteer, resident) -> Volunteer:
    """Staff confirm the volunteer's resident record (or take the link away: resident None)."""
    _require_manage(actor, volunteer.community_id)
    v = _locked(volunteer)
    if resident is not None and resident.community_id != v.community_id:
        raise invalid("resident", _("Pick a resident of this community."))
    new_id = resident.pk if resident is not None else None
    if v.resident_id == new_id:
        return v
    v.resident = resident
    fields = ["resident"]
    if resident is not None and v.origin != Origin.RESIDENT:
        v.origin = Origin.RESIDENT
        fields.append("origin")
    v.save(update_fields=fields)
    audit(
        actor=actor,
        action="volunteers.link_resident",
        community=v.community_id,
        target=v,
        summary=f"{_who(v)} → resident {new_id or '-'}",
    )
    return v


# --- the daily health declaration ---------------------------------------------------------------


def _temperature(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        t = Decimal(str(value).strip().replace("，", ".").replace(",", ".")).quantize(
            Decimal("0.1")
        )
    except (InvalidOperation, ValueError):
        raise invalid("temperature", _("Write the temperature as a number, e.g. 36.5.")) from None
    low, high = TEMPERATURE_RANGE
    if not low <= t <= high:
        raise invalid(
            "temperature",
            _("%(t)s °C cannot be a body temperature: write it like 36.5.") % {"t": t},
        )
    return t


def fever_at(community_id: int) -> Decimal:
    from shouwang.checkpoints.services import policy_for as gate_policy

    return Decimal(gate_policy(community_id).fever_at)


def declare(
    *,
    volunteer: Volunteer,
    temperature=None,
    symptoms: bool = False,
    contact: bool = False,
    now=None,
) -> Declaration:
    """Today's declaration; a second one the same day replaces the first. Well = no symptoms, no
    contact, and a temperature (if taken) below the gate's fever mark."""
    now = now or timezone.now()
    if volunteer.status == VolunteerStatus.LEFT:
        raise Conflict("left", _("This volunteer profile has left; nothing to declare."))
    t = _temperature(temperature)
    well = not symptoms and not contact and (t is None or t < fever_at(volunteer.community_id))
    day = timezone.localdate(now)
    values = {
        "community_id": volunteer.community_id,
        "temperature": t,
        "symptoms": bool(symptoms),
        "contact": bool(contact),
        "well": well,
        "at": now,
    }
    for attempt in range(2):
        try:
            with transaction.atomic():
                d, created = Declaration.objects.update_or_create(
                    volunteer=volunteer, date=day, defaults=values
                )
                audit(
                    actor=volunteer.user,
                    action="volunteers.declare",
                    community=volunteer.community_id,
                    target=d,
                    summary=f"{_who(volunteer)} {day} {'well' if well else 'NOT well'}",
                )
                return d
        except IntegrityError:
            # Two presses at once both found no row: the second updates the first's.
            if attempt:
                raise
    raise AssertionError("unreachable")


def declaration_today(volunteer: Volunteer, now=None) -> Declaration | None:
    day = timezone.localdate(now or timezone.now())
    return Declaration.objects.filter(volunteer=volunteer, date=day).first()


# --- teams and the policy -----------------------------------------------------------------------


@transaction.atomic
def team_save(
    *,
    actor,
    community,
    team: Team | None = None,
    name,
    kind,
    description: str = "",
    leader: Volunteer | None = None,
    is_active: bool = True,
) -> Team:
    """Add a team or change one (rename, its kind, leader, retire it)."""
    _require_manage(actor, community.pk)
    if team is not None and team.community_id != community.pk:
        raise invalid("team", _("Pick a team of this community."))
    name = " ".join(str(name or "").split())
    if not name:
        raise invalid("name", _("Give the team a name (e.g. 消杀队)."))
    if len(name) > 50:
        raise invalid("name", _("Too long: at most %(n)d characters.") % {"n": 50})
    if kind not in TeamKind.values:
        raise invalid("kind", _("Choose what kind of team it is."))
    description = _text(description, "description", 200)
    if leader is not None:
        if leader.community_id != community.pk:
            raise invalid("leader", _("The leader must be a volunteer of this community."))
        if leader.status != VolunteerStatus.ACTIVE:
            raise invalid("leader", _("The leader must be an active volunteer."))
    same = Team.objects.filter(community_id=community.pk, name=name)
    if team is not None:
        same = same.exclude(pk=team.pk)
    if same.exists():
        raise invalid("name", _("There is already a team called “%(n)s”.") % {"n": name})
    created = team is None
    if created:
        top = Team.objects.filter(community_id=community.pk).aggregate(m=Max("position"))["m"]
        team = Team(community_id=community.pk, position=(top or 0) + 1)
    team.name, team.kind, team.description = name, kind, description
    team.leader, team.is_active = leader, bool(is_active)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise invalid("name", _("There is already a team called “%(n)s”.") % {"n": name}) from None
    # A leader leads from inside the team.
    if leader is not None and leader.team_id != team.pk:
        _set_team(_locked(leader), team, actor=actor, reason=_("made team leader"))
    audit(
        actor=actor,
        action="volunteers.team_add" if created else "volunteers.team_change",
        community=community,
        target=team,
        summary=f"{team.name} ({team.kind}) leader={leader.pk if leader else '-'}"
        + ("" if team.is_active else " retired"),
    )
    return team


@transaction.atomic
def policy_save(*, actor, community, **fields) -> Policy:
    _require_manage(actor, community.pk)
    p = policy_for(community.pk)
    changed = []
    for key, value in fields.items():
        if key not in POLICY_FIELDS:
            raise invalid(key, _("This cannot be changed here."))
        low, high = POLICY_FIELDS[key]
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise invalid(key, _("Write a whole number.")) from None
        if not low <= value <= high:
            raise invalid(key, _("Give a number from %(a)d to %(b)d.") % {"a": low, "b": high})
        if getattr(p, key) != value:
            setattr(p, key, value)
            changed.append(key)
    if changed:
        p.updated_by = actor
        p.save(update_fields=[*changed, "updated_by", "updated_at"])
        audit(
            actor=actor,
            action="volunteers.policy",
            community=community,
            target=p,
            summary=", ".join(f"{k}={getattr(p, k)}" for k in changed),
        )
    return p


# --- reads for the staff pages ------------------------------------------------------------------

STATUS_ORDER = Case(
    When(status=VolunteerStatus.PENDING, then=Value(0)),
    When(status=VolunteerStatus.ACTIVE, then=Value(1)),
    When(status=VolunteerStatus.PAUSED, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def people_for(user, *, status: str = "", team_id=None, skill: str = "", q: str = ""):
    """The community's volunteers, pending first (they wait for a button), then by name."""
    qs = scope_queryset(user, Volunteer.objects.all()).select_related("team", "user")
    if status:
        qs = qs.filter(status=status)
    if team_id:
        qs = qs.filter(team_id=team_id)
    if skill:
        # The skills are a JSON list of plain words: the quoted word is in its text.
        qs = qs.filter(skills__icontains=f'"{skill}"')
    q = " ".join((q or "").split())
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        cond = Q(name__icontains=q) | Q(organisation__icontains=q)
        if len(digits) >= 4:
            cond |= Q(phone__contains=digits)
        qs = qs.filter(cond)
    return qs.annotate(status_order=STATUS_ORDER).order_by("status_order", "name", "pk")


def teams_with_counts(community_id: int, *, active_only: bool = False):
    """The teams with their active and all members counted, and the leader."""
    return (
        teams_for(community_id, active_only=active_only)
        .select_related("leader")
        .annotate(
            active_count=Count("members", filter=Q(members__status=VolunteerStatus.ACTIVE)),
            member_count=Count("members", filter=~Q(members__status=VolunteerStatus.LEFT)),
        )
    )


def pending_count(community_id: int) -> int:
    return Volunteer.objects.filter(
        community_id=community_id, status=VolunteerStatus.PENDING
    ).count()
