"""The queue in the demo community: Songlin supermarket's stall by the high-rise blocks of
Sancun (seed 000, Xi'an), with yesterday's finished sale (so the report has a full morning),
today's sale under way and tomorrow's sale taking registrations for the draw.

Tickets and registrations are taken through the services, as residents would; the counter's
morning is then simulated by writing the call and serve times directly (a demo may do that, the
product never does). Deterministic: the same seed and the same ledger give the same queue.
"""

from __future__ import annotations

import datetime as dt
import io
import random

from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from shouwang.accounts.models import Role, User
from shouwang.queues import services
from shouwang.queues.goods import goods_save, goods_sold_out
from shouwang.queues.models import Channel, Goods, Notify, QueuePoint, SaleDay, Ticket
from shouwang.registry.models import Community, Household

POINT_NAME = "松林超市 三村摊位"
POINT_LOCATION = "三村高层边小广场"

# (name, price, unit, note, colour, label for the generated photo)
GOODS_TODAY = [
    ("大白菜", "1.80", "斤", "每户限2棵", (96, 160, 72), "CABBAGE"),
    ("西红柿", "4.50", "斤", "", (210, 52, 40), "TOMATO"),
    ("土豆", "2.20", "斤", "", (176, 132, 80), "POTATO"),
    ("鸡蛋", "15.00", "盒", "30枚/盒", (238, 220, 170), "EGGS"),
    ("猪肉", "18.00", "斤", "前腿肉，每户限1斤", (226, 140, 140), "PORK"),
]
GOODS_YESTERDAY = [
    ("青菜", "3.00", "斤", (70, 150, 60), "GREENS"),
    ("胡萝卜", "2.50", "斤", (235, 120, 30), "CARROT"),
    ("面条", "6.00", "袋", (240, 225, 190), "NOODLES"),
    ("牛奶", "48.00", "箱", (235, 240, 250), "MILK"),
]


def _local(day: dt.date, h: int, m: int = 0, s: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, h, m, s))


def goods_photo(colour: tuple[int, int, int], label: str) -> io.BytesIO:
    """A simple picture of an item: a coloured produce shape on a crate-coloured ground."""
    im = Image.new("RGB", (960, 720), (244, 236, 220))
    d = ImageDraw.Draw(im)
    for x in range(0, 960, 60):
        d.line([(x, 560), (x + 30, 720)], fill=(214, 196, 160), width=6)
    dark = tuple(max(c - 60, 0) for c in colour)
    d.ellipse([250, 120, 710, 560], fill=colour, outline=dark, width=10)
    d.ellipse([330, 180, 450, 260], fill=tuple(min(c + 50, 255) for c in colour))
    d.rectangle([0, 620, 960, 720], fill=(40, 44, 52))
    font = ImageFont.load_default(size=64)
    d.text((480, 670), label, fill=(255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    out.seek(0)
    return out


def _times(rng: random.Random, start: dt.datetime, end: dt.datetime, n: int) -> list[dt.datetime]:
    """n increasing times between start and end, bunched towards the start (the evening rush
    when tickets open) and the morning."""
    span = (end - start).total_seconds()
    marks = sorted(span * (rng.betavariate(0.8, 1.6)) for _ in range(n))
    return [start + dt.timedelta(seconds=round(x)) for x in marks]


def _take(rng, day, households, *, when, staff, volunteer, sms_share=0.3, knock_share=0.1):
    """Tickets (or registrations) taken through the service, by channel and notification."""
    # The point's places, once: ticket_take checks that the point serves each household.
    day.point = QueuePoint.objects.prefetch_related("compounds", "buildings", "grids").get(
        pk=day.point_id
    )
    taken = []
    for h, at in zip(households, when, strict=True):
        roll = rng.random()
        if roll < 0.12:
            channel, actor = Channel.STAFF, staff
        elif roll < 0.2:
            channel, actor = Channel.PROXY, volunteer
        else:
            channel, actor = Channel.HOUSEHOLD, None
        phone = h.head.phone if h.head_id else ""
        pick = rng.random()
        if pick < sms_share and phone:
            notify = Notify.SMS
        elif pick < sms_share + knock_share or not phone:
            # Nobody in the household can read a text: the grid leader knocks.
            notify = Notify.KNOCK if rng.random() < 0.7 or not phone else Notify.PAGE
        else:
            notify = Notify.PAGE
        taken.append(
            services.ticket_take(
                day=day,
                household=h,
                channel=channel,
                actor=actor,
                notify=notify,
                sms_phone=phone if notify == Notify.SMS else "",
                now=at,
            )
        )
    return taken


def _counter(rng, tickets, *, start, stop, served_max=None, no_show_share=0.07, spc=80):
    """Simulate calling in number order from `start`: each customer takes about `spc` seconds,
    a few never come (called, then lost after the grace time), a five-minute restock break at
    10:30. Stops at `stop` or after `served_max` served; returns the tickets touched."""
    clock = start
    served = 0
    touched = []
    rest_at = start.replace(hour=10, minute=30)
    rested = False
    for t in tickets:
        if clock >= stop or (served_max is not None and served >= served_max):
            break
        if t.taken_at and clock < t.taken_at:
            clock = t.taken_at + dt.timedelta(seconds=rng.randint(30, 90))  # the counter was idle
        if not rested and clock >= rest_at:
            clock += dt.timedelta(minutes=5)
            rested = True
        t.first_called_at = t.called_at = clock
        t.call_count = 1
        if rng.random() < no_show_share:
            t.status = Ticket.Status.NO_SHOW
            t.call_count = 2
            t.requeued = 1
            t.ended_at = clock + dt.timedelta(minutes=3)
            clock += dt.timedelta(seconds=rng.randint(10, 25))
        else:
            walk = rng.randint(20, 150)
            service = max(30, int(rng.gauss(spc - 45, 20)))
            t.status = Ticket.Status.SERVED
            t.served_at = t.ended_at = clock + dt.timedelta(seconds=walk + service)
            clock += dt.timedelta(seconds=max(spc + rng.randint(-25, 35), 25))
            served += 1
        touched.append(t)
    return touched


TICKET_FIELDS = [
    "status",
    "taken_at",
    "first_called_at",
    "called_at",
    "served_at",
    "ended_at",
    "call_count",
    "requeued",
]


def _post_times(tickets: list[Ticket], when: list[dt.datetime]) -> None:
    for t, at in zip(tickets, when, strict=True):
        t.taken_at = at


def demo_queue(
    community: Community, admin_user, *, seed: int = 2022, now=None, log=print
) -> SaleDay | None:
    """Builds the demo queue once per community; returns today's sale day (None if it exists)."""
    if QueuePoint.objects.filter(community=community, name=POINT_NAME).exists():
        log(f"{community.code}: queue demo exists, skipped")
        return None
    rng = random.Random(seed)
    now = now or timezone.now()
    today = timezone.localdate(now)
    yesterday, tomorrow = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    volunteer = (
        User.objects.filter(community=community, role=Role.VOLUNTEER).order_by("pk").first()
        or admin_user
    )
    staff = (
        User.objects.filter(community=community, role=Role.STAFF).order_by("pk").first()
        or admin_user
    )
    pool = list(
        Household.objects.filter(community=community, size__gt=0)
        .select_related("head", "building")
        .order_by("pk")
    ) or list(Household.objects.filter(community=community).select_related("head").order_by("pk"))

    def sample(n):
        return rng.sample(pool, min(n, len(pool)))

    with transaction.atomic():
        point = services.point_save(
            actor=admin_user, name=POINT_NAME, kind=QueuePoint.Kind.STALL, location=POINT_LOCATION
        )

        # --- yesterday: the whole morning, closed ------------------------------------------
        past = services.day_create(
            actor=admin_user,
            point=point,
            date=yesterday,
            title="蔬菜、面条、牛奶",
            take_opens_at=_local(yesterday - dt.timedelta(days=1), 20),
            take_closes_at=_local(yesterday, 12),
            sale_starts_at=_local(yesterday, 9),
            sale_ends_at=_local(yesterday, 12),
            tickets_total=150,
            expected_service_seconds=90,
        )
        households = sample(150)
        when = _times(rng, past.take_opens_at, _local(yesterday, 10, 30), len(households))
        taken = _take(rng, past, households, when=when, staff=staff, volunteer=volunteer)
        tickets = [x.ticket for x in taken if x.ticket is not None]
        _post_times(tickets, when[: len(tickets)])
        _counter(rng, tickets, start=_local(yesterday, 9, 1), stop=_local(yesterday, 12), spc=88)
        closed_at = _local(yesterday, 12, 5)
        for t in tickets:
            if t.status == Ticket.Status.WAITING:
                # Still waiting when the stall closed: not reached, as day_close records it.
                t.status, t.ended_at = Ticket.Status.NO_SHOW, closed_at
        Ticket.objects.bulk_update(tickets, TICKET_FIELDS, batch_size=500)
        for i, (name, price, unit, colour, label) in enumerate(GOODS_YESTERDAY):
            g = goods_save(
                actor=volunteer,
                day=past,
                name=name,
                price=price,
                unit=unit,
                photo_file=goods_photo(colour, label),
            )
            if i < 3:
                goods_sold_out(actor=volunteer, goods=g)
                sold = _local(yesterday, 9, 50) + dt.timedelta(minutes=35 * i)
                Goods.objects.filter(pk=g.pk).update(sold_out_at=sold)
        SaleDay.objects.filter(pk=past.pk).update(closed_at=closed_at)
        services.bump(past)

        # --- today: the sale is under way (it began 75 minutes before the demo was built: forty
        # served at ~80 s each and the 10:30 restock break fit before `now` whenever the demo is
        # made, so the counter is never in the future) ---------------------------------------
        s0 = max(
            timezone.localtime(now - dt.timedelta(minutes=75)).replace(second=0, microsecond=0),
            _local(today, 0, 5),  # still today's sale, just after midnight
        )
        day = services.day_create(
            actor=admin_user,
            point=point,
            date=today,
            title="今日蔬菜、鸡蛋、猪肉",
            take_opens_at=_local(yesterday, 20),
            take_closes_at=s0 + dt.timedelta(hours=3),
            sale_starts_at=s0,
            sale_ends_at=s0 + dt.timedelta(hours=3),
            tickets_total=300,
            come_when=10,
            expected_service_seconds=75,
        )
        households = sample(120)
        when = _times(rng, day.take_opens_at, s0 + dt.timedelta(minutes=40), len(households))
        taken = _take(rng, day, households, when=when, staff=staff, volunteer=volunteer)
        tickets = [x.ticket for x in taken if x.ticket is not None]
        _post_times(tickets, when[: len(tickets)])
        touched = _counter(
            rng,
            tickets,
            start=s0 + dt.timedelta(seconds=30),
            stop=min(s0 + dt.timedelta(hours=3), now - dt.timedelta(minutes=4)),
            served_max=40,
            spc=75,
        )
        # Two at the counter now: called, walking over.
        last = max((t.served_at or t.first_called_at) for t in touched) if touched else None
        at_counter = [t for t in tickets if t.status == Ticket.Status.WAITING][:2]
        for k, t in enumerate(at_counter):
            t.status = Ticket.Status.CALLED
            t.first_called_at = t.called_at = min(
                (last or s0) + dt.timedelta(seconds=20 + 40 * k), now - dt.timedelta(seconds=5 - k)
            )
            t.call_count = 1
        Ticket.objects.bulk_update(tickets, TICKET_FIELDS, batch_size=500)
        for i, (name, price, unit, note, colour, label) in enumerate(GOODS_TODAY):
            g = goods_save(
                actor=volunteer,
                day=day,
                name=name,
                price=price,
                unit=unit,
                note=note,
                photo_file=goods_photo(colour, label),
            )
            if i == len(GOODS_TODAY) - 1:
                goods_sold_out(actor=volunteer, goods=g)
                Goods.objects.filter(pk=g.pk).update(sold_out_at=s0 + dt.timedelta(minutes=35))
        services.bump(day)

        # --- tomorrow: registration for the draw until 20:00 today --------------------------
        nxt = services.day_create(
            actor=admin_user,
            point=point,
            date=tomorrow,
            title="明日蔬菜",
            mode=SaleDay.Mode.DRAW,
            take_opens_at=_local(today, 8),
            draw_at=_local(today, 20),
            take_closes_at=_local(tomorrow, 11),
            sale_starts_at=_local(tomorrow, 9),
            sale_ends_at=_local(tomorrow, 12),
            tickets_total=200,
        )
        households = sample(30)
        when = _times(rng, nxt.take_opens_at, _local(today, 19, 30), len(households))
        _take(rng, nxt, households, when=when, staff=staff, volunteer=volunteer)

    served = Ticket.objects.filter(day=day, status=Ticket.Status.SERVED).count()
    past_issued = SaleDay.objects.get(pk=past.pk).issued
    log(
        f"{community.code}: queue {POINT_NAME}: yesterday {past_issued} tickets (closed), "
        f"today {len(tickets)} taken and {served} served, tomorrow "
        f"{SaleDay.objects.get(pk=nxt.pk).registered} registered for the draw"
    )
    return SaleDay.objects.get(pk=day.pk)
