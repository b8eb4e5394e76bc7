"""Clear by shift, clear by day (每班清、每日清).

Shifts come from the policy's start times in the community's time (Asia/Shanghai); the last one
of the day runs across midnight to the first one's start. At the end of a shift the operator
going off duty hands over to the next one by name: every live request is listed as it stood, and
what the off-going operator owned (or nobody owned) moves to the receiver. The sweep (cron,
every 15 minutes) escalates overdue requests to the community admin, hands over a shift nobody
handed over (automatic, to nobody: it is listed, so nothing ages silently), and closes the day
after midnight with a summary of yesterday.

Every function takes `now` so the tests freeze the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.accounts.models import Role
from shouwang.accounts.permissions import can
from shouwang.core.audit import audit
from shouwang.core.errors import Forbidden, invalid
from shouwang.core.models import AuditEvent
from shouwang.helpline import selectors
from shouwang.helpline.intake import event
from shouwang.helpline.models import (
    LIVE,
    Category,
    EventKind,
    Group,
    Handover,
    HandoverItem,
    HelpRequest,
    Policy,
)

# An operator who hands over this soon after the end of their shift hands over that shift (they
# stayed on a few minutes); the sweep waits as long before it hands over for them.
GRACE = dt.timedelta(minutes=30)
DAY_CLOSE = "helpline.day_close"


# --- shift windows ------------------------------------------------------------------------------


def _times(policy: Policy) -> list[dt.time]:
    out = sorted({dt.time.fromisoformat(s) for s in policy.starts()})
    return out or [dt.time(0)]


def _local(day: dt.date, t: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, t))


def window(policy: Policy, when: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The shift `when` falls in: (start, end), end excluded."""
    day = timezone.localtime(when).date()
    starts = [
        _local(day + dt.timedelta(days=d), t) for d in (-1, 0, 1) for t in _times(policy)
    ]  # sorted: days in order, times sorted within each day
    for a, b in zip(starts, starts[1:], strict=False):
        if a <= when < b:
            return a, b
    raise AssertionError("a moment falls in no shift")  # pragma: no cover


def shift_at(community_id: int, when: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The community's shift that `when` falls in, as (start, end)."""
    return window(selectors.policy_for(community_id), when)


def previous_shift(community_id: int, when: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    policy = selectors.policy_for(community_id)
    start, _end = window(policy, when)
    return window(policy, start - dt.timedelta(microseconds=1))


def shift_to_hand(community_id: int, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The shift an operator hands over now: the one that just ended, if it ended less than
    GRACE ago and nobody handed it over yet; otherwise the current one (handed over before its
    end)."""
    policy = selectors.policy_for(community_id)
    start, end = window(policy, now)
    if now - start < GRACE:
        prev = window(policy, start - dt.timedelta(microseconds=1))
        if not Handover.objects.filter(community_id=community_id, shift_end=prev[1]).exists():
            return prev
    return start, end


# --- handover -----------------------------------------------------------------------------------


def _live(community_id: int):
    return HelpRequest.objects.filter(community_id=community_id, status__in=LIVE)


def handover(
    actor,
    community_id: int,
    *,
    received_by=None,
    note: str = "",
    now: dt.datetime | None = None,
    automatic: bool = False,
    shift: tuple[dt.datetime, dt.datetime] | None = None,
) -> Handover:
    """Hand the shift over. One handover per shift end: a second call returns the first
    (`handover.created` says which). Every live request becomes an item; the off-going
    operator's requests, and requests nobody owns (or whose owner left), go to `received_by`
    with a HANDED_OVER line in their log."""
    now = now or timezone.now()
    start, end = shift or shift_to_hand(community_id, now)
    done = Handover.objects.filter(community_id=community_id, shift_end=end).first()
    if done is not None:
        done.created = False
        return done
    if not automatic:
        if received_by is None:
            raise invalid("received_by", _("Say who takes over."))
        if received_by.pk == getattr(actor, "pk", None):
            raise invalid(
                "received_by", _("Hand over to the next shift's operator, not to yourself.")
            )
        if not selectors.duty_users(community_id).filter(pk=received_by.pk).exists():
            raise invalid(
                "received_by", _("Hand over to someone of this community who takes calls.")
            )
    off_going = actor if getattr(actor, "is_authenticated", False) and not automatic else None
    try:
        with transaction.atomic():
            h = Handover.objects.create(
                community_id=community_id,
                shift_start=start,
                shift_end=end,
                handed_by=off_going,
                received_by=None if automatic else received_by,
                note=(note or "").strip(),
                automatic=automatic,
                created_at=now,
            )
            items = []
            live = list(_live(community_id).select_related("owner").order_by("urgency", "due_at"))
            for req in live:
                before = req.owner
                moves = h.received_by_id is not None and (
                    before is None
                    or not before.is_active
                    or (off_going is not None and before.pk == off_going.pk)
                )
                after = before
                if moves:
                    # Conditional: a request closed meanwhile is not moved back onto a desk.
                    moved = HelpRequest.objects.filter(pk=req.pk, status__in=LIVE).update(
                        owner_id=h.received_by_id, updated_at=now
                    )
                    if moved:
                        after = received_by
                        event(
                            req,
                            EventKind.HANDED_OVER,
                            off_going,
                            at=now,
                            from_user=before,
                            to_user=received_by,
                            text=h.note[:200],
                        )
                items.append(
                    HandoverItem(
                        handover=h,
                        request=req,
                        status=req.status,
                        owner_before=before,
                        owner_after=after,
                        overdue=req.due_at < now,
                    )
                )
            HandoverItem.objects.bulk_create(items)
            audit(
                actor=off_going,
                action="helpline.handover_auto" if automatic else "helpline.handover",
                community=community_id,
                target=h,
                summary=f"{timezone.localtime(end):%Y-%m-%d %H:%M} {len(items)}",
            )
    except IntegrityError:
        # The same shift handed over at the same moment by someone else (or the sweep).
        h = Handover.objects.get(community_id=community_id, shift_end=end)
        h.created = False
        return h
    h.created = True
    return h


def may_acknowledge(user, handover_: Handover) -> bool:
    """The receiver; anyone on duty for a handover to nobody (the sweep's); the office for any."""
    return handover_.received_by_id in (None, getattr(user, "pk", None)) or can(
        user, "helpline.manage"
    )


def acknowledge(actor, handover_: Handover, *, now: dt.datetime | None = None) -> Handover:
    """The receiver says they have read the list (may_acknowledge)."""
    if not may_acknowledge(actor, handover_):
        raise Forbidden("not_receiver", _("Only the operator it was handed to can acknowledge it."))
    now = now or timezone.now()
    with transaction.atomic():
        n = Handover.objects.filter(pk=handover_.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=now
        )
        if n:
            audit(
                actor=actor,
                action="helpline.handover_ack",
                community=handover_.community_id,
                target=handover_,
            )
    handover_.refresh_from_db()
    return handover_


def handovers_for(user):
    if not getattr(user, "is_authenticated", False) or user.community_id is None:
        return Handover.objects.none()
    return Handover.objects.filter(community_id=user.community_id).select_related(
        "handed_by", "received_by"
    )


def handover_items(user, handover_: Handover):
    """The handover's list as the user may see it (a grid leader: their grid's and their own)."""
    visible = selectors.requests_for(user).values("pk")
    return (
        handover_.items.filter(request__in=visible)
        .select_related(
            "request__category",
            "request__household",
            "request__owner",
            "request__escalated_to",
            "owner_before",
            "owner_after",
        )
        .order_by("request__urgency", "request__due_at", "pk")
    )


# --- overdue and escalation ---------------------------------------------------------------------


def overdue(community_id: int, *, now: dt.datetime | None = None):
    """Live requests past their due time, most urgent and oldest first, with their owners."""
    now = now or timezone.now()
    return (
        _live(community_id)
        .filter(due_at__lt=now)
        .select_related("owner", "escalated_to", "category", "household")
        .order_by("urgency", "due_at", "pk")
    )


def community_admins(community_id: int):
    from shouwang.accounts.models import User

    return User.objects.filter(community_id=community_id, role=Role.ADMIN, is_active=True).order_by(
        "pk"
    )


def escalate(community_id: int, *, now: dt.datetime) -> list[HelpRequest]:
    """Overdue live requests not escalated yet, escalate_after_minutes past their due time, go
    to the community admin (the first admin; the event says so on the request's log)."""
    policy = selectors.policy_for(community_id)
    limit = now - dt.timedelta(minutes=policy.escalate_after_minutes)
    admin = community_admins(community_id).first()
    done = []
    for req in (
        _live(community_id)
        .filter(due_at__lt=limit, escalated_at__isnull=True)
        .order_by("urgency", "due_at", "pk")
    ):
        with transaction.atomic():
            n = HelpRequest.objects.filter(pk=req.pk, escalated_at__isnull=True).update(
                escalated_at=now, escalated_to=admin, updated_at=now
            )
            if not n:
                continue
            late = int((now - req.due_at).total_seconds() // 60)
            event(
                req,
                EventKind.ESCALATED,
                None,
                at=now,
                from_user_id=req.owner_id,
                to_user=admin,
                text=_("Overdue by %(m)s minutes.") % {"m": late},
            )
        req.escalated_at, req.escalated_to = now, admin
        done.append(req)
    return done


# --- the day's close ----------------------------------------------------------------------------


@dataclass
class DayClose:
    day: dt.date
    logged: int
    closed: int  # resolved, closed or found unresolvable during the day
    carried: int  # still live at midnight
    overdue: int  # of those carried over, past their due time at midnight
    by_group: dict = field(default_factory=dict)
    carried_requests: list = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.day.isoformat()}: logged {self.logged}, closed {self.closed}, "
            f"carried over {self.carried}, overdue {self.overdue}"
        )


def _bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return _local(day, dt.time(0)), _local(day + dt.timedelta(days=1), dt.time(0))


def day_close(community_id: int, day: dt.date, *, user=None) -> DayClose:
    """The day's figures as they stood at midnight: logged that day, finished that day, still
    open at midnight (carried over) and of those overdue. Read from the ledger, not stored: a
    request is open at midnight if it was logged before and not finished by then."""
    start, end = _bounds(day)
    qs = HelpRequest.objects.filter(community_id=community_id)
    logged = qs.filter(created_at__gte=start, created_at__lt=end)
    closed = qs.filter(resolved_at__gte=start, resolved_at__lt=end)
    carried = qs.filter(created_at__lt=end).filter(
        Q(resolved_at__gte=end) | Q(resolved_at__isnull=True, status__in=LIVE)
    )
    by_group = dict.fromkeys(Group.values, 0)
    for g in logged.values_list("group", flat=True):
        by_group[g] += 1
    shown = carried
    if user is not None:
        shown = carried.filter(pk__in=selectors.requests_for(user).values("pk"))
    return DayClose(
        day=day,
        logged=sum(by_group.values()),
        closed=closed.count(),
        carried=carried.count(),
        overdue=carried.filter(due_at__lt=end).count(),
        by_group={Group(g).label: n for g, n in by_group.items() if n},
        carried_requests=list(
            shown.select_related("owner", "escalated_to", "category").order_by(
                "urgency", "due_at", "pk"
            )[:200]
        ),
    )


def close_day(community_id: int, day: dt.date) -> DayClose | None:
    """Record the day's close once (an audit row with the summary); None if it is done."""
    with transaction.atomic():
        if AuditEvent.objects.filter(
            community_id=community_id, action=DAY_CLOSE, target_id=day.isoformat()
        ).exists():
            return None
        c = day_close(community_id, day)
        audit(
            actor=None,
            action=DAY_CLOSE,
            community=community_id,
            target_type="helpline.day",
            target_id=day.isoformat(),
            summary=c.summary(),
        )
    return c


# --- the sweep ----------------------------------------------------------------------------------


@dataclass
class Sweep:
    escalated: list = field(default_factory=list)
    handovers: list = field(default_factory=list)
    closed_day: DayClose | None = None

    def lines(self) -> list[str]:
        out = [
            f"escalated {r.reference} (due {timezone.localtime(r.due_at):%m-%d %H:%M}) to "
            f"{r.escalated_to.username if r.escalated_to else 'nobody (no admin)'}"
            for r in self.escalated
        ]
        out += [
            f"handed over the shift ending {timezone.localtime(h.shift_end):%m-%d %H:%M} "
            f"automatically: {h.items.count()} open"
            for h in self.handovers
        ]
        if self.closed_day is not None:
            out.append(f"closed the day {self.closed_day.summary()}")
        return out


def sweep(community_id: int, *, now: dt.datetime | None = None) -> Sweep:
    """What cron runs every 15 minutes: escalate, hand over what nobody handed over, close
    yesterday. Running it twice does nothing more."""
    now = now or timezone.now()
    out = Sweep(escalated=escalate(community_id, now=now))
    # The shifts that ended more than GRACE ago: normally only the last one, but a sweep that
    # did not run for a while catches up since the last handover (a day at the most; on a
    # community's first sweep, the last shift only).
    last = (
        Handover.objects.filter(community_id=community_id, shift_end__lte=now)
        .order_by("-shift_end")
        .values_list("shift_end", flat=True)
        .first()
    )
    since = max(last, now - dt.timedelta(days=1)) if last else None
    policy = selectors.policy_for(community_id)
    start, _end = window(policy, now)
    shifts = []
    cursor = start
    while cursor > now - dt.timedelta(days=1):
        prev = window(policy, cursor - dt.timedelta(microseconds=1))
        if since is not None and prev[1] <= since:
            break
        if prev[1] <= now - GRACE:
            shifts.append(prev)
        if since is None:
            break
        cursor = prev[0]
    for shift in reversed(shifts):
        # handover() returns the shift's handover untouched when someone made it already.
        h = handover(None, community_id, now=now, automatic=True, shift=shift)
        if h.created:
            out.handovers.append(h)
    out.closed_day = close_day(community_id, timezone.localtime(now).date() - dt.timedelta(days=1))
    return out


# --- settings: the shifts and time limits (helpline.manage) -------------------------------------


def _clock(value: str) -> str:
    try:
        return dt.time.fromisoformat(value.strip()).strftime("%H:%M")
    except (ValueError, AttributeError):
        raise invalid("shift_starts", _("Give each start as HH:MM, e.g. 08:00.")) from None


def policy_save(
    *,
    actor,
    community_id: int,
    shift_starts: list[str],
    escalate_after_minutes: int,
    callback_within_hours: int,
) -> Policy:
    starts = sorted({_clock(s) for s in shift_starts if s and s.strip()})
    if not starts:
        raise invalid("shift_starts", _("Give at least one shift start."))
    if len(starts) > 6:
        raise invalid("shift_starts", _("Six shifts a day at the most."))
    if not 0 <= escalate_after_minutes <= 7 * 24 * 60:
        raise invalid("escalate_after_minutes", _("Between 0 and a week, in minutes."))
    if not 1 <= callback_within_hours <= 7 * 24:
        raise invalid("callback_within_hours", _("Between 1 hour and a week."))
    with transaction.atomic():
        policy = selectors.policy_for(community_id)
        policy.shift_starts = starts
        policy.escalate_after_minutes = escalate_after_minutes
        policy.callback_within_hours = callback_within_hours
        policy.save(
            update_fields=["shift_starts", "escalate_after_minutes", "callback_within_hours"]
        )
        audit(
            actor=actor,
            action="helpline.policy",
            community=community_id,
            target=policy,
            summary=f"{','.join(starts)} +{escalate_after_minutes}m cb {callback_within_hours}h",
        )
    return policy


def category_save(
    *,
    actor,
    community_id: int,
    category: Category | None = None,
    group: str | None = None,
    name: str,
    limit_minutes: int,
    is_active: bool = True,
) -> Category:
    """Add a category (group, name, time limit) or rename / re-time / retire one. The group of
    an existing category stays: the statistics count requests by the group they were logged
    under."""
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise invalid("name", _("Give the category a name (50 characters at the most)."))
    if not 5 <= limit_minutes <= 30 * 24 * 60:
        raise invalid("limit_minutes", _("A time limit between 5 minutes and 30 days."))
    if category is None and group not in Group.values:
        raise invalid("group", _("Choose a group."))
    taken = Category.objects.filter(
        community_id=community_id, group=category.group if category else group, name=name
    )
    if category is not None:
        taken = taken.exclude(pk=category.pk)
    if taken.exists():
        raise invalid("name", _("This group has a category of that name already."))
    with transaction.atomic():
        if category is None:
            last = Category.objects.filter(community_id=community_id).order_by("-position").first()
            category = Category.objects.create(
                community_id=community_id,
                group=group,
                name=name,
                limit_minutes=limit_minutes,
                position=(last.position + 1) if last else 0,
                is_active=is_active,
            )
            action = "helpline.category_add"
        else:
            category.name, category.limit_minutes, category.is_active = (
                name,
                limit_minutes,
                is_active,
            )
            category.save(update_fields=["name", "limit_minutes", "is_active"])
            action = "helpline.category"
        audit(
            actor=actor,
            action=action,
            community=community_id,
            target=category,
            summary=f"{name} {limit_minutes}m{'' if is_active else ' retired'}",
        )
    return category


def live_by_owner(user) -> list[tuple]:
    """Who holds what right now: (owner or None, live, overdue) for the shift page."""
    now = timezone.now()
    rows: dict = {}
    for req in selectors.requests_for(user).filter(status__in=LIVE).select_related("owner"):
        key = req.owner
        n = rows.setdefault(key.pk if key else None, [key, 0, 0])
        n[1] += 1
        n[2] += req.due_at < now
    return sorted((tuple(v) for v in rows.values()), key=lambda r: (r[0] is None, -r[1]))
