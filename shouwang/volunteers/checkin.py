"""Check-in and check-out (签到 / 签退), and the hours they credit.

A task or shift shows its code as a QR at the place; the volunteer scans it (or types the code
under it) to check in, and again to check out: the minutes between are credited. Leaders check in
the people without phones, and correct times or minutes with a reason (an append-only Correction).
The night run closes check-ins nobody checked out, at the task's end, for a leader to look at.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core.audit import audit
from shouwang.core.errors import Conflict, DomainError, invalid
from shouwang.volunteers.models import (
    Correction,
    Declaration,
    Signup,
    SignupStatus,
    Task,
)
from shouwang.volunteers.selectors import clean_code, policy_for, require_lead

# A check-in nobody checked out is closed this long after the task's end (the night run); a
# check-out later than that is credited to the task's end too, as the night run would have.
CLOSE_AFTER = dt.timedelta(hours=2)
# A second press within this time is the same press again (a phone retrying, a double tap).
REPEAT = dt.timedelta(minutes=1)
MAX_MINUTES = 24 * 60


def _hm(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%H:%M")


def _when(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%m-%d %H:%M")


def minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    """Whole minutes from check-in to check-out (never negative, at most a day)."""
    return max(0, min(MAX_MINUTES, int((end - start).total_seconds() // 60)))


def _declare_url() -> str:
    try:
        return reverse("volunteers:declare")
    except NoReverseMatch:  # the declaration page not wired yet
        return "/volunteers/me/declare/"


def _declaration(volunteer, now) -> Declaration | None:
    return Declaration.objects.filter(volunteer=volunteer, date=timezone.localdate(now)).first()


def _out_time(signup: Signup, now: dt.datetime) -> dt.datetime:
    # Checking out long after the end (the phone forgotten in a pocket) credits the task's end,
    # as the night run does: hours are for time served, not time until someone remembered.
    end = signup.task.ends_at
    out = end if now > end + CLOSE_AFTER else now
    return max(out, signup.checked_in_at)


def _may_check_in(signup: Signup, now: dt.datetime) -> None:
    task = signup.task
    if task.cancelled_at is not None:
        raise DomainError("cancelled", _("This task was cancelled: there is nothing to check in."))
    early = dt.timedelta(minutes=policy_for(task.community_id).check_in_early_minutes)
    if now < task.starts_at - early:
        raise DomainError(
            "too_early",
            _("“%(task)s” starts at %(at)s: check-in opens %(n)s minutes before, at %(open)s.")
            % {
                "task": task.title,
                "at": _when(task.starts_at),
                "n": int(early.total_seconds() // 60),
                "open": _hm(task.starts_at - early),
            },
        )
    if now >= task.ends_at:
        raise DomainError(
            "over",
            _(
                "“%(task)s” ended at %(at)s: it can no longer be checked in. Ask the team leader "
                "to enter your hours."
            )
            % {"task": task.title, "at": _when(task.ends_at)},
        )


def _do_check_in(*, actor, signup: Signup, now: dt.datetime) -> None:
    updated = Signup.objects.filter(pk=signup.pk, checked_in_at=None).update(
        checked_in_at=now,
        checked_in_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    signup.refresh_from_db(fields=["checked_in_at", "checked_in_by"])
    if updated:
        by = "" if signup.volunteer.user_id == getattr(actor, "pk", None) else " (by leader)"
        audit(
            actor=actor,
            action="volunteers.check_in",
            community=signup.community_id,
            target=signup,
            summary=f"{signup.volunteer.name} · {signup.task.title} {_hm(now)}{by}",
        )


def _do_check_out(*, actor, signup: Signup, now: dt.datetime) -> None:
    out = _out_time(signup, now)
    updated = Signup.objects.filter(
        pk=signup.pk, checked_out_at=None, checked_in_at__isnull=False
    ).update(
        checked_out_at=out,
        checked_out_by=actor if getattr(actor, "is_authenticated", False) else None,
        minutes=minutes_between(signup.checked_in_at, out),
    )
    signup.refresh_from_db(fields=["checked_out_at", "checked_out_by", "minutes"])
    if updated:
        audit(
            actor=actor,
            action="volunteers.check_out",
            community=signup.community_id,
            target=signup,
            summary=f"{signup.volunteer.name} · {signup.task.title} {_hm(out)} "
            f"({signup.minutes} min)",
        )


def _locked(signup_id: int) -> Signup:
    # The row locked (PostgreSQL) so two presses at once are one check-in and one check-out at
    # most; on SQLite the write lock of the transaction serialises them.
    return Signup.objects.select_for_update().select_related("task", "volunteer").get(pk=signup_id)


def check_by_code(*, volunteer, code: str, now: dt.datetime | None = None) -> tuple[Signup, str]:
    """The volunteer scanned (or typed) a place's code: check in, or out when already in.
    Returns the signup and "in" or "out"."""
    now = now or timezone.now()
    bare = clean_code(code)
    if not bare:
        raise invalid(
            "code",
            _(
                "That is not a check-in code: type the 8 letters and digits under the QR at the "
                "place (e.g. ABCD2345), or scan the QR."
            ),
        )
    task = Task.objects.filter(community_id=volunteer.community_id, code=bare).first()
    if task is None:
        raise DomainError(
            "unknown_code",
            _("No task of your community has the code %(code)s: check the letters on the poster.")
            % {"code": bare},
        )
    signup = (
        Signup.objects.filter(task=task, volunteer=volunteer, status__in=SignupStatus.values)
        .order_by("-created_at", "-pk")
        .first()
    )
    if signup is None or signup.status != SignupStatus.TAKEN:
        if signup is not None and signup.status == SignupStatus.WAITING:
            raise DomainError(
                "waiting",
                _(
                    "You are on the waiting list of “%(task)s”, not on it: only people with a "
                    "place check in."
                )
                % {"task": task.title},
            )
        raise DomainError(
            "no_place",
            _(
                "You have no place on “%(task)s”: grab one first (if places are left), or ask "
                "the team leader."
            )
            % {"task": task.title},
        )
    with transaction.atomic():
        s = _locked(signup.pk)
        if s.status != SignupStatus.TAKEN:
            raise DomainError("no_place", _("Your place on this task was cancelled."))
        if s.checked_in_at is None:
            _may_check_in(s, now)
            declared = _declaration(volunteer, now)
            if declared is None:
                raise DomainError(
                    "declare",
                    _("Fill in today's health declaration first (%(url)s), then scan again.")
                    % {"url": _declare_url()},
                    fields={"link": _declare_url()},
                )
            if not declared.well:
                raise DomainError(
                    "unwell",
                    _(
                        "Your health declaration today says you are not well: stay at home and "
                        "rest. Tell your team leader; if it was a mistake, declare again."
                    ),
                    fields={"link": _declare_url()},
                )
            _do_check_in(actor=volunteer.user, signup=s, now=now)
            return s, "in"
        if s.checked_out_at is None:
            if now - s.checked_in_at < REPEAT:
                return s, "in"  # the same scan twice
            _do_check_out(actor=volunteer.user, signup=s, now=now)
            return s, "out"
        if abs(now - s.checked_out_at) < REPEAT:
            return s, "out"  # the check-out scan twice
        raise Conflict(
            "already_out",
            _(
                "You already checked out of “%(task)s” at %(at)s (%(n)s minutes). Ask the team "
                "leader if the time is wrong."
            )
            % {"task": s.task.title, "at": _hm(s.checked_out_at), "n": s.minutes or 0},
        )


@transaction.atomic
def check_in(*, actor, signup: Signup, now: dt.datetime | None = None) -> Signup:
    """A leader checks someone in (people without phones). Twice is once."""
    now = now or timezone.now()
    require_lead(actor, signup.task)
    s = _locked(signup.pk)
    if s.status != SignupStatus.TAKEN:
        raise DomainError(
            "no_place", _("%(name)s has no place on this task.") % {"name": s.volunteer.name}
        )
    if s.checked_in_at is None:
        _may_check_in(s, now)
        # The leader sees the person; a declaration that says "not well" still keeps them home.
        declared = _declaration(s.volunteer, now)
        if declared is not None and not declared.well:
            raise DomainError(
                "unwell",
                _("%(name)s declared today that they are not well: they should stay at home.")
                % {"name": s.volunteer.name},
            )
        _do_check_in(actor=actor, signup=s, now=now)
    return s


@transaction.atomic
def check_out(*, actor, signup: Signup, now: dt.datetime | None = None) -> Signup:
    """A leader checks someone out. Twice is once."""
    now = now or timezone.now()
    require_lead(actor, signup.task)
    s = _locked(signup.pk)
    if s.checked_in_at is None:
        raise DomainError(
            "not_checked_in",
            _("%(name)s has not checked in: check in first.") % {"name": s.volunteer.name},
        )
    if s.checked_out_at is None:
        _do_check_out(actor=actor, signup=s, now=now)
    return s


@transaction.atomic
def correct(
    *,
    actor,
    signup: Signup,
    checked_in_at: dt.datetime | None = None,
    checked_out_at: dt.datetime | None = None,
    minutes: int | None = None,
    reason: str,
) -> Signup:
    """A leader corrects the times or the credited minutes, saying why. Without minutes given,
    the minutes follow the (new) times."""
    require_lead(actor, signup.task)
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", _("Say why the hours are corrected (e.g. forgot to check out)."))
    if checked_in_at is None and checked_out_at is None and minutes is None:
        raise invalid("minutes", _("Give the new check-in, check-out or minutes."))
    s = _locked(signup.pk)
    if s.status not in (SignupStatus.TAKEN, SignupStatus.NO_SHOW):
        raise DomainError(
            "no_place",
            _("%(name)s has no place on this task: only a place's hours can be corrected.")
            % {"name": s.volunteer.name},
        )
    new_in = checked_in_at or s.checked_in_at
    new_out = checked_out_at or s.checked_out_at
    if new_out is not None and new_in is None:
        raise invalid("checked_in_at", _("Give the check-in time too."))
    if new_in is not None and new_out is not None and new_out <= new_in:
        raise invalid("checked_out_at", _("The check-out must be after the check-in."))
    if minutes is not None:
        if minutes < 0 or minutes > MAX_MINUTES:
            raise invalid(
                "minutes", _("Minutes run from 0 to %(max)s (24 hours).") % {"max": MAX_MINUTES}
            )
        new_minutes = minutes
    elif new_in is not None and new_out is not None:
        if new_out - new_in > dt.timedelta(minutes=MAX_MINUTES):
            raise invalid(
                "checked_out_at", _("That is more than 24 hours: check the dates of the times.")
            )
        new_minutes = minutes_between(new_in, new_out)
    else:
        new_minutes = s.minutes
    Correction.objects.create(
        community_id=s.community_id,
        signup=s,
        before_in=s.checked_in_at,
        before_out=s.checked_out_at,
        before_minutes=s.minutes,
        after_in=new_in,
        after_out=new_out,
        after_minutes=new_minutes,
        reason=reason[:200],
        by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    before = s.minutes
    s.checked_in_at, s.checked_out_at, s.minutes = new_in, new_out, new_minutes
    fields = ["checked_in_at", "checked_out_at", "minutes"]
    if s.status == SignupStatus.NO_SHOW and new_minutes:
        # They came after all: the place counts as served, not missed.
        s.status = SignupStatus.TAKEN
        fields.append("status")
    s.auto_closed = False  # a leader looked at it
    s.save(update_fields=[*fields, "auto_closed"])
    audit(
        actor=actor,
        action="volunteers.correct",
        community=s.community_id,
        target=s,
        summary=f"{s.volunteer.name} · {s.task.title}: {before} → {new_minutes} min",
        reason=reason,
    )
    return s


def close_open(*, community_id: int | None = None, now: dt.datetime | None = None) -> int:
    """Check-ins without a check-out whose task ended more than two hours ago: closed at the
    task's end (auto_closed, for a leader to look at). Returns how many."""
    now = now or timezone.now()
    qs = Signup.objects.filter(
        status=SignupStatus.TAKEN,
        checked_in_at__isnull=False,
        checked_out_at__isnull=True,
        task__ends_at__lt=now - CLOSE_AFTER,
    ).select_related("task", "volunteer")
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    n = 0
    for s in qs.order_by("pk"):
        out = max(s.task.ends_at, s.checked_in_at)
        with transaction.atomic():
            # Conditional: a check-out that came in meanwhile wins.
            done = Signup.objects.filter(pk=s.pk, checked_out_at=None).update(
                checked_out_at=out,
                minutes=minutes_between(s.checked_in_at, out),
                auto_closed=True,
            )
            if done:
                n += 1
                audit(
                    actor=None,
                    action="volunteers.auto_close",
                    community=s.community_id,
                    target=s,
                    summary=f"{s.volunteer.name} · {s.task.title}: closed at {_when(out)}",
                )
    return n
