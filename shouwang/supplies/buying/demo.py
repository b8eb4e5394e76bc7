"""Group buying in the demo community: Songlin supermarket (松林超市), vetted, delivering to the
whole community every two days as Hohhot's supplier did; a catalogue with a vegetable box; the
window two days ago, closed, with a few hundred orders (so the merchant has a picking list and
slips to print), and today's window, open, with some orders already.

Orders are placed through the services, as residents and staff would. Deterministic: the same
seed and the same ledger give the same orders."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from shouwang.accounts.models import Role, User
from shouwang.registry.models import Household
from shouwang.supplies.buying import services
from shouwang.supplies.buying.models import Channel, Merchant, MerchantMember, Order

MERCHANT_NAME = "松林超市"

# (name, specification, unit, price, stock, limit, bundle contents)
CATALOGUE = [
    ("蔬菜包", "约5斤", "份", "39.90", 900, 1, "大白菜2斤、土豆1斤、胡萝卜1斤、西红柿1斤"),
    ("大白菜", "整棵约3斤", "棵", "5.40", 1500, 3, ""),
    ("土豆", "", "斤", "2.20", 2000, 5, ""),
    ("鸡蛋", "30枚/盒", "盒", "26.00", 800, 2, ""),
    ("猪肉", "前腿肉", "斤", "18.00", 600, 2, ""),
    ("面条", "1kg", "袋", "8.50", 1200, 4, ""),
    ("大米", "5kg", "袋", "35.00", 500, 1, ""),
    ("牛奶", "250ml×12", "箱", "48.00", 400, 1, ""),
]
CLOSED_ORDERS = 320
OPEN_ORDERS = 60


def _local(day: dt.date, h: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, h))


def _basket(rng: random.Random, products) -> dict[int, int]:
    """Most households take the vegetable box and a couple of things more."""
    lines = {}
    if rng.random() < 0.7:
        lines[products[0].pk] = 1
    for p in rng.sample(products[1:], rng.randint(1, 3)):
        lines[p.pk] = rng.randint(1, p.limit or 2)
    return lines


def demo_buying(community, admin, *, seed: int = 2022, now=None, log=print) -> Merchant | None:
    if Merchant.objects.filter(community=community, name=MERCHANT_NAME).exists():
        log(f"{community.code}: buying demo exists, skipped")
        return None
    rng = random.Random(seed)
    now = now or timezone.now()
    today = timezone.localdate(now)
    staff = User.objects.filter(community=community, role=Role.STAFF).order_by("pk").first()
    with transaction.atomic():
        m = services.merchant_save(
            actor=admin,
            name=MERCHANT_NAME,
            contact_name="刘经理",
            contact_phone="021-5555 0202",
            note="营业执照、健康证已核验",
            vetted=True,
            vetted_on=today - dt.timedelta(days=10),
            active=True,
            every_days=2,
            opens_time=dt.time(8),
            closes_time=dt.time(20),
            delivery_days=1,
        )
        user = User.objects.filter(community=community, role=Role.MERCHANT).order_by("pk").first()
        if user is not None:
            MerchantMember.objects.update_or_create(user=user, defaults={"merchant": m})
        products = [
            services.product_save(
                actor=admin,
                merchant=m,
                name=name,
                specification=spec,
                unit=unit,
                price=price,
                stock=stock,
                limit=limit,
                is_bundle=bool(contents),
                bundle_contents=contents,
            )
            for name, spec, unit, price, stock, limit, contents in CATALOGUE
        ]
        past_day = today - dt.timedelta(days=2)
        past = services.window_create(
            actor=admin,
            merchant=m,
            title=f"{MERCHANT_NAME} {past_day:%m-%d}",
            opens_at=_local(past_day, 8),
            closes_at=_local(past_day, 20),
            delivery_date=past_day + dt.timedelta(days=1),
        )
        current = services.window_create(
            actor=admin,
            merchant=m,
            title=f"{MERCHANT_NAME} {today:%m-%d}",
            opens_at=min(_local(today, 8), now - dt.timedelta(hours=1)),
            closes_at=max(_local(today, 20), now + dt.timedelta(hours=4)),
            delivery_date=today + dt.timedelta(days=1),
        )
        pool = list(
            Household.objects.filter(community=community, size__gt=0)
            .select_related("building")
            .order_by("pk")
        )
        chosen = rng.sample(pool, min(CLOSED_ORDERS + OPEN_ORDERS, len(pool)))
        during = past.opens_at + dt.timedelta(hours=4)
        for n, h in enumerate(chosen[:CLOSED_ORDERS]):
            by_staff = n % 12 == 0
            o = services.order_place(
                window=past,
                household=h,
                lines=_basket(rng, products),
                channel=Channel.STAFF if by_staff else Channel.HOUSEHOLD,
                actor=staff if by_staff else None,
                now=during,
            ).order
            if rng.random() < 0.8:
                paid_online = rng.random() < 0.6
                Order.objects.filter(pk=o.pk).update(
                    payment_status=Order.Payment.PAID,
                    payment_method=Order.Method.ONLINE if paid_online else Order.Method.CASH,
                    payment_recorded_at=past.closes_at,
                )
        for h in chosen[CLOSED_ORDERS:]:
            services.order_place(window=current, household=h, lines=_basket(rng, products))
        chain = _deliver(past, m, staff or admin, community, rng, now)
    log(
        f"{community.code}: buying — {MERCHANT_NAME}, {len(products)} products, "
        f"{min(CLOSED_ORDERS, len(chosen))} orders in the closed window, "
        f"{max(len(chosen) - CLOSED_ORDERS, 0)} in today's; delivery: {chain}"
    )
    return m


CHECKPOINT = "东门卡口"


def _deliver(window, merchant, staff, community, rng, now) -> str:
    """The closed window's batch partway along the chain, as on its delivery morning: released
    from the checkpoint after two hours' rest, half the buildings reached by their volunteer,
    most of their doors delivered, some receipts confirmed (by code and on the page), one open
    problem."""
    from shouwang.supplies.buying import delivery

    day = window.delivery_date or timezone.localdate(now)
    start = min(_local(day, 7), now - dt.timedelta(hours=6))

    def at(minutes: int) -> dt.datetime:
        return start + dt.timedelta(minutes=minutes)

    merchant_user = User.objects.filter(merchant_member__merchant=merchant).first()
    delivery.batch_step(actor=merchant_user, window=window, step="dispatched", now=at(0))
    delivery.batch_step(
        actor=staff, window=window, step="arrived", checkpoint=CHECKPOINT, now=at(40)
    )
    delivery.batch_step(actor=staff, window=window, step="disinfected", now=at(60))
    delivery.batch_step(actor=staff, window=window, step="released", now=at(180))
    volunteer = User.objects.filter(community=community, role=Role.VOLUNTEER).order_by("pk").first()
    buildings = delivery.buildings(window)
    reached = buildings[: (len(buildings) + 1) // 2]
    from shouwang.registry.models import Building

    by_pk = Building.objects.in_bulk([b["id"] for b in reached])
    delivered = confirmed = 0
    problem = None
    for n, b in enumerate(reached):
        delivery.building_arrived(
            actor=staff, window=window, building=by_pk[b["id"]], volunteer=volunteer, now=at(200)
        )
        for k, row in enumerate(delivery.doors(window, b["id"])):
            o = row["order"]
            o.window, o.household.building_id = window, b["id"]
            roll = rng.random()
            if roll < 0.35:
                delivery.receipt_confirm(order=o, how="code", actor=volunteer, now=at(220 + k))
                confirmed += 1
            elif roll < 0.55:
                delivery.order_delivered(actor=volunteer, order=o, now=at(220 + k))
                delivery.receipt_confirm(order=o, how="page", now=at(240 + k))
                confirmed += 1
            elif roll < 0.85:
                delivery.order_delivered(actor=volunteer, order=o, now=at(220 + k))
                delivered += 1
            if problem is None and n == 0 and k == 1:
                problem = delivery.problem_report(
                    order=o, kind="damaged", note="鸡蛋碎了两个", via="household"
                )
    return (
        f"released, {len(reached)}/{len(buildings)} buildings reached, "
        f"{confirmed} received, {delivered} more at the door, 1 open problem"
    )
