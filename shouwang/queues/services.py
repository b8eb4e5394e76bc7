"""The queue's rules. Every write is one transaction; views, the API and the CLI call these.

Concurrency (docs/decisions/0005-queue.md): a ticket's number comes from a conditional
`UPDATE … SET issued = issued + 1 WHERE issued < tickets_total RETURNING issued` in the same
transaction as the ticket's insert, and (day, household, slot) is unique. A failed insert rolls
the counter back, so numbers are gapless and never exceed the day's tickets on SQLite
(IMMEDIATE transactions) and PostgreSQL (the row lock of the UPDATE) alike. Counter actions lock
the day row and carry the version the staff saw, so a double tap does not call two numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import threading
from dataclasses import dataclass

from django import db
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.core import crypto, rawrows
from shouwang.core.audit import audit, signed_in
from shouwang.core.errors import Conflict, Forbidden, invalid
from shouwang.core.masking import mask_phone
from shouwang.queues.models import (
    SEQ_STEP,
    Channel,
    Goods,
    Notify,
    QueueEvent,
    QueuePoint,
    Registration,
    SaleDay,
    Ticket,
)
from shouwang.registry import areas
from shouwang.registry.models import Household

logger = logging.getLogger(__name__)

SERVING_SHOWN = 5
NEXT_SHOWN = 8
# Service rate: the mean gap between the last RATE_WINDOW+1 customers served.
RATE_WINDOW = 10


class SoldOut(Conflict):
    pass


# --- points and days ------------------------------------------------------------------------


def point_serves(point: QueuePoint, household: Household) -> bool:
    """Whether the point serves this household's place (nothing chosen: the whole community)."""
    if point.community_id != household.community_id:
        return False
    return areas.covers(_point_scope(point), household.building)


def _point_scope(point: QueuePoint) -> set[tuple[str, int]]:
    """The point's compounds ("c", id), buildings ("b", id) and grids ("g", id): from a
    prefetch when the caller made one (the demo), else in one query, not three (taking a
    ticket pays for it on every press: benchmarks/queue_take.py)."""
    given = getattr(point, "scope_read", None)
    if given is not None:  # read with the point by the caller (the quick take path)
        return given
    cache = getattr(point, "_prefetched_objects_cache", {})
    if {"compounds", "buildings", "grids"} <= cache.keys():
        return (
            {("c", x.pk) for x in point.compounds.all()}
            | {("b", x.pk) for x in point.buildings.all()}
            | {("g", x.pk) for x in point.grids.all()}
        )
    return areas.scope_of(point)


def points_serving(household: Household):
    """Active points of the household's community that serve its place."""
    return areas.serving(
        QueuePoint.objects.filter(community_id=household.community_id, active=True), household
    )


def point_save(
    *, actor, point: QueuePoint | None = None, compounds=(), buildings=(), grids=(), **fields
):
    with transaction.atomic():
        created = point is None
        if created:
            point = QueuePoint(community_id=actor.community_id)
        for k, v in fields.items():
            setattr(point, k, v)
        point.full_clean(exclude=["community"])
        point.save()
        point.compounds.set(compounds)
        point.buildings.set(buildings)
        point.grids.set(grids)
        audit(
            actor=actor,
            action="queue.point." + ("create" if created else "update"),
            community=point.community_id,
            target=point,
            summary=point.name,
        )
    return point


# What staff set for a day; its date is the sale's local date (day_check).
DAY_FIELDS = (
    "title",
    "take_opens_at",
    "take_closes_at",
    "sale_starts_at",
    "sale_ends_at",
    "tickets_total",
    "per_household",
    "come_when",
    "mode",
    "draw_at",
    "skip_policy",
    "grace_seconds",
    "expected_service_seconds",
)


def day_check(day: SaleDay) -> None:
    """The day's times and numbers make sense together; DomainError naming the field if not."""
    if day.sale_starts_at is not None:
        # The day is the sale's local date: one source of truth, never two that disagree.
        day.date = timezone.localtime(day.sale_starts_at).date()
    if day.take_opens_at >= day.take_closes_at:
        raise invalid("take_closes_at", _("Tickets must stop being handed out after they start."))
    if day.sale_starts_at >= day.sale_ends_at:
        raise invalid("sale_ends_at", _("The sale must end after it starts."))
    if day.take_opens_at > day.sale_ends_at:
        raise invalid("take_opens_at", _("Tickets must be available before the sale ends."))
    if not 1 <= day.tickets_total <= 100_000:
        raise invalid("tickets_total", _("The number of tickets must be between 1 and 100,000."))
    if day.tickets_total < day.issued:
        raise invalid(
            "tickets_total",
            _("%(n)d tickets have already been handed out: the number cannot be lower.")
            % {"n": day.issued},
        )
    if not 1 <= day.per_household <= 10:
        raise invalid("per_household", _("Tickets per household must be between 1 and 10."))
    if not 1 <= day.come_when <= 200:
        raise invalid("come_when", _("'Come when N are ahead' must be between 1 and 200."))
    if day.mode == SaleDay.Mode.DRAW:
        if day.draw_at is None:
            raise invalid("draw_at", _("A draw needs the time registration closes and it runs."))
        if not day.take_opens_at < day.draw_at <= day.take_closes_at:
            raise invalid(
                "draw_at",
                _("The draw must be after tickets open and no later than tickets close."),
            )


def _new_public_key() -> str:
    return secrets.token_urlsafe(9)[:12]


def new_follow_key() -> str:
    return secrets.token_urlsafe(16)


def day_create(*, actor, point: QueuePoint, **fields) -> SaleDay:
    day = SaleDay(community_id=point.community_id, point=point, created_by=actor)
    for k in DAY_FIELDS:
        if k in fields:
            setattr(day, k, fields[k])
    if day.mode != SaleDay.Mode.DRAW:
        day.draw_at = None
    day_check(day)
    seed = secrets.token_hex(32)
    day.draw_seed = seed
    day.draw_seed_hash = hashlib.sha256(seed.encode()).hexdigest()
    day.public_key = _new_public_key()
    day.snapshot = {}
    with transaction.atomic():
        day.save()
        day.snapshot = _snapshot(day)  # its tickets are looked up by the day's id
        day.save(update_fields=["snapshot"])
        audit(
            actor=actor,
            action="queue.day.create",
            community=day.community_id,
            target=day,
            summary=f"{point.name} {day.date} ({day.tickets_total})",
        )
    return day


def day_update(*, actor, day: SaleDay, **fields) -> SaleDay:
    with transaction.atomic():
        d = SaleDay.objects.select_for_update().get(pk=day.pk)
        started = d.started
        for k in DAY_FIELDS:
            if k not in fields:
                continue
            if started and k in ("mode", "draw_at") and fields[k] != getattr(d, k):
                raise invalid(
                    k,
                    _("People have already asked for tickets: the mode and the draw time stay."),
                )
            setattr(d, k, fields[k])
        if d.mode != SaleDay.Mode.DRAW:
            d.draw_at = None
        day_check(d)
        _changed(d, *DAY_FIELDS, "date")
        audit(
            actor=actor,
            action="queue.day.update",
            community=d.community_id,
            target=d,
            summary=f"{d.point.name} {d.date} ({d.tickets_total})",
        )
    return d


def day_close(*, actor, day: SaleDay) -> SaleDay:
    """End the day: no more tickets; those still waiting or called count as not served."""
    now = timezone.now()
    with transaction.atomic():
        d = SaleDay.objects.select_for_update().get(pk=day.pk)
        if d.closed_at is None:
            d.closed_at = now
            Ticket.objects.filter(
                day=d, status__in=[Ticket.Status.WAITING, Ticket.Status.CALLED]
            ).update(status=Ticket.Status.NO_SHOW, ended_at=now)
            _changed(d, "closed_at")
            audit(actor=actor, action="queue.day.close", community=d.community_id, target=d)
    return d


# --- taking a ticket ------------------------------------------------------------------------


@dataclass
class Taken:
    """The result of asking for a ticket: a Ticket, or a draw Registration before the draw."""

    ticket: Ticket | None = None
    registration: Registration | None = None
    created: bool = True

    @property
    def follow_key(self) -> str:
        return (self.ticket or self.registration).follow_key


def _notify_columns(notify: str, sms_phone: str) -> dict:
    if notify == Notify.SMS:
        from shouwang.registry.validation import InvalidValue, check_mobile

        try:
            sms_phone = check_mobile(sms_phone or "")
        except InvalidValue as e:
            raise invalid("sms_phone", e.message) from None
        if not sms_phone:
            raise invalid("sms_phone", _("Choose or type the mobile number for the text message."))
        return {
            "notify": Notify.SMS,
            "sms_phone_enc": crypto.encrypt(sms_phone),
            "sms_phone_masked": mask_phone(sms_phone),
        }
    if notify not in Notify.values:
        raise invalid("notify", _("Choose how you want to be told to come."))
    return {"notify": notify, "sms_phone_enc": "", "sms_phone_masked": ""}


def _check_window(day: SaleDay, now) -> None:
    if day.closed_at is not None:
        raise Conflict("day_closed", _("This sale day is over. Look for the next one."))
    if now < day.take_opens_at:
        raise Conflict(
            "not_open_yet",
            _("Tickets are handed out from %(t)s.")
            % {"t": timezone.localtime(day.take_opens_at).strftime("%m-%d %H:%M")},
        )
    if now >= day.take_closes_at:
        raise Conflict("take_closed", _("Tickets are no longer handed out for this day."))


def _refuse_sold_out(day: SaleDay) -> SoldOut:
    return SoldOut(
        "sold_out",
        _("All %(n)d tickets for this day have been taken. Look out for the next sale.")
        % {"n": day.tickets_total},
    )


# `held` not given: ticket_take reads the household's ticket itself when it needs it.
UNREAD = object()


def ticket_take(
    *,
    day: SaleDay,
    household: Household,
    channel: str = Channel.HOUSEHOLD,
    actor=None,
    consent=None,
    notify: str = Notify.PAGE,
    sms_phone: str = "",
    now=None,
    held=UNREAD,
) -> Taken:
    """A ticket for the household (or, before a draw, a place in it).

    Idempotent: asking again when the household already has all it may take returns what it has
    (`created=False`). SoldOut (409) when no tickets are left. `held`: the household's ticket
    for the day (slot 1) or None, when the caller read it in the same query as `day` (the quick
    take path: one read fewer)."""
    now = now or timezone.now()
    _check_window(day, now)
    if not day.point.active:
        raise Conflict("point_inactive", _("This point is not handing out numbers any more."))
    if not point_serves(day.point, household):
        raise Forbidden(
            "not_served",
            _("%(point)s does not serve this building. Ask the committee which point serves you.")
            % {"point": day.point.name},
        )
    if consent is not None and (
        consent.household_id != household.pk or consent.revoked_at is not None
    ):
        raise Forbidden("no_consent", _("This household has not agreed that you act for it."))
    cols = _notify_columns(notify, sms_phone)
    common = {
        "community_id": day.community_id,
        "household": household,
        "channel": channel,
        "taken_by": signed_in(actor),
        "consent": consent,
        **cols,
    }
    if day.mode == SaleDay.Mode.DRAW:
        if day.drawn_at is None and now < day.draw_at:
            return _register(day, common)
        if day.drawn_at is None:
            day = draw_run(day=day, now=now)
    if day.per_household == 1:
        return _take_one(day, household, common, consent, now, held)
    while True:
        existing = list(Ticket.objects.filter(day=day, household=household).order_by("slot"))
        if len(existing) >= day.per_household:
            return Taken(ticket=existing[-1], created=False)
        slot = len(existing) + 1
        try:
            t = _issue(day, slot, common, consent, now)
        except IntegrityError:
            # Another request for the same household took this slot at the same moment (the
            # rollback gave its number back): look again, and take the next slot if one is left.
            if not Ticket.objects.filter(day=day, household=household, slot=slot).exists():
                raise
            continue
        return Taken(ticket=t, created=True)


def _take_one(day: SaleDay, household: Household, common: dict, consent, now, held) -> Taken:
    """One ticket per household, the usual day. Nearly every press is a household's first, so
    there is no look-up before the counter: a second press loses on UNIQUE (day, household,
    slot) and answers with the first one's ticket. A day already full as read for this request
    refuses without a write transaction (`issued` never goes down)."""

    def own() -> Ticket | None:
        # Raw, not the ORM: in a burst most presses are refusals, and this is all they read.
        return rawrows.fetch(
            Ticket, "day_id = %s AND household_id = %s AND slot = 1", [day.pk, household.pk]
        )

    if held is not UNREAD and held is not None:
        return Taken(ticket=held, created=False)
    if day.issued >= day.tickets_total:
        t = own() if held is UNREAD else held
        if t is not None:
            return Taken(ticket=t, created=False)
        raise _refuse_sold_out(day)
    try:
        t = _issue(day, 1, common, consent, now)
    except (IntegrityError, SoldOut):
        # The same household pressed twice at once, or the last ticket went while it asked:
        # a ticket it already holds is the answer.
        t = own()
        if t is None:
            raise
        return Taken(ticket=t, created=False)
    return Taken(ticket=t, created=True)


def _issue(day: SaleDay, slot: int, common: dict, consent, now) -> Ticket:
    """The next number and the ticket, in one transaction (IntegrityError: the slot is taken,
    and the counter is rolled back with it)."""
    with transaction.atomic():
        with connection.cursor() as c:
            c.execute(
                "UPDATE queues_saleday SET issued = issued + 1 "
                "WHERE id = %s AND issued < tickets_total AND closed_at IS NULL "
                "RETURNING issued",
                [day.pk],
            )
            row = c.fetchone()
        if row is None:
            # Full (or closed) since the caller read it; raw: in a burst, many presses get here.
            current = rawrows.fetch(SaleDay, "id = %s", [day.pk])
            _check_window(current, now)
            raise _refuse_sold_out(current)
        number = row[0]
        t = rawrows.insert(
            Ticket(
                day=day,
                number=number,
                slot=slot,
                seq=number * SEQ_STEP,
                follow_key=new_follow_key(),
                **common,
            )
        )
        if consent is not None:
            _behalf(consent, t, day)
    return t


def _behalf(consent, obj, day, *, action: str = "queue.ticket") -> None:
    from shouwang.residents.services import behalf_record

    behalf_record(
        consent=consent,
        action=action,
        summary=f"{day.point.name} {day.date} {obj}",
        target=obj,
    )


def _register(day: SaleDay, common: dict) -> Taken:
    existing = Registration.objects.filter(day=day, household=common["household"]).first()
    if existing is not None:
        return Taken(registration=existing, created=False)
    try:
        with transaction.atomic():
            with connection.cursor() as c:
                c.execute(
                    "UPDATE queues_saleday SET registered = registered + 1 "
                    "WHERE id = %s AND drawn_at IS NULL RETURNING registered",
                    [day.pk],
                )
                row = c.fetchone()
            if row is None:
                raise Conflict("drawn", _("The draw has just run. Ask again for a ticket."))
            r = Registration.objects.create(
                day=day, code=row[0], follow_key=new_follow_key(), **common
            )
            if common.get("consent") is not None:
                _behalf(common["consent"], r, day)
    except IntegrityError:
        r = Registration.objects.filter(day=day, household=common["household"]).first()
        if r is None:
            raise
        return Taken(registration=r, created=False)
    return Taken(registration=r, created=True)


def ticket_cancel(*, ticket: Ticket, actor=None, consent=None) -> Ticket:
    """The household gives its number back (only while waiting); `consent` when someone does it
    on the household's behalf (recorded for the household to see)."""
    with transaction.atomic():
        d = SaleDay.objects.select_for_update().get(pk=ticket.day_id)
        t = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if t.status == Ticket.Status.CANCELLED:
            return t
        if t.status != Ticket.Status.WAITING:
            raise Conflict(
                "not_waiting", _("Only a number that has not been called can be given back.")
            )
        before = _ticket_state(t)
        t.status = Ticket.Status.CANCELLED
        t.ended_at = timezone.now()
        t.save(update_fields=["status", "ended_at"])
        _record(d, QueueEvent.Kind.CANCEL, t, actor, [before])
        if consent is not None:
            _behalf(consent, t, d, action="queue.cancel")
    return t


# --- the draw -------------------------------------------------------------------------------


def draw_key(seed: str, code: int) -> str:
    """A registration's place in the draw: SHA-256 of "<seed>:<code>", smallest first.

    Anyone can re-run it: `printf '%s:%s' SEED CODE | sha256sum` for each code, then sort."""
    return hashlib.sha256(f"{seed}:{code}".encode()).hexdigest()


def draw_order(seed: str, codes) -> list[int]:
    return sorted(codes, key=lambda c: draw_key(seed, c))


def draw_run(*, day: SaleDay, now=None, actor=None) -> SaleDay:
    """Shuffle the registrations with the day's seed and hand out numbers in that order.

    Idempotent; refused before `draw_at`. Tickets left over go first come from then on."""
    now = now or timezone.now()
    with transaction.atomic():
        d = SaleDay.objects.select_for_update().get(pk=day.pk)
        if d.drawn_at is not None or d.mode != SaleDay.Mode.DRAW or d.closed_at is not None:
            return d
        if now < d.draw_at:
            raise Conflict(
                "draw_not_due",
                _("The draw runs at %(t)s, when registration closes.")
                % {"t": timezone.localtime(d.draw_at).strftime("%m-%d %H:%M")},
            )
        regs = {r.code: r for r in Registration.objects.filter(day=d)}
        order = draw_order(d.draw_seed, regs)
        winners = order[: d.tickets_total]
        tickets = []
        for i, code in enumerate(winners, start=1):
            r = regs[code]
            tickets.append(
                Ticket(
                    community_id=d.community_id,
                    day=d,
                    number=i,
                    slot=1,
                    seq=i * SEQ_STEP,
                    household_id=r.household_id,
                    channel=r.channel,
                    taken_by_id=r.taken_by_id,
                    consent_id=r.consent_id,
                    notify=r.notify,
                    sms_phone_enc=r.sms_phone_enc,
                    sms_phone_masked=r.sms_phone_masked,
                    follow_key=r.follow_key,
                )
            )
        Ticket.objects.bulk_create(tickets, batch_size=500)
        by_household = {
            t.household_id: t.pk for t in Ticket.objects.filter(day=d).only("pk", "household_id")
        }
        won = set(winners)
        for r in regs.values():
            r.won = r.code in won
            r.ticket_id = by_household.get(r.household_id) if r.won else None
        Registration.objects.bulk_update(list(regs.values()), ["won", "ticket"], batch_size=500)
        d.issued = len(winners)
        d.drawn_at = now
        _changed(d, "issued", "drawn_at")
        audit(
            actor=actor,
            action="queue.draw",
            community=d.community_id,
            target=d,
            summary=f"{len(regs)} registrations, {len(winners)} tickets, seed {d.draw_seed}",
        )
    return d


def draw_due(day: SaleDay, now=None) -> bool:
    now = now or timezone.now()
    return bool(
        day.mode == SaleDay.Mode.DRAW
        and day.drawn_at is None
        and day.draw_at
        and now >= day.draw_at
    )


def draw_if_due(day: SaleDay, now=None) -> SaleDay:
    if draw_due(day, now):
        return draw_run(day=day, now=now)
    return day


def draws_due(now=None) -> list[SaleDay]:
    """Run every draw whose registration has closed (the `queue_draw` command, for cron)."""
    now = now or timezone.now()
    done = []
    for d in SaleDay.objects.filter(
        mode=SaleDay.Mode.DRAW, drawn_at__isnull=True, closed_at__isnull=True, draw_at__lte=now
    ):
        done.append(draw_run(day=d, now=now))
    return done


# --- calling --------------------------------------------------------------------------------

_STATE_FIELDS = (
    "status",
    "seq",
    "called_at",
    "first_called_at",
    "served_at",
    "ended_at",
    "call_count",
    "requeued",
)


def _ticket_state(t: Ticket) -> dict:
    out = {"id": t.pk}
    for f in _STATE_FIELDS:
        v = getattr(t, f)
        out[f] = v.isoformat() if isinstance(v, dt.datetime) else v
    return out


def _restore(state: dict) -> None:
    values = {}
    for f in _STATE_FIELDS:
        v = state[f]
        if f.endswith("_at") and v is not None:
            v = dt.datetime.fromisoformat(v)
        values[f] = v
    Ticket.objects.filter(pk=state["id"]).update(**values)


def _lock(day: SaleDay, version: int | None) -> SaleDay:
    d = SaleDay.objects.select_for_update().get(pk=day.pk)
    if d.closed_at is not None:
        raise Conflict("day_closed", _("This sale day is closed."))
    if version is not None and int(version) != d.version:
        raise Conflict(
            "stale",
            _(
                "The queue changed while you were looking (someone else pressed first). Nothing was "
                "done: look at the screen and press again."
            ),
        )
    return d


def _record(d: SaleDay, kind: str, ticket: Ticket | None, actor, before: list[dict]) -> QueueEvent:
    e = QueueEvent.objects.create(
        day=d, ticket=ticket, kind=kind, actor=signed_in(actor), before={"tickets": before}
    )
    _changed(d)
    return e


def _called(d: SaleDay) -> list[Ticket]:
    return list(
        Ticket.objects.filter(day=d, status=Ticket.Status.CALLED).order_by("-called_at", "-pk")
    )


def _serve(t: Ticket, now) -> dict:
    before = _ticket_state(t)
    t.status = Ticket.Status.SERVED
    t.served_at = now
    t.ended_at = now
    t.save(update_fields=["status", "served_at", "ended_at"])
    return before


def call_next(
    *, day: SaleDay, actor=None, serve_current: bool = False, version=None
) -> Ticket | None:
    """Call the first waiting number. With `serve_current`, the numbers at the counter are marked
    served first (the one-button "served, next"). None when nobody is waiting."""
    now = timezone.now()
    with transaction.atomic():
        d = _lock(day, version)
        before = []
        if serve_current:
            for t in _called(d):
                before.append(_serve(t, now))
        t = (
            Ticket.objects.select_for_update()
            .filter(day=d, status=Ticket.Status.WAITING)
            .order_by("seq")
            .first()
        )
        if t is None:
            if before:
                _record(d, QueueEvent.Kind.SERVE, None, actor, before)
            return None
        before.append(_ticket_state(t))
        t.status = Ticket.Status.CALLED
        t.called_at = now
        t.first_called_at = t.first_called_at or now
        t.call_count += 1
        t.save(update_fields=["status", "called_at", "first_called_at", "call_count"])
        _record(d, QueueEvent.Kind.CALL, t, actor, before)
    _after_commit_notify(d.pk)
    return t


def _at_counter(d: SaleDay, ticket: Ticket | None) -> Ticket:
    if ticket is not None:
        t = Ticket.objects.select_for_update().get(pk=ticket.pk, day=d)
        if t.status != Ticket.Status.CALLED:
            raise Conflict(
                "not_called",
                _("Number %(n)d is not at the counter (it is %(s)s).")
                % {"n": t.number, "s": t.get_status_display()},
            )
        return t
    called = _called(d)
    if not called:
        raise Conflict("none_called", _("No number has been called. Press 'Call next' first."))
    return called[0]


def recall(*, day: SaleDay, ticket: Ticket | None = None, actor=None, version=None) -> Ticket:
    """Call a number at the counter again (default: the latest called)."""
    now = timezone.now()
    with transaction.atomic():
        d = _lock(day, version)
        t = _at_counter(d, ticket)
        before = [_ticket_state(t)]
        t.called_at = now
        t.call_count += 1
        t.save(update_fields=["called_at", "call_count"])
        _record(d, QueueEvent.Kind.RECALL, t, actor, before)
    return t


def serve(*, day: SaleDay, ticket: Ticket | None = None, actor=None, version=None) -> Ticket:
    now = timezone.now()
    with transaction.atomic():
        d = _lock(day, version)
        t = _at_counter(d, ticket)
        _record(d, QueueEvent.Kind.SERVE, t, actor, [_serve(t, now)])
    return t


def skip_allowed_at(day: SaleDay, t: Ticket):
    return (t.called_at or timezone.now()) + dt.timedelta(seconds=day.grace_seconds)


def skip(
    *, day: SaleDay, ticket: Ticket | None = None, actor=None, version=None, now=None
) -> Ticket:
    """A called number did not come within the grace time: back of the queue (once) or lost,
    as the day's policy says."""
    now = now or timezone.now()
    with transaction.atomic():
        d = _lock(day, version)
        t = _at_counter(d, ticket)
        allowed = skip_allowed_at(d, t)
        if now < allowed:
            raise Conflict(
                "grace",
                _("Number %(n)d was called %(ago)d s ago: give them until %(t)s before skipping.")
                % {
                    "n": t.number,
                    "ago": int((now - t.called_at).total_seconds()),
                    "t": timezone.localtime(allowed).strftime("%H:%M:%S"),
                },
            )
        before = [_ticket_state(t)]
        if d.skip_policy == SaleDay.SkipPolicy.REQUEUE and t.requeued == 0:
            # Behind everyone holding a number now, ahead of numbers handed out later.
            top = Ticket.objects.filter(day=d).aggregate(m=Max("seq"))["m"] or 0
            t.seq = max(top + 1, d.issued * SEQ_STEP + 1)
            t.status = Ticket.Status.WAITING
            t.requeued += 1
            t.called_at = None
        else:
            t.status = Ticket.Status.NO_SHOW
            t.ended_at = now
        t.save(update_fields=["seq", "status", "requeued", "called_at", "ended_at"])
        _record(d, QueueEvent.Kind.SKIP, t, actor, before)
    _after_commit_notify(d.pk)
    return t


UNDOABLE = (
    QueueEvent.Kind.CALL,
    QueueEvent.Kind.RECALL,
    QueueEvent.Kind.SERVE,
    QueueEvent.Kind.SKIP,
)


def undo(*, day: SaleDay, actor=None, version=None) -> QueueEvent:
    """Take back the last counter action (call, recall, served, skip), one step per press."""
    with transaction.atomic():
        d = _lock(day, version)
        e = (
            QueueEvent.objects.select_for_update()
            .filter(day=d, kind__in=UNDOABLE, undone_at__isnull=True)
            .order_by("-pk")
            .first()
        )
        if e is None:
            raise Conflict("nothing_to_undo", _("There is nothing to undo."))
        touched = [state["id"] for state in e.before.get("tickets", [])]
        if QueueEvent.objects.filter(
            day=d, kind=QueueEvent.Kind.CANCEL, ticket_id__in=touched, pk__gt=e.pk
        ).exists():
            raise Conflict(
                "given_back",
                _("The number has been given back since: this press cannot be undone."),
            )
        for state in e.before.get("tickets", []):
            _restore(state)
        e.undone_at = timezone.now()
        e.save(update_fields=["undone_at"])
        QueueEvent.objects.create(
            day=d, ticket=e.ticket, kind=QueueEvent.Kind.UNDO, actor=signed_in(actor)
        )
        _changed(d)
    return e


def knocked(*, ticket: Ticket, actor) -> Ticket:
    """The grid leader has rung or knocked for a household without a phone."""
    with transaction.atomic():
        n = Ticket.objects.filter(pk=ticket.pk, knocked_at__isnull=True).update(
            knocked_at=timezone.now(), knocked_by=actor
        )
        if n:
            audit(actor=actor, action="queue.knocked", community=ticket.community_id, target=ticket)
    ticket.refresh_from_db()
    return ticket


# --- the live snapshot ----------------------------------------------------------------------


def service_seconds(day: SaleDay) -> float:
    """Seconds per customer: the mean gap between the last customers served, or the day's
    expected figure until three have been served."""
    times = list(
        Ticket.objects.filter(day=day, status=Ticket.Status.SERVED, served_at__isnull=False)
        .order_by("-served_at")
        .values_list("served_at", flat=True)[: RATE_WINDOW + 1]
    )
    if len(times) >= 3:
        span = (times[0] - times[-1]).total_seconds()
        if span > 0:
            return span / (len(times) - 1)
    return float(day.expected_service_seconds)


def _changed(d: SaleDay, *fields: str) -> None:
    """A change the watchers must see (inside the change's transaction): the next version and
    its snapshot, written with `fields` in one UPDATE of the day row."""
    d.version += 1
    d.snapshot = _snapshot(d)
    d.save(update_fields=[*fields, "version", "snapshot"])


def _snapshot(d: SaleDay) -> dict:
    """The public snapshot of the day's calling: numbers and counts only."""
    rows = list(
        Ticket.objects.filter(day=d, status__in=[Ticket.Status.WAITING, Ticket.Status.CALLED])
        .order_by("seq")
        .values_list("number", "status", "called_at")
    )
    waiting = [n for n, s, _c in rows if s == Ticket.Status.WAITING]
    called = [
        n
        for n, _s, _c in sorted(
            (r for r in rows if r[1] == Ticket.Status.CALLED), key=lambda r: r[2], reverse=True
        )
    ]
    counts = dict(
        Ticket.objects.filter(day=d)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    goods = Goods.objects.filter(day=d).aggregate(
        n=Count("pk"), out=Count("pk", filter=Q(sold_out_at__isnull=False))
    )
    return {
        "v": d.version,
        "serving": called,
        "waiting": waiting,
        "issued": d.issued,
        "served": counts.get(Ticket.Status.SERVED, 0),
        "no_show": counts.get(Ticket.Status.NO_SHOW, 0),
        "spt": round(service_seconds(d), 1),
        "closed": d.closed_at is not None,
        "drawn": d.drawn_at is not None,
        "goods": [goods["n"], goods["out"]],
        "at": timezone.now().isoformat(timespec="seconds"),
    }


def bump(day: SaleDay) -> None:
    """A change watchers should see that is not a counter action (goods edited)."""
    with transaction.atomic():
        _changed(SaleDay.objects.select_for_update().get(pk=day.pk))


def public_state(
    *,
    snapshot: dict,
    issued: int,
    tickets_total: int,
    come_when: int,
    number: int | None = None,
    version: int | None = None,
) -> dict:
    """What a watcher sees: numbers only. Pure (no database) — the stream server computes it for
    thousands of watchers from one snapshot read."""
    waiting = snapshot.get("waiting", [])
    serving = snapshot.get("serving", [])
    snap_issued = snapshot.get("issued", 0)
    spt = snapshot.get("spt", 60)
    # Numbers handed out after the snapshot are fresh and at the back, in order.
    later = list(range(snap_issued + 1, issued + 1))
    nxt = (waiting + later)[:NEXT_SHOWN]
    out = {
        "v": snapshot.get("v", 0) if version is None else version,
        "serving": serving[:SERVING_SHOWN],
        "next": nxt,
        "issued": issued,
        "total": tickets_total,
        "left": max(tickets_total - issued, 0),
        "waiting": len(waiting) + len(later),
        "served": snapshot.get("served", 0),
        "spt": spt,
        "closed": snapshot.get("closed", False),
        "goods": snapshot.get("goods", [0, 0]),
        "come_when": come_when,
    }
    if number is not None:
        out["number"] = number
        if number in serving:
            out.update(status="called", ahead=0, eta_min=0, come_now=True)
        else:
            ahead = None
            if number > snap_issued and number <= issued:
                ahead = len(waiting) + (number - snap_issued - 1)
            else:
                try:
                    ahead = waiting.index(number)
                except ValueError:
                    ahead = None
            if ahead is None:
                out.update(
                    status="done" if number <= issued else "unknown",
                    ahead=None,
                    eta_min=None,
                    come_now=False,
                )
            else:
                out.update(
                    status="waiting",
                    ahead=ahead,
                    eta_min=int(round(ahead * spt / 60)),
                    come_now=ahead <= come_when,
                )
    return out


def day_state(day: SaleDay, number: int | None = None) -> dict:
    return public_state(
        snapshot=day.snapshot or {},
        issued=day.issued,
        tickets_total=day.tickets_total,
        come_when=day.come_when,
        number=number,
        version=day.version,
    )


# --- "come now": SMS and the grid leader's list ---------------------------------------------


def _after_commit_notify(day_pk: int) -> None:
    """After the press commits, text those now near the counter — in a background thread by
    default, so a slow SMS provider never holds up the counter (SHOUWANG_QUEUE_SMS_BACKGROUND)."""
    if settings.QUEUE_SMS_BACKGROUND:
        transaction.on_commit(lambda: _notify_in_background(day_pk))
    else:
        transaction.on_commit(lambda: notify_due(day_pk))


def _notify_in_background(day_pk: int) -> threading.Thread:
    def run():
        try:
            notify_due(day_pk)
        except Exception:  # a thread's exception would only reach stderr
            logger.exception("queue texts failed day=%s", day_pk)
        finally:
            db.connections.close_all()

    thread = threading.Thread(target=run, name=f"queue-sms-{day_pk}", daemon=True)
    thread.start()
    return thread


COME_SMS = gettext_lazy(
    "Number %(n)d at %(point)s: %(ahead)d ahead of you now. Please come to %(where)s."
)


def notify_due(day_pk: int) -> int:
    """Text everyone who asked for it and is now within `come_when` of the counter. Each ticket
    is texted once (claimed by a conditional UPDATE, so two workers never both send)."""
    from shouwang.residents.sms import SmsFailed, sms_send

    d = SaleDay.objects.select_related("point").get(pk=day_pk)
    waiting = (d.snapshot or {}).get("waiting", [])
    due = waiting[: d.come_when + 1]
    if not due:
        return 0
    sent = 0
    for t in Ticket.objects.filter(
        day=d,
        number__in=due,
        notify=Notify.SMS,
        notified_at__isnull=True,
        status=Ticket.Status.WAITING,
    ):
        if not Ticket.objects.filter(pk=t.pk, notified_at__isnull=True).update(
            notified_at=timezone.now()
        ):
            continue
        text = str(COME_SMS) % {
            "n": t.number,
            "point": d.point.name,
            "ahead": waiting.index(t.number),
            "where": d.point.location or d.point.name,
        }
        try:
            sms_send(
                phone_e164=crypto.decrypt(t.sms_phone_enc),
                text=text,
                kind="queue",
                community_id=d.community_id,
            )
            sent += 1
        except SmsFailed:
            # Recorded by sms_send; the grid leader's list shows who was not reached.
            Ticket.objects.filter(pk=t.pk).update(notified_at=None)
            logger.warning("queue sms failed day=%s number=%s", d.pk, t.number)
    return sent


def knock_list(
    day: SaleDay, *, grid_id: int | None = None, margin: int | None = None
) -> list[dict]:
    """Households to ring or knock on: waiting, no text message asked for (or one that could not
    be sent), within `come_when` × 2 of the counter so there is time to walk over."""
    waiting = (day.snapshot or {}).get("waiting", [])
    margin = margin if margin is not None else day.come_when * 2
    near = {n: i for i, n in enumerate(waiting[: margin + 1])}
    if not near:
        return []
    qs = (
        Ticket.objects.filter(day=day, number__in=list(near), status=Ticket.Status.WAITING)
        .filter(
            Q(notify=Notify.KNOCK)
            | Q(
                notify=Notify.SMS, notified_at__isnull=True, number__in=waiting[: day.come_when + 1]
            )
        )
        .select_related(
            "household__building__compound", "household__dwelling__unit", "household__head"
        )
    )
    if grid_id is not None:
        qs = qs.filter(household__building__grid_id=grid_id)
    rows = [{"ticket": t, "ahead": near[t.number]} for t in qs]
    rows.sort(key=lambda r: r["ahead"])
    return rows
