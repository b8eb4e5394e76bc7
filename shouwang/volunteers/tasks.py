"""Tasks and places: staff publish, volunteers grab (抢), cancel until the deadline, the waiting
list moves up; staff assign, remove and mark no-shows.

Exactly `places` places are ever given however many press at once (Xi'an's tasks went in
seconds once the hours were published): a place is one conditional
`UPDATE task SET taken = taken + 1 WHERE id = … AND taken < places` and the signup row, in one
short transaction; every check that only reads runs before it, from one SELECT ("grabbing"
below). PostgreSQL re-checks the condition on the row it waited for, SQLite runs writers one
at a time (IMMEDIATE transactions), and the check constraint taken ≤ places stands behind both.
Whoever finds the task full joins the waiting list in one statement written only while the task
is still full; a cancel looks for someone waiting after committing, so a place freed at that
moment is never left free beside a waiting volunteer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.accounts.permissions import can
from shouwang.checkpoints.roster import local, local_day, span, when
from shouwang.core import rawrows
from shouwang.core.audit import audit
from shouwang.core.context import current_address
from shouwang.core.errors import Conflict, DomainError, Forbidden, NotFound, invalid
from shouwang.core.models import AuditEvent
from shouwang.volunteers import rules
from shouwang.volunteers.models import (
    LIVE,
    How,
    Signup,
    SignupStatus,
    Skill,
    Task,
    TaskKind,
    Team,
    Volunteer,
    VolunteerStatus,
)
from shouwang.volunteers.selectors import new_code, policy_for, require_lead, rest_rules

MAX_PLACES = 1000
EDITABLE = (
    "title",
    "description",
    "place",
    "team",
    "starts_at",
    "ends_at",
    "places",
    "skills",
    "cancel_until",
    "grabbable",
)


def _name(v: Volunteer) -> str:
    return v.name


def _require_manage(actor) -> None:
    if not can(actor, "volunteers.manage"):
        raise Forbidden("forbidden", _("Only the committee can do that."))


# --- publishing -------------------------------------------------------------------------------


def _clean(community, fields: dict) -> dict:
    title = (fields.get("title") or "").strip()
    if not title:
        raise invalid("title", _("Say what the task is, e.g. “Carry supplies to building 3”."))
    place = (fields.get("place") or "").strip()
    if not place:
        raise invalid("place", _("Say where the volunteers meet, e.g. “East gate”."))
    s, e = fields.get("starts_at"), fields.get("ends_at")
    if s is None or e is None:
        raise invalid("starts_at", _("Give from and until."))
    if timezone.is_naive(s) or timezone.is_naive(e):
        raise invalid("starts_at", _("Give the times with their time zone."))
    if e <= s:
        raise invalid("ends_at", _("The task must end after it starts."))
    if e - s > dt.timedelta(hours=24):
        raise invalid("ends_at", _("A task lasts at most 24 hours: publish longer work as days."))
    places = fields.get("places")
    try:
        places = int(places)
    except (TypeError, ValueError):
        raise invalid("places", _("Say how many people are needed (a number).")) from None
    if not 1 <= places <= MAX_PLACES:
        raise invalid("places", _("Between 1 and %(n)s people.") % {"n": MAX_PLACES})
    skills = list(dict.fromkeys(fields.get("skills") or ()))
    unknown = [x for x in skills if x not in Skill.values]
    if unknown:
        raise invalid(
            "skills",
            _("Unknown skill %(s)s: choose from %(all)s.")
            % {"s": ", ".join(unknown), "all": ", ".join(Skill.values)},
        )
    team = fields.get("team")
    if team is not None:
        if isinstance(team, int):
            team = Team.objects.filter(pk=team).first()
        if team is None or team.community_id != community.pk:
            raise invalid("team", _("Choose a team of your own community."))
    cancel_until = fields.get("cancel_until")
    if cancel_until is None:
        cancel_until = s - dt.timedelta(hours=policy_for(community.pk).cancel_hours)
    elif cancel_until > s:
        raise invalid(
            "cancel_until",
            _("Cancelling must close at the start (%(at)s) or before.") % {"at": when(s)},
        )
    return {
        "title": title,
        "place": place,
        "starts_at": s,
        "ends_at": e,
        "places": places,
        "skills": skills,
        "team": team,
        "cancel_until": cancel_until,
        "description": (fields.get("description") or "").strip(),
        "grabbable": bool(fields.get("grabbable", True)),
    }


@transaction.atomic
def publish(
    *,
    actor,
    community,
    title,
    place,
    starts_at,
    ends_at,
    places,
    team=None,
    skills=(),
    description="",
    cancel_until=None,
    grabbable=True,
    kind="task",
    plan=None,
) -> Task:
    """Publish a task for volunteers to grab (or make a shift of a plan)."""
    if kind not in TaskKind.values:
        raise invalid("kind", _("A task or a shift."))
    data = _clean(
        community,
        {
            "title": title,
            "place": place,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "places": places,
            "team": team,
            "skills": skills,
            "description": description,
            "cancel_until": cancel_until,
            "grabbable": grabbable,
        },
    )
    if kind == TaskKind.TASK and data["ends_at"] <= timezone.now():
        raise invalid("ends_at", _("This time is already over: give a time still to come."))
    task = Task.objects.create(
        community_id=community.pk,
        kind=kind,
        plan=plan,
        code=new_code(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **data,
    )
    audit(
        actor=actor,
        action="volunteers.task_publish",
        community=community.pk,
        target=task,
        summary=f"{task.title} @ {task.place} {span(task.starts_at, task.ends_at)} x{task.places}",
    )
    return task


@transaction.atomic
def update(*, actor, task: Task, **fields) -> Task:
    """Change a task. Places may not drop below those taken; more places move the waiting list
    up."""
    _require_manage(actor)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise invalid(sorted(unknown)[0], _("This cannot be changed here."))
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.cancelled_at is not None:
        raise Conflict("cancelled", _("This task is cancelled: it can no longer be changed."))
    current = {f: getattr(task, f) for f in EDITABLE}
    explicit_cancel = "cancel_until" in fields
    merged = {**current, **fields}
    if not explicit_cancel and ("starts_at" in fields):
        merged["cancel_until"] = None  # follows the new start
    data = _clean(task.community, merged)
    if data["places"] < task.taken:
        raise invalid(
            "places",
            _(
                "%(n)s people already have a place: places cannot drop below that (remove people "
                "first)."
            )
            % {"n": task.taken},
        )
    changed = [f for f in EDITABLE if data[f] != current[f]]
    for f in changed:
        setattr(task, f, data[f])
    if changed:
        task.save(update_fields=changed)
        audit(
            actor=actor,
            action="volunteers.task_update",
            community=task.community_id,
            target=task,
            summary=f"{task.title}: {', '.join(changed)}",
        )
    if "places" in changed:
        _fill(task, actor=actor)
        task_id = task.pk
        transaction.on_commit(lambda: _settle(task_id), robust=True)
    task.refresh_from_db()
    return task


@transaction.atomic
def cancel_task(*, actor, task: Task, reason) -> Task:
    """Call off a task: every place and the waiting list are cancelled (idempotent)."""
    _require_manage(actor)
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", _("Say why the task is cancelled: the volunteers are told."))
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.cancelled_at is not None:
        return task
    now = timezone.now()
    n = Signup.objects.filter(task=task, status__in=LIVE).update(
        status=SignupStatus.CANCELLED,
        cancelled_at=now,
        cancelled_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    task.cancelled_at, task.cancel_reason, task.taken = now, reason[:200], 0
    task.save(update_fields=["cancelled_at", "cancel_reason", "taken"])
    audit(
        actor=actor,
        action="volunteers.task_cancel",
        community=task.community_id,
        target=task,
        summary=f"{task.title}: {n} signups cancelled",
        reason=reason,
    )
    return task


# --- who may grab -----------------------------------------------------------------------------


def no_shows(volunteer, now=None, policy=None) -> int:
    now = now or timezone.now()
    policy = policy or policy_for(volunteer.community_id)
    return Signup.objects.filter(
        volunteer=volunteer,
        status=SignupStatus.NO_SHOW,
        excused=False,
        task__starts_at__gte=now - dt.timedelta(days=policy.no_show_days),
    ).count()


def grab_block(volunteer, now=None) -> str | None:
    """Why this volunteer may not grab anything now (repeated no-shows), or None."""
    now = now or timezone.now()
    policy = policy_for(volunteer.community_id)
    if not policy.no_show_limit:
        return None
    n = no_shows(volunteer, now, policy)
    if n >= policy.no_show_limit:
        return _(
            "You missed %(n)s places in the last %(days)s days without saying: grabbing is "
            "stopped until the committee excuses one or it is %(days)s days old."
        ) % {"n": n, "days": policy.no_show_days}
    return None


def _not_active(volunteer) -> DomainError | None:
    if volunteer.status == VolunteerStatus.ACTIVE:
        return None
    if volunteer.status == VolunteerStatus.PENDING:
        return Forbidden(
            "not_approved",
            _(
                "Your sign-up is waiting for the committee's approval; you can grab tasks once it "
                "is approved."
            ),
        )
    return Forbidden(
        "not_active",
        _("Your volunteer profile is not active: ask the committee to make it active again."),
    )


def _refusal(
    volunteer, task: Task, now, *, others=None, block=None, limits=None
) -> DomainError | None:
    """Why `volunteer` may not grab `task` now, or None. `others` (their commitments) and
    `block` (grab_block) may be given by a caller checking many tasks."""
    if volunteer.community_id != task.community_id:
        return Forbidden("other_community", _("This task is in another community."))
    refused = _not_active(volunteer)
    if refused:
        return refused
    if task.cancelled_at is not None:
        return Conflict(
            "cancelled", _("This task was cancelled: %(why)s") % {"why": task.cancel_reason or "—"}
        )
    if now >= task.ends_at:
        return Conflict("over", _("This task is over."))
    if now >= task.starts_at:
        return Conflict("started", _("This task has started: places can no longer be grabbed."))
    if not task.grabbable:
        return Forbidden("not_grabbable", _("The committee puts people on this shift."))
    if task.team_id is not None and task.team_id != volunteer.team_id:
        return Forbidden(
            "team_only",
            _("Only members of the %(team)s can grab this task.") % {"team": task.team.name},
        )
    missing = [s for s in task.skills if s not in (volunteer.skills or [])]
    if missing:
        return Forbidden(
            "skill",
            _(
                "This task needs %(skills)s: add the skill to your profile if you have it, and "
                "the committee confirms."
            )
            % {"skills": ", ".join(str(Skill(s).label) for s in missing)},
        )
    block = grab_block(volunteer, now) if block is None else block
    if block:
        return Forbidden("no_show_limit", block)
    if others is None:
        breaks = rules.breaks_for(volunteer, task.starts_at, task.ends_at)
    else:
        cap, rest = limits or rest_rules(volunteer.community_id)
        breaks = rules.check(others, task.starts_at, task.ends_at, cap, rest)
    if breaks:
        return _rest_error(breaks, own=True)
    return None


def _rest_error(breaks, *, own: bool) -> DomainError:
    text = " ".join(b.message for b in breaks)
    message = (
        _("You need your rest: %(breaks)s") if own else _("This breaks the rest rules: %(breaks)s")
    ) % {"breaks": text}
    e = DomainError("rest_rule", message, fields={"override_reason": text} if not own else {})
    e.breaks = breaks
    return e


def _take_place(task_id) -> bool:
    """The one conditional UPDATE: a place, if one is left."""
    return bool(
        Task.objects.filter(pk=task_id, taken__lt=F("places"), cancelled_at=None).update(
            taken=F("taken") + 1
        )
    )


def _live(volunteer, task) -> Signup | None:
    return (
        Signup.objects.filter(task_id=task.pk, volunteer_id=volunteer.pk, status__in=LIVE)
        .select_related("task")
        .first()
    )


# --- grabbing ---------------------------------------------------------------------------------
# The hot path (benchmarks/volunteer_grab.py: 500 presses in a second for 10 places). Every
# read-only check runs BEFORE the write, from one SELECT (the task, the volunteer, their user,
# their live signup on the task, both policies, their unexcused no-shows, and whether they
# have any commitment near the task), through the same `_refusal` as every other caller; only
# an unusual case asks the ORM for more (near commitments: rules.breaks_for; no-shows at the
# limit: grab_block). The write is short:
#
# * a place: lock the volunteer's row (PostgreSQL; SQLite runs writers one at a time), the one
#   conditional UPDATE — guarded by "the volunteer's signups are as the SELECT saw them", so two
#   grabs of one volunteer at once cannot both pass the rest rules — and the signup row. A
#   stale guard falls back to `_grab` below, which reads everything again under the lock.
# * full: the waiting-list row, in one statement guarded by "the task is still full"
#   (`_wait_guarded`). A place freed meanwhile is never left empty beside it: a cancel's UPDATE
#   of the counter cannot come between the guard's read and its commit (PostgreSQL: a share
#   lock on the task's row; SQLite: the write lock), and the cancel, after committing, looks
#   for someone waiting (`_settle`); a cancel committed first makes the guard false, and the
#   grab takes the place the careful way (`_grab`).
#
# GRAB_AUDIT: a place taken is written to the audit log (actor, address); joining the waiting
# list is not. It changes nothing anyone holds until a place is given, and giving it is
# audited (volunteers.signup_promote, volunteers.assign); the signup row itself records who
# joined and when (created_at, how = grabbed). A 10-place task grabbed by 500 would otherwise
# put 490 lines in the community's audit log, burying the staff actions it exists for.

NEAR = dt.timedelta(hours=48)  # the SELECT's window for "any commitment near the task"


@dataclass(frozen=True, slots=True)
class Grabbed:
    """What a grab gave: the signup, taken or waiting (position 1 = next in line)."""

    signup_id: int
    status: str
    position: int | None
    task_id: int
    title: str
    starts_at: dt.datetime
    created: bool  # False: a retry, the live signup was already there


def _skills(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return json.loads(value)
    return list(value)


@cache
def _grab_sql(vendor: str) -> str:
    from shouwang.accounts.models import User
    from shouwang.checkpoints.models import Duty
    from shouwang.checkpoints.models import Policy as RosterPolicy
    from shouwang.volunteers.models import Policy

    t = rawrows.table
    task, signup = t(Task), t(Signup)
    hours = int(NEAR.total_seconds() // 3600)
    if vendor == "postgresql":
        lo, hi = (
            f"t.starts_at - interval '{hours} hours'",
            f"t.ends_at + interval '{hours} hours'",
        )
    else:
        lo, hi = (
            f"datetime(t.starts_at, '-{hours} hours')",
            f"datetime(t.ends_at, '+{hours} hours')",
        )
    live = f"('{SignupStatus.TAKEN}', '{SignupStatus.WAITING}')"
    return (
        "SELECT t.id, t.community_id, t.cancelled_at, t.cancel_reason, t.starts_at, t.ends_at, "
        "t.grabbable, t.team_id, t.skills, t.places, t.taken, t.title, "
        "v.community_id, v.status, v.team_id, v.skills, v.user_id, v.name, u.is_active, "
        "s.id, s.status, s.created_at, "
        "pol.no_show_limit, pol.no_show_days, rp.max_hours_per_day, rp.min_rest_hours, "
        f"(SELECT COUNT(*) FROM {signup} n WHERE n.volunteer_id = v.id "
        f"AND n.status = '{SignupStatus.NO_SHOW}' AND NOT n.excused), "
        f"EXISTS (SELECT 1 FROM {signup} c JOIN {task} ct ON ct.id = c.task_id "
        f"WHERE c.volunteer_id = v.id AND c.status = '{SignupStatus.TAKEN}' "
        f"AND ct.cancelled_at IS NULL AND ct.starts_at < {hi} AND ct.ends_at > {lo}), "
        f"EXISTS (SELECT 1 FROM {t(Duty)} d WHERE d.user_id = v.user_id "
        f"AND d.starts_at < {hi} AND d.ends_at > {lo}), "
        f"(SELECT COUNT(*) FROM {signup} g WHERE g.volunteer_id = v.id "
        f"AND g.status = '{SignupStatus.TAKEN}'), "
        f"(SELECT COALESCE(MAX(g.id), 0) FROM {signup} g WHERE g.volunteer_id = v.id) "
        f"FROM {t(Volunteer)} v "
        f"LEFT JOIN {task} t ON t.id = %(task)s "
        f"LEFT JOIN {t(User)} u ON u.id = v.user_id "
        f"LEFT JOIN {signup} s ON s.task_id = t.id AND s.volunteer_id = v.id AND s.status IN {live} "
        f"LEFT JOIN {t(Policy)} pol ON pol.community_id = v.community_id "
        f"LEFT JOIN {t(RosterPolicy)} rp ON rp.community_id = v.community_id "
        "WHERE v.id = %(volunteer)s"
    )


@cache
def _defaults() -> tuple[int, int, int, int]:
    from shouwang.checkpoints.models import Policy as RosterPolicy
    from shouwang.volunteers.models import Policy

    def d(model, name):
        return model._meta.get_field(name).default

    return (
        d(Policy, "no_show_limit"),
        d(Policy, "no_show_days"),
        d(RosterPolicy, "max_hours_per_day"),
        d(RosterPolicy, "min_rest_hours"),
    )


@cache
def _take_sql() -> str:
    t = rawrows.table
    return (
        f"UPDATE {t(Task)} SET taken = taken + 1 WHERE id = %s AND taken < places "
        "AND cancelled_at IS NULL "
        f"AND (SELECT COUNT(*) FROM {t(Signup)} g WHERE g.volunteer_id = %s "
        f"AND g.status = '{SignupStatus.TAKEN}') = %s "
        f"AND (SELECT COALESCE(MAX(g.id), 0) FROM {t(Signup)} g WHERE g.volunteer_id = %s) = %s"
    )


def _ahead_sql(task: str, at: str, signup: str) -> str:
    """The count of signups waiting ahead of `signup` on `task` (SQL expressions for the
    task's id, the signup's created_at and its id): the waiting list's order, created_at then
    id, as `waiting_position` states it for the ORM."""
    return (
        f"(SELECT COUNT(*) FROM {rawrows.table(Signup)} w WHERE w.task_id = {task} "
        f"AND w.status = '{SignupStatus.WAITING}' "
        f"AND (w.created_at < {at} OR (w.created_at = {at} AND w.id < {signup})))"
    )


@cache
def _ahead_of_sql() -> str:
    return "SELECT " + _ahead_sql("%(task)s", "%(at)s", "%(id)s")


class _Stale(Exception):
    """The volunteer's signups changed between the SELECT and the write."""


def take(
    volunteer_id: int,
    task_id: int,
    *,
    now=None,
    user_id: int | None = None,
    community_id: int | None = None,
) -> Grabbed:
    """Grab a place on a task (see above): what `grab` does, by ids, for the quick path
    (volunteers/quick.py). `user_id`: the user the grab key names — refused (GrabKeyError) when
    they are no longer active or no longer this volunteer's. A task of another community is
    not found."""
    now = now or timezone.now()
    row = rawrows.fetch_row(
        _grab_sql(connection.vendor), {"task": task_id, "volunteer": volunteer_id}
    )
    if row is None:
        from shouwang.volunteers.grabkey import GrabKeyError

        raise (
            GrabKeyError()
            if user_id is not None
            else NotFound("not_found", _("No such volunteer."))
        )
    (tid, t_comm, t_cancelled, t_reason, t_start, t_end, t_grabbable, t_team, t_skills) = row[:9]
    (places, taken, title, v_comm, v_status, v_team, v_skills, v_user, v_name) = row[9:18]
    (u_active, s_id, s_status, s_created) = row[18:22]
    (limit, days, cap, rest, n_no_show, near_signup, near_duty, n_taken, max_id) = row[22:31]
    if user_id is not None and (
        v_user != user_id or not u_active or (community_id is not None and v_comm != community_id)
    ):
        from shouwang.volunteers.grabkey import GrabKeyError

        raise GrabKeyError()
    if tid is None or t_comm != v_comm:
        raise NotFound("not_found", _("This task does not exist (any more)."))
    starts_at = rawrows.aware(t_start)
    if s_id is not None:  # a retry: the place (or the waiting-list spot) already held
        created = rawrows.aware(s_created)
        position = None
        if s_status == SignupStatus.WAITING:
            position = _ahead(task_id, s_id, created) + 1
        return Grabbed(s_id, s_status, position, task_id, title, starts_at, False)
    d_limit, d_days, d_cap, d_rest = _defaults()
    limit = d_limit if limit is None else limit
    cap, rest = (d_cap, d_rest) if cap is None else (cap, rest)
    volunteer = rawrows.new(
        Volunteer,
        id=volunteer_id,
        community_id=v_comm,
        status=v_status,
        team_id=v_team,
        skills=_skills(v_skills),
        user_id=v_user,
        name=v_name,
    )
    task = rawrows.new(
        Task,
        id=task_id,
        community_id=t_comm,
        cancelled_at=rawrows.aware(t_cancelled),
        cancel_reason=t_reason,
        starts_at=starts_at,
        ends_at=rawrows.aware(t_end),
        grabbable=bool(t_grabbable),
        team_id=t_team,
        skills=_skills(t_skills),
        places=places,
        taken=taken,
        title=title,
    )
    near = bool(near_signup) or bool(near_duty) or rules.DAY + dt.timedelta(hours=rest) > NEAR
    # Only a volunteer with as many unexcused no-shows as the limit, ever, is looked at closer.
    block = "" if not limit or n_no_show < limit else None
    refused = _refusal(
        volunteer, task, now, others=None if near else [], block=block, limits=(cap, rest)
    )
    if refused:
        raise refused
    try:
        signup = _write_place(volunteer, task, now, (n_taken, max_id)) if taken < places else None
        if signup is None:
            # In someone else's transaction, a savepoint: a double press's IntegrityError must
            # leave that transaction usable.
            with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
                waiting = _wait_guarded(volunteer, task, now)
            if waiting is None:  # a place came free, or the task was cancelled, since the SELECT
                signup = _fallback(volunteer, task, now)
                return _grabbed(signup, title, starts_at)
            signup_id, ahead = waiting
            return Grabbed(
                signup_id, SignupStatus.WAITING, ahead + 1, task_id, title, starts_at, True
            )
    except _Stale:
        signup = _fallback(volunteer, task, now)
        return _grabbed(signup, title, starts_at)
    except IntegrityError:
        # The same volunteer pressed twice at once: the other press made the signup.
        signup = _live(volunteer, task)
        if signup is None:
            raise
        return _grabbed(signup, title, starts_at, created=False)
    return Grabbed(signup.pk, signup.status, None, task_id, title, starts_at, True)


def _grabbed(signup, title, starts_at, *, created=True) -> Grabbed:
    position = waiting_position(signup)
    return Grabbed(signup.pk, signup.status, position, signup.task_id, title, starts_at, created)


def _fallback(volunteer, task, now) -> Signup:
    try:
        return _grab(volunteer, task, now)
    except IntegrityError:
        live = _live(volunteer, task)
        if live is None:
            raise
        return live


def _grabbed_row(volunteer, task, now, got: bool) -> Signup:
    """A grabbed signup, not saved yet: a place (`got`) or a spot on the waiting list. The quick
    path's place and waiting-list join and the careful path (`_grab`) all write this row."""
    return rawrows.new(
        Signup,
        community_id=task.community_id,
        task_id=task.pk,
        volunteer_id=volunteer.pk,
        status=SignupStatus.TAKEN if got else SignupStatus.WAITING,
        how=How.GRABBED,
        created_at=now,
        taken_at=now if got else None,
    )


def _new_place(volunteer, task, now) -> Signup:
    """The taken place's row and its audit row (GRAB_AUDIT)."""
    signup = rawrows.insert(_grabbed_row(volunteer, task, now, True))
    # The audit row as core.audit.audit writes it, without the ORM's compiler (the hot path).
    rawrows.insert_or_skip(
        AuditEvent,
        "",
        {
            "community_id": task.community_id,
            "actor_id": volunteer.user_id,
            "action": "volunteers.grab",
            "target_type": Signup._meta.label_lower,
            "target_id": str(signup.pk),
            "field": "",
            "reason": "",
            "summary": f"{_name(volunteer)} took {task.title}"[:500],
            "address": current_address.get(),
            "at": timezone.now(),
        },
    )
    return signup


def _write_place(volunteer, task, now, guard) -> Signup | None:
    """The place, or None when the last one went since the SELECT."""
    n_taken, max_id = guard
    with transaction.atomic():
        with connection.cursor() as c:
            if connection.vendor == "postgresql":
                # One grab at a time per volunteer (as `_grab` and `assign`): see the top. NO KEY:
                # the foreign-key checks of a signup being written (a key-share lock on this
                # row) must not wait for it, or a waiting-list join holding the task's row
                # would deadlock with it.
                c.execute(
                    f"SELECT 1 FROM {rawrows.table(Volunteer)} WHERE id = %s FOR NO KEY UPDATE",
                    [volunteer.pk],
                )
            c.execute(_take_sql(), [task.pk, volunteer.pk, n_taken, volunteer.pk, max_id])
            got = c.rowcount == 1
            if not got:
                c.execute(_guard_sql(), [volunteer.pk, volunteer.pk, task.pk])
                cancelled, now_taken, now_max = c.fetchone()
                if (now_taken, now_max) != (n_taken, max_id):
                    raise _Stale()
                if cancelled is not None:
                    raise Conflict("cancelled", _("This task was cancelled."))
                return None  # filled since the SELECT: the waiting list (`_wait_guarded`)
        return _new_place(volunteer, task, now)


@cache
def _guard_sql() -> str:
    t = rawrows.table
    return (
        f"SELECT t.cancelled_at, (SELECT COUNT(*) FROM {t(Signup)} g WHERE g.volunteer_id = %s "
        f"AND g.status = '{SignupStatus.TAKEN}'), "
        f"(SELECT COALESCE(MAX(g.id), 0) FROM {t(Signup)} g WHERE g.volunteer_id = %s) "
        f"FROM {t(Task)} t WHERE t.id = %s"
    )


def _wait_guarded(volunteer, task, now) -> tuple[int, int] | None:
    """The waiting-list row in one statement, written only while the task is still full and not
    cancelled: (signup id, signups waiting ahead of it), or None when the guard was false (a
    place came free, or the task was cancelled, since the SELECT).

    A cancellation frees a place by an UPDATE of the task's row and then, after committing,
    looks for someone waiting (`_settle`). On PostgreSQL this statement holds a share lock on
    that row: a cancel's UPDATE waits for this commit, so its look finds the new row; a cancel
    committed first makes the guard false (READ COMMITTED reads the locked row again). On
    SQLite an INSERT takes the database's write lock before it reads, so no cancel can come
    between its read and its commit. Either way a freed place is never left beside a waiter,
    and no read after the commit is needed."""
    values = rawrows.insert_values(_grabbed_row(volunteer, task, now, False))
    if connection.vendor == "postgresql":
        at = values[_created_index()]
        params = [task.pk, *values, task.pk, at, at]
    else:
        params = [*values, task.pk]
    with connection.cursor() as c:
        c.execute(_wait_sql(connection.vendor), params)
        row = c.fetchone()
    return None if row is None else (row[0], row[1])


@cache
def _created_index() -> int:
    return [f.name for f in rawrows.insert_fields(Signup)].index("created_at")


@cache
def _wait_sql(vendor: str) -> str:
    t, qn = rawrows.table, connection.ops.quote_name
    fields = rawrows.insert_fields(Signup)
    columns = ", ".join(qn(f.column) for f in fields)
    guard = "taken >= places AND cancelled_at IS NULL"
    if vendor == "postgresql":
        # Typed placeholders: an untyped NULL in a SELECT list would be text to PostgreSQL.
        values = ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in fields)
        # The count is of the statement's snapshot: rows committed before it started (a joiner
        # committing while it waits for the lock may be told the same place; the pages show
        # the live one, waiting_position).
        return (
            f"WITH t AS (SELECT id FROM {t(Task)} WHERE id = %s AND {guard} FOR SHARE), "
            f"s AS (INSERT INTO {t(Signup)} ({columns}) SELECT {values} FROM t RETURNING id) "
            f"SELECT s.id, {_ahead_sql('%s', '%s', 's.id')} FROM s"
        )
    # SQLite: RETURNING sees the inserted row as the table's name (in the subquery, `w` is
    # every other row); the count is exact, under the write lock.
    new = t(Signup)
    return (
        f"INSERT INTO {new} ({columns}) SELECT {', '.join(['%s'] * len(fields))} "
        f"FROM {t(Task)} WHERE id = %s AND {guard} "
        f"RETURNING id, {_ahead_sql(f'{new}.task_id', f'{new}.created_at', f'{new}.id')}"
    )


def _ahead(task_id, signup_id, created_at) -> int:
    """Signups waiting ahead of this one (a retry's answer)."""
    at = connection.ops.adapt_datetimefield_value(created_at)
    return rawrows.fetch_row(_ahead_of_sql(), {"at": at, "id": signup_id, "task": task_id})[0]


def _settle(task_id) -> None:
    """After a commit that freed a place or joined the waiting list: if a place is free while
    someone waits, give it (under the task's row, as cancelling does)."""
    free = (
        Task.objects.filter(pk=task_id, cancelled_at=None, taken__lt=F("places"))
        .filter(Exists(Signup.objects.filter(task_id=OuterRef("pk"), status=SignupStatus.WAITING)))
        .exists()
    )
    if free:
        with transaction.atomic():
            _fill(Task.objects.select_for_update().get(pk=task_id))


def grab(*, volunteer, task, now=None) -> Signup:
    """Grab a place on the task: a place while any is left, the waiting list after. A retry
    returns the place (or waiting-list spot) already held."""
    g = take(volunteer.pk, task.pk, now=now)
    return Signup.objects.select_related("task").get(pk=g.signup_id)


@transaction.atomic
def _grab(volunteer, task, now) -> Signup:
    """The careful way, when the quick one saw the volunteer's signups change under it: every
    check again, holding the volunteer's row."""
    volunteer = (
        Volunteer.objects.select_for_update(of=("self",), no_key=True)
        .select_related("user")
        .get(pk=volunteer.pk)
    )
    live = _live(volunteer, task)
    if live is not None:
        return live
    task = Task.objects.select_related("team").get(pk=task.pk)
    refused = _refusal(volunteer, task, now)
    if refused:
        raise refused
    got = _take_place(task.pk)
    if not got:
        # Full (or cancelled meanwhile): hold the task's row, then look again (see the top).
        task = Task.objects.select_for_update().get(pk=task.pk)
        if task.cancelled_at is not None:
            raise Conflict("cancelled", _("This task was cancelled."))
        got = _take_place(task.pk)
    signup = _grabbed_row(volunteer, task, now, got)
    signup.save(force_insert=True)
    if got:  # joining the waiting list is not audited (GRAB_AUDIT)
        audit(
            actor=volunteer.user,
            action="volunteers.grab",
            community=task.community_id,
            target=signup,
            summary=f"{_name(volunteer)} took {task.title}",
        )
    return signup


def _may_cancel(actor, signup: Signup, now) -> bool:
    """True for staff; the volunteer themselves until the deadline (the waiting list any
    time); a refusal otherwise."""
    if can(actor, "volunteers.manage") and actor.community_id == signup.community_id:
        return True
    own = getattr(actor, "is_authenticated", False) and signup.volunteer.user_id == actor.pk
    if not own:
        raise Forbidden("forbidden", _("This is someone else's place."))
    if signup.status == SignupStatus.TAKEN and now > signup.task.cancel_until:
        raise Conflict(
            "too_late",
            _(
                "Cancelling closed at %(at)s: ask the team leader or the committee if you cannot "
                "come."
            )
            % {"at": when(signup.task.cancel_until)},
        )
    return False


def cancel(*, actor, signup, now=None, reason="") -> Signup:
    """Give up a place (or leave the waiting list). The freed place goes to the first on the
    waiting list who breaks no rule. Twice is once."""
    return _release(actor=actor, signup=signup, now=now, reason=reason, action="cancel")


def remove(*, actor, signup, reason="") -> Signup:
    """Staff take someone off a task; the place moves the waiting list up as a cancel does."""
    _require_manage(actor)
    return _release(actor=actor, signup=signup, now=None, reason=reason, action="remove")


@transaction.atomic
def _release(*, actor, signup, now, reason, action) -> Signup:
    now = now or timezone.now()
    # The task's row first, as grabbing a full task does: the waiting list is seen whole.
    task = Task.objects.select_for_update().get(pk=signup.task_id)
    signup = Signup.objects.select_related("volunteer", "task").get(pk=signup.pk)
    signup.task = task
    staff = _may_cancel(actor, signup, now)
    if action == "remove" and not staff:
        raise Forbidden("forbidden", _("Only the committee can do that."))
    if signup.status not in LIVE:
        return signup
    was = signup.status
    signup.status = SignupStatus.CANCELLED
    signup.cancelled_at = now
    signup.cancelled_by = actor if getattr(actor, "is_authenticated", False) else None
    signup.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    audit(
        actor=actor,
        action=f"volunteers.signup_{action}",
        community=task.community_id,
        target=signup,
        summary=f"{_name(signup.volunteer)} {was} → cancelled: {task.title}",
        reason=(reason or "")[:500],
    )
    if was == SignupStatus.TAKEN:
        Task.objects.filter(pk=task.pk).update(taken=F("taken") - 1)
        task.taken -= 1
        _fill(task, actor=actor, now=now)
        # A grab joining the waiting list holds nothing: look again once committed (see
        # "grabbing").
        task_id = task.pk
        transaction.on_commit(lambda: _settle(task_id), robust=True)
    return signup


def _fill(task: Task, *, actor=None, now=None) -> list[Signup]:
    """Free places go to the waiting list in order, skipping those a rule would break (they
    stay waiting). The caller holds the task's row."""
    now = now or timezone.now()
    task.refresh_from_db(fields=["taken", "places", "cancelled_at", "ends_at"])
    if task.cancelled_at is not None or now >= task.ends_at:
        return []
    promoted = []
    free = task.places - task.taken
    if free <= 0:
        return []
    waiting = (
        Signup.objects.filter(task=task, status=SignupStatus.WAITING)
        .select_related("volunteer")
        .order_by("created_at", "pk")
    )
    for s in waiting:
        if free <= 0:
            break
        v = s.volunteer
        if v.status != VolunteerStatus.ACTIVE:
            continue
        if rules.breaks_for(v, task.starts_at, task.ends_at):
            continue
        if not _take_place(task.pk):
            break
        s.status, s.how, s.taken_at = SignupStatus.TAKEN, How.PROMOTED, now
        s.save(update_fields=["status", "how", "taken_at"])
        audit(
            actor=actor,
            action="volunteers.signup_promote",
            community=task.community_id,
            target=s,
            summary=f"{_name(v)}: waiting list → place on {task.title}",
        )
        promoted.append(s)
        free -= 1
    return promoted


# --- staff ------------------------------------------------------------------------------------


@transaction.atomic
def assign(*, actor, task, volunteer, override_reason="") -> Signup:
    """Staff put a volunteer on a task or shift (someone on the waiting list too). A rest rule
    broken refuses (code "rest_rule", with the breaks) unless an override reason is given."""
    _require_manage(actor)
    override_reason = (override_reason or "").strip()[:200]
    # The volunteer's row before the task's, in the order grabbing takes them.
    volunteer = Volunteer.objects.select_for_update(no_key=True).get(pk=volunteer.pk)
    task = Task.objects.select_for_update().get(pk=task.pk)
    if volunteer.community_id != task.community_id or actor.community_id != task.community_id:
        raise invalid("volunteer", _("Choose a volunteer of your own community."))
    refused = _not_active(volunteer)
    if refused:
        raise invalid("volunteer", _("%(who)s is not active.") % {"who": _name(volunteer)})
    if task.cancelled_at is not None:
        raise Conflict("cancelled", _("This task is cancelled."))
    if timezone.now() >= task.ends_at:
        raise Conflict("over", _("This task is over."))
    live = _live(volunteer, task)
    if live is not None and live.status == SignupStatus.TAKEN:
        return live
    breaks = rules.breaks_for(volunteer, task.starts_at, task.ends_at)
    if breaks and not override_reason:
        raise _rest_error(breaks, own=False)
    if not _take_place(task.pk):
        raise Conflict(
            "full",
            _("All %(n)s places are taken: add a place first, or remove someone.")
            % {"n": task.places},
        )
    now = timezone.now()
    reason = override_reason if breaks else ""
    if live is not None:  # from the waiting list
        live.status, live.how, live.taken_at, live.override_reason = (
            SignupStatus.TAKEN,
            How.ASSIGNED,
            now,
            reason,
        )
        live.save(update_fields=["status", "how", "taken_at", "override_reason"])
        signup = live
    else:
        signup = Signup.objects.create(
            community_id=task.community_id,
            task=task,
            volunteer=volunteer,
            status=SignupStatus.TAKEN,
            how=How.ASSIGNED,
            created_at=now,
            taken_at=now,
            override_reason=reason,
        )
    audit(
        actor=actor,
        action="volunteers.assign",
        community=task.community_id,
        target=signup,
        summary=f"{_name(volunteer)} → {task.title} {span(task.starts_at, task.ends_at)}"
        + (f" (breaks: {'; '.join(b.message for b in breaks)})" if breaks else ""),
        reason=reason,
    )
    return signup


@transaction.atomic
def mark_no_show(*, actor, signup, now=None) -> Signup:
    """A leader marks someone who did not come (after the start, not checked in). The place is
    not given again: the task has started."""
    now = now or timezone.now()
    task = Task.objects.select_for_update().get(pk=signup.task_id)
    require_lead(actor, task)
    signup = Signup.objects.select_related("volunteer").get(pk=signup.pk)
    if signup.status == SignupStatus.NO_SHOW:
        return signup
    if signup.status != SignupStatus.TAKEN:
        raise Conflict("not_taken", _("Only someone with a place can be marked as not come."))
    if now < task.starts_at:
        raise Conflict(
            "not_started",
            _("The task starts at %(at)s: mark people missing after that.")
            % {"at": when(task.starts_at)},
        )
    if signup.checked_in_at is not None:
        raise Conflict("checked_in", _("%(who)s checked in.") % {"who": _name(signup.volunteer)})
    signup.status = SignupStatus.NO_SHOW
    signup.save(update_fields=["status"])
    # The counter counts taken rows.
    Task.objects.filter(pk=task.pk).update(taken=F("taken") - 1)
    audit(
        actor=actor,
        action="volunteers.no_show",
        community=task.community_id,
        target=signup,
        summary=f"{_name(signup.volunteer)} did not come: {task.title}",
    )
    return signup


@transaction.atomic
def excuse(*, actor, signup) -> Signup:
    """Forgive a no-show: it no longer counts towards the grabbing limit."""
    signup = (
        Signup.objects.select_for_update().select_related("task", "volunteer").get(pk=signup.pk)
    )
    require_lead(actor, signup.task)
    if signup.status != SignupStatus.NO_SHOW:
        raise Conflict("not_no_show", _("Only a missed place can be excused."))
    if not signup.excused:
        signup.excused = True
        signup.save(update_fields=["excused"])
        audit(
            actor=actor,
            action="volunteers.excuse",
            community=signup.community_id,
            target=signup,
            summary=f"{_name(signup.volunteer)} excused: {signup.task.title}",
        )
    return signup


# --- reads ------------------------------------------------------------------------------------


def waiting_position(signup) -> int | None:
    """1 for the first on the waiting list; None when not waiting."""
    if signup.status != SignupStatus.WAITING:
        return None
    ahead = (
        Signup.objects.filter(task_id=signup.task_id, status=SignupStatus.WAITING)
        .filter(
            Q(created_at__lt=signup.created_at) | Q(created_at=signup.created_at, pk__lt=signup.pk)
        )
        .count()
    )
    return ahead + 1


@dataclass
class TaskView:
    task: Task
    mine: Signup | None
    free: int
    refusal: str = ""
    position: int | None = None
    grab_key: str = ""  # for the page's quick grab (grabkey.py; "" without a login)

    @property
    def full(self) -> bool:
        return self.free <= 0

    @property
    def skill_labels(self) -> list[str]:
        return [str(Skill(s).label) for s in self.task.skills if s in Skill.values]


def visible_tasks(volunteer, now=None):
    now = now or timezone.now()
    qs = Task.objects.filter(
        community_id=volunteer.community_id,
        grabbable=True,
        cancelled_at=None,
        starts_at__gt=now,
    )
    if volunteer.team_id:
        qs = qs.filter(team__isnull=True) | qs.filter(team_id=volunteer.team_id)
    else:
        qs = qs.filter(team__isnull=True)
    return qs.select_related("team").order_by("starts_at", "pk")


def open_tasks(volunteer, now=None, limit: int = 100) -> list[TaskView]:
    """Upcoming tasks the volunteer may see (open to all or their team), each with their own
    place, the places left and why they cannot grab it ("" when they can)."""
    now = now or timezone.now()
    tasks = list(visible_tasks(volunteer, now)[:limit])
    if not tasks:
        return []
    mine = {
        s.task_id: s
        for s in Signup.objects.filter(
            volunteer=volunteer, task__in=[t.pk for t in tasks], status__in=LIVE
        )
    }
    limits = rest_rules(volunteer.community_id)
    margin = dt.timedelta(days=1, hours=limits[1])
    every = rules._load(
        [volunteer],
        min(t.starts_at for t in tasks) - margin,
        max(t.ends_at for t in tasks) + margin,
    )[volunteer.pk]
    block = grab_block(volunteer, now) or ""
    from shouwang.volunteers import grabkey

    key = grabkey.issue(volunteer)
    out = []
    for t in tasks:
        m = mine.get(t.pk)
        refusal = ""
        if m is None:
            r = _refusal(volunteer, t, now, others=every, block=block, limits=limits)
            refusal = str(r.message) if r else ""
        out.append(
            TaskView(
                task=t,
                mine=m,
                free=max(t.places - t.taken, 0),
                refusal=refusal,
                position=waiting_position(m) if m is not None else None,
                grab_key=key,
            )
        )
    return out


def my_signups(volunteer, now=None) -> list[Signup]:
    """The volunteer's places and waiting-list spots from today on, by start."""
    now = now or timezone.now()
    today = local(local_day(now), dt.time(0))
    return list(
        Signup.objects.filter(volunteer=volunteer, status__in=LIVE, task__ends_at__gt=today)
        .select_related("task", "task__team")
        .order_by("task__starts_at", "pk")
    )
