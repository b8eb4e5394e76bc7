"""Group buying's rules. Every write is one transaction with its audit row; the pages, the API
and the CLI call these.

Stock (never oversold): an order takes its quantities with `UPDATE buying_product SET stock =
stock - q WHERE id = %s AND stock >= q`, one product at a time in id order (two orders never
wait on each other's rows in opposite orders), in the same transaction as the order's rows. A
product whose UPDATE touches no row is sold out for that quantity, and the whole order rolls
back with everything it had taken. On PostgreSQL the UPDATE waits for the row lock of a
concurrent order and re-reads the stock; on SQLite the transaction is IMMEDIATE (settings), so
writers take turns. Changing an order takes or gives back only the difference, the same way.

One order per household and window (UNIQUE): placing again — a retry, a double tap, a second
phone in the family — changes the household's order to the quantities asked for.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core import cleaning, rawrows
from shouwang.core.audit import audit, signed_in
from shouwang.core.errors import Conflict, Forbidden, NotFound, invalid
from shouwang.registry import areas
from shouwang.registry.models import Household
from shouwang.supplies.buying.models import (
    Channel,
    Merchant,
    MerchantMember,
    Order,
    OrderLine,
    OrderWindow,
    Product,
)

MAX_QUANTITY = 999
MAX_STOCK = 1_000_000
CODE_DIGITS = 6


class SoldOut(Conflict):
    pass


# --- merchants ------------------------------------------------------------------------------


def merchant_serves(merchant: Merchant, household: Household) -> bool:
    """Whether the merchant delivers to the household's place (no area chosen: everywhere in
    its community). One query, the household's building joined in: every order press pays for
    it (benchmarks/buying_orders.py)."""
    if merchant.community_id != household.community_id:
        return False
    return areas.serves(merchant, household.pk)


def merchants_serving(household: Household):
    """Active, vetted merchants of the household's community that deliver to its place."""
    return areas.serving(
        Merchant.objects.filter(community_id=household.community_id, active=True, vetted=True),
        household,
    )


MERCHANT_FIELDS = (
    "name",
    "contact_name",
    "contact_phone",
    "note",
    "vetted",
    "vetted_on",
    "active",
    "every_days",
    "opens_time",
    "closes_time",
    "delivery_days",
    "rest_minutes",
)


def merchant_save(
    *, actor, merchant: Merchant | None = None, compounds=(), buildings=(), grids=(), **fields
) -> Merchant:
    with transaction.atomic():
        created = merchant is None
        if created:
            merchant = Merchant(community_id=actor.community_id)
        for k in MERCHANT_FIELDS:
            if k in fields:
                setattr(merchant, k, fields[k])
        merchant.name = " ".join((merchant.name or "").split())
        if not merchant.name:
            raise invalid("name", _("Give the merchant a name, e.g. Songlin Supermarket."))
        if merchant.vetted and merchant.vetted_on is None:
            merchant.vetted_on = timezone.localdate()
        if merchant.every_days and not (merchant.opens_time and merchant.closes_time):
            raise invalid(
                "opens_time", _("A schedule needs the time windows open and the time they close.")
            )
        if merchant.every_days and merchant.opens_time >= merchant.closes_time:
            raise invalid("closes_time", _("Windows must close after they open, on the same day."))
        merchant.save()
        merchant.compounds.set(compounds)
        merchant.buildings.set(buildings)
        merchant.grids.set(grids)
        audit(
            actor=actor,
            action="buying.merchant." + ("create" if created else "update"),
            community=merchant.community_id,
            target=merchant,
            summary=merchant.name + (" (vetted)" if merchant.vetted else ""),
        )
    return merchant


def member_add(*, actor, merchant: Merchant, user) -> MerchantMember:
    """Link a user with the merchant role of the same community to the merchant (a user works
    for one merchant; linking again moves them)."""
    from shouwang.accounts.models import Role

    if user.role != Role.MERCHANT or user.community_id != merchant.community_id:
        raise invalid(
            "user", _("Only a user with the merchant role in this community can be linked.")
        )
    with transaction.atomic():
        member, _created = MerchantMember.objects.update_or_create(
            user=user, defaults={"merchant": merchant}
        )
        audit(
            actor=actor,
            action="buying.member.add",
            community=merchant.community_id,
            target=merchant,
            summary=f"{user.username} → {merchant.name}",
        )
    return member


def member_remove(*, actor, member: MerchantMember) -> None:
    with transaction.atomic():
        audit(
            actor=actor,
            action="buying.member.remove",
            community=member.merchant.community_id,
            target=member.merchant,
            summary=member.user.username,
        )
        MerchantMember.objects.filter(pk=member.pk).delete()


def member_of(user) -> MerchantMember | None:
    """The merchant a signed-in merchant user works for (None when not linked)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        MerchantMember.objects.select_related("merchant")
        .filter(user=user, merchant__community_id=user.community_id)
        .first()
    )


# --- the catalogue --------------------------------------------------------------------------


def product_save(
    *,
    actor,
    merchant: Merchant,
    product: Product | None = None,
    name: str,
    price,
    specification: str = "",
    unit: str = "",
    limit: int = 0,
    is_bundle: bool = False,
    bundle_contents: str = "",
    active: bool = True,
    stock: int | None = None,
    stock_add: int = 0,
    photo_file=None,
    remove_photo: bool = False,
) -> Product:
    """Add a product (with its first `stock`) or change one. Stock on an existing product is
    only ever added to or taken from (`stock_add`), never set: orders take from it meanwhile."""
    from shouwang.queues.images import photo_process

    if product is not None and product.merchant_id != merchant.pk:
        raise NotFound("not_found", _("Not found."))
    fields = {
        "name": cleaning.line(name, "name", 100),
        "price": cleaning.price(price, required=True),
        "specification": cleaning.line(specification, "specification", 100),
        "unit": cleaning.line(unit, "unit", 20),
        "limit": int(limit or 0),
        "is_bundle": bool(is_bundle),
        "bundle_contents": str(bundle_contents or "").strip()[:1000],
        "active": bool(active),
    }
    if not fields["name"]:
        raise invalid("name", _("Give the product a name, e.g. vegetable box."))
    if not 0 <= fields["limit"] <= MAX_QUANTITY:
        raise invalid("limit", _("The limit must be between 0 (none) and 999."))
    if fields["is_bundle"] and not fields["bundle_contents"]:
        raise invalid(
            "bundle_contents", _("Say what is in the bundle, e.g. 2 jin cabbage, 1 jin carrots.")
        )
    photo = photo_process(photo_file) if photo_file is not None else None
    created = product is None
    with transaction.atomic():
        if created:
            initial = int(stock or 0)
            if not 0 <= initial <= MAX_STOCK:
                raise invalid("stock", _("Stock must be between 0 and 1,000,000."))
            top = Product.objects.filter(merchant=merchant).count()
            product = Product(
                community_id=merchant.community_id, merchant=merchant, stock=initial, position=top
            )
        for k, v in fields.items():
            setattr(product, k, v)
        if photo is not None:
            product.photo, product.thumb, product.photo_hash = (
                photo.photo,
                photo.thumb,
                photo.photo_hash,
            )
        elif remove_photo:
            product.photo, product.thumb, product.photo_hash = None, None, ""
        if created:
            product.save()
        else:
            update = [*fields]
            if photo is not None or remove_photo:
                update += ["photo", "thumb", "photo_hash"]
            product.save(update_fields=update)
            if stock_add:
                stock_adjust(product=product, delta=int(stock_add))
        audit(
            actor=actor,
            action="buying.product." + ("create" if created else "update"),
            community=merchant.community_id,
            target=product,
            summary=f"{product.name} ¥{product.price}"
            + (f" stock {stock_add:+d}" if stock_add else ""),
        )
    product.refresh_from_db(fields=["stock"])
    return product


def stock_adjust(*, product: Product, delta: int) -> None:
    """Add to the stock (or take from it, not below zero): conditional, never read-modify-write."""
    if not -MAX_STOCK <= delta <= MAX_STOCK:
        raise invalid("stock_add", _("Stock must be between 0 and 1,000,000."))
    with connection.cursor() as c:
        c.execute(
            "UPDATE buying_product SET stock = stock + %s WHERE id = %s AND stock + %s >= 0",
            [delta, product.pk, delta],
        )
        if c.rowcount != 1:
            raise invalid("stock_add", _("That would take the stock below zero."))


# --- windows --------------------------------------------------------------------------------


def window_create(
    *, actor, merchant: Merchant, opens_at, closes_at, delivery_date=None, title: str = ""
) -> OrderWindow:
    if closes_at <= opens_at:
        raise invalid("closes_at", _("The window must close after it opens."))
    if not merchant.active:
        raise Conflict("merchant_inactive", _("This merchant is not active."))
    w = OrderWindow(
        community_id=merchant.community_id,
        merchant=merchant,
        title=cleaning.line(title, "title", 100),
        opens_at=opens_at,
        closes_at=closes_at,
        delivery_date=delivery_date,
        created_by=signed_in(actor),
    )
    try:
        with transaction.atomic():
            w.save()
            audit(
                actor=actor,
                action="buying.window.create",
                community=w.community_id,
                target=w,
                summary=f"{merchant.name} {timezone.localtime(opens_at):%m-%d %H:%M}",
            )
    except IntegrityError:
        raise invalid(
            "opens_at", _("This merchant already has a window opening at that time.")
        ) from None
    return w


def window_close(*, actor, window: OrderWindow, cancel: bool = False) -> OrderWindow:
    """Close a window early (no more orders or changes); `cancel` calls it off and gives every
    order's stock back. Closing twice changes nothing the second time."""
    now = timezone.now()
    with transaction.atomic():
        w = OrderWindow.objects.select_for_update().get(pk=window.pk)
        if w.status != OrderWindow.Status.OPEN:
            return w
        w.status = OrderWindow.Status.CANCELLED if cancel else OrderWindow.Status.CLOSED
        w.closed_at = now
        w.save(update_fields=["status", "closed_at"])
        if cancel:
            for o in Order.objects.filter(window=w, status=Order.Status.PLACED):
                _give_back(o)
                o.status, o.cancelled_at = Order.Status.CANCELLED, now
                o.save(update_fields=["status", "cancelled_at", "updated_at"])
        audit(
            actor=actor,
            action="buying.window." + ("cancel" if cancel else "close"),
            community=w.community_id,
            target=w,
        )
    return w


def _local(day: dt.date, t: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, t))


def windows_schedule(
    *, merchant: Merchant, actor=None, days_ahead: int = 6, today=None
) -> list[OrderWindow]:
    """The merchant's next windows from its schedule (every N days), up to `days_ahead` days
    from today: the day after its latest window by N days, or today when it has none. Running
    again creates nothing twice (one window per merchant and start time)."""
    if not merchant.every_days or not merchant.active:
        return []
    today = today or timezone.localdate()
    last = merchant.windows.order_by("-opens_at").first()
    day = (
        timezone.localtime(last.opens_at).date() + dt.timedelta(days=merchant.every_days)
        if last
        else today
    )
    while day < today:
        day += dt.timedelta(days=merchant.every_days)
    made = []
    while day <= today + dt.timedelta(days=days_ahead):
        opens = _local(day, merchant.opens_time)
        if not OrderWindow.objects.filter(merchant=merchant, opens_at=opens).exists():
            made.append(
                window_create(
                    actor=actor,
                    merchant=merchant,
                    opens_at=opens,
                    closes_at=_local(day, merchant.closes_time),
                    delivery_date=day + dt.timedelta(days=merchant.delivery_days),
                    title=f"{merchant.name} {day:%m-%d}",
                )
            )
        day += dt.timedelta(days=merchant.every_days)
    return made


# --- orders ---------------------------------------------------------------------------------


@dataclass
class Placed:
    order: Order
    created: bool = True


def _check_open(window: OrderWindow, now) -> None:
    state = window.state(now)
    if state == "upcoming":
        raise Conflict(
            "not_open_yet",
            _("Orders are taken from %(t)s.")
            % {"t": timezone.localtime(window.opens_at).strftime("%m-%d %H:%M")},
        )
    if state != "open":
        raise Conflict(
            "window_closed",
            _(
                "This order window has closed: orders can no longer be placed or changed. "
                "Look for the next window."
            ),
        )


_PRODUCT_FIELDS = (
    "id",
    "community",
    "merchant",
    "name",
    "unit",
    "price",
    "stock",
    "limit",
    "active",
    "position",
)


def _products(merchant_id: int, ids: list[int]) -> dict[int, Product]:
    """The merchant's products among `ids`, without their photos (raw: on every press)."""
    if not ids:
        return {}
    table = connection.ops.quote_name(Product._meta.db_table)
    sql = (
        f"SELECT {rawrows.columns(Product, names=_PRODUCT_FIELDS)} FROM {table} "
        f"WHERE merchant_id = %s AND id IN ({', '.join(['%s'] * len(ids))})"
    )
    with connection.cursor() as c:
        c.execute(sql, [merchant_id, *ids])
        rows = c.fetchall()
    return {p.pk: p for p in (rawrows.build(Product, r, _PRODUCT_FIELDS) for r in rows)}


def _clean_lines(window: OrderWindow, lines) -> tuple[dict[int, int], dict[int, Product]]:
    """{product id: quantity > 0} and the products, checked against the catalogue and the
    per-household limits. `lines` is {product id: quantity} or [(product id, quantity)]."""
    items = lines.items() if isinstance(lines, dict) else lines
    wanted: dict[int, int] = {}
    for pid, qty in items:
        try:
            pid, qty = int(pid), int(qty or 0)
        except (TypeError, ValueError):
            raise invalid("lines", _("Quantities must be whole numbers.")) from None
        if not 0 <= qty <= MAX_QUANTITY:
            raise invalid("lines", _("Quantities must be between 0 and 999."))
        if qty:
            wanted[pid] = wanted.get(pid, 0) + qty
    products = _products(window.merchant_id, list(wanted))
    for pid, qty in wanted.items():
        p = products.get(pid)
        if p is None or not p.active:
            raise invalid(
                "lines", _("A product in the order is no longer on sale. Reload the page.")
            )
        if p.limit and qty > p.limit:
            raise invalid(
                f"product_{pid}",
                _("%(name)s: at most %(n)d per household.") % {"name": p.name, "n": p.limit},
            )
    return wanted, products


def _take(product: Product, qty: int) -> None:
    with connection.cursor() as c:
        c.execute(
            "UPDATE buying_product SET stock = stock - %s WHERE id = %s AND stock >= %s",
            [qty, product.pk, qty],
        )
        if c.rowcount == 1:
            return
        c.execute("SELECT stock FROM buying_product WHERE id = %s", [product.pk])
        left = c.fetchone()[0]
    raise _sold_out(product, left)


def _sold_out(product: Product, left: int) -> SoldOut:
    return SoldOut(
        "sold_out",
        _("Only %(left)d %(unit)s of %(name)s left: lower the quantity or leave it out.")
        % {"left": left, "unit": product.unit, "name": product.name},
        fields={f"product_{product.pk}": _("Only %(left)d left.") % {"left": left}},
    )


def _put_back(product_id: int, qty: int) -> None:
    with connection.cursor() as c:
        c.execute("UPDATE buying_product SET stock = stock + %s WHERE id = %s", [qty, product_id])


def _give_back(order: Order) -> None:
    for line in order.lines.order_by("product_id"):
        _put_back(line.product_id, line.quantity)


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _check_party(window: OrderWindow, household: Household, consent) -> None:
    if window.community_id != household.community_id:
        raise NotFound("not_found", _("Not found."))
    merchant = window.merchant
    if not merchant.active or not merchant.vetted:
        raise Conflict("merchant_inactive", _("This merchant is not taking orders now."))
    if not merchant_serves(merchant, household):
        raise Forbidden(
            "not_served",
            _("%(m)s does not deliver to this building. Ask the committee which merchant does.")
            % {"m": merchant.name},
        )
    if consent is not None and (
        consent.household_id != household.pk or consent.revoked_at is not None
    ):
        raise Forbidden("no_consent", _("This household has not agreed that you act for it."))


def _total(wanted: dict[int, int], products: dict[int, Product]) -> Decimal:
    return sum((products[p].price * q for p, q in wanted.items()), Decimal("0.00"))


def order_place(
    *,
    window: OrderWindow,
    household: Household,
    lines,
    channel: str = Channel.HOUSEHOLD,
    actor=None,
    consent=None,
    note: str = "",
    now=None,
) -> Placed:
    """The household's order for the window. A household has one order per window: placing
    again changes it to these quantities (`created=False`), so a retry never makes two."""
    now = now or timezone.now()
    _check_open(window, now)
    _check_party(window, household, consent)
    note = cleaning.line(note, "note", 200)
    wanted, products = _clean_lines(window, lines)

    def existing() -> Order | None:
        return rawrows.fetch(
            Order, "window_id = %s AND household_id = %s", [window.pk, household.pk]
        )

    short = next((pid for pid in sorted(wanted) if products[pid].stock < wanted[pid]), None)
    if not wanted or short is not None:
        o = existing()
        if o is not None:
            return Placed(_change(o, wanted, products, actor, consent, note, now), False)
        if not wanted:
            raise invalid("lines", _("Choose at least one product and how many."))
        # Short as read just now: refused without a write transaction (in a burst most
        # presses after the last box are these; on SQLite each write would queue for the lock).
        raise _sold_out(products[short], products[short].stock)
    # Nearly every press is the household's first: no look-up before the insert. A second
    # one (a retry, a double tap) loses on UNIQUE (window, household) and changes the first.
    try:
        with transaction.atomic():
            for pid in sorted(wanted):
                _take(products[pid], wanted[pid])
            order = _insert(window, household, wanted, products, channel, actor, consent, note)
    except (IntegrityError, SoldOut):
        o = existing()
        if o is None:
            raise
        return Placed(_change(o, wanted, products, actor, consent, note, now), False)
    return Placed(order, True)


def _insert(window, household, wanted, products, channel, actor, consent, note) -> Order:
    order = Order(
        community_id=window.community_id,
        window=window,
        household=household,
        channel=channel,
        placed_by=signed_in(actor),
        consent=consent,
        note=note,
        total=_total(wanted, products),
    )
    for attempt in range(5):
        order.pickup_code = _new_code()
        try:
            with transaction.atomic():
                rawrows.insert(order)
            break
        except IntegrityError:
            # Either the code is taken in this window (try another), or the household's order
            # exists (the caller starts again from it).
            if Order.objects.filter(window=window, household=household).exists() or attempt == 4:
                raise
            order.pk = None
    for pid, q in sorted(wanted.items()):
        rawrows.insert(
            OrderLine(order=order, product_id=pid, quantity=q, unit_price=products[pid].price)
        )
    audit(
        actor=actor,
        action="buying.order.place",
        community=window.community_id,
        target=order,
        summary=_summary(wanted, products),
    )
    if consent is not None:
        _behalf(consent, order, window, "buying.order")
    return order


def _summary(wanted, products) -> str:
    return ", ".join(f"{products[p].name}×{q}" for p, q in sorted(wanted.items()))


def _behalf(consent, order: Order, window: OrderWindow, action: str) -> None:
    from shouwang.residents.services import behalf_record

    behalf_record(
        consent=consent,
        action=action,
        summary=f"{window.merchant.name} {order.pickup_code}",
        target=order,
    )


def _change(order: Order, wanted, products, actor, consent, note, now) -> Order:
    """Make the order these quantities: take or give back only the differences (a cancelled
    order starts from nothing). No quantities at all cancels it."""
    if not wanted:
        return order_cancel(order=order, actor=actor, consent=consent, now=now)
    with transaction.atomic():
        o = Order.objects.select_for_update().select_related("window__merchant").get(pk=order.pk)
        _check_open(o.window, now)
        have = (
            {ln.product_id: ln for ln in o.lines.all()} if o.status == Order.Status.PLACED else {}
        )
        for pid in sorted(set(wanted) | set(have)):
            diff = wanted.get(pid, 0) - (have[pid].quantity if pid in have else 0)
            if diff > 0:
                _take(products[pid], diff)
            elif diff < 0:
                _put_back(pid, -diff)
        if o.status != Order.Status.PLACED:
            o.lines.all().delete()
            have = {}
        for pid, ln in have.items():
            if pid not in wanted:
                ln.delete()
            elif ln.quantity != wanted[pid]:
                ln.quantity = wanted[pid]
                ln.save(update_fields=["quantity"])
        OrderLine.objects.bulk_create(
            [
                OrderLine(order=o, product_id=pid, quantity=q, unit_price=products[pid].price)
                for pid, q in sorted(wanted.items())
                if pid not in have
            ]
        )
        # The total follows the prices each line was ordered at.
        o.total = sum((ln.unit_price * ln.quantity for ln in o.lines.all()), Decimal("0.00"))
        was = o.status
        o.status, o.cancelled_at, o.note = Order.Status.PLACED, None, note or o.note
        o.save(update_fields=["total", "status", "cancelled_at", "note", "updated_at"])
        audit(
            actor=actor,
            action="buying.order." + ("change" if was == Order.Status.PLACED else "place"),
            community=o.community_id,
            target=o,
            summary=_summary(wanted, products),
        )
        if consent is not None:
            _behalf(consent, o, o.window, "buying.order.change")
    return o


def order_change(*, order: Order, lines, actor=None, consent=None, note: str = "", now=None):
    """Change the quantities until the window closes (stock differences taken or given back)."""
    now = now or timezone.now()
    window = order.window
    _check_open(window, now)
    household = Household.objects.select_related("building").get(pk=order.household_id)
    _check_party(window, household, consent)
    wanted, products = _clean_lines(window, lines)
    return _change(order, wanted, products, actor, consent, cleaning.line(note, "note", 200), now)


def order_cancel(*, order: Order, actor=None, consent=None, now=None) -> Order:
    """Call the order off until the window closes: all its stock goes back. Twice: no change."""
    now = now or timezone.now()
    with transaction.atomic():
        o = Order.objects.select_for_update().select_related("window__merchant").get(pk=order.pk)
        if o.status == Order.Status.CANCELLED:
            return o
        _check_open(o.window, now)
        _give_back(o)
        o.status, o.cancelled_at = Order.Status.CANCELLED, now
        o.save(update_fields=["status", "cancelled_at", "updated_at"])
        audit(actor=actor, action="buying.order.cancel", community=o.community_id, target=o)
        if consent is not None:
            _behalf(consent, o, o.window, "buying.order.cancel")
    return o


def payment_record(*, actor, order: Order, status: str, method: str) -> Order:
    """Whether and how the order was paid, as the merchant or staff learnt it. Shouwang takes
    no money: this is a record."""
    if status not in Order.Payment.values:
        raise invalid("payment_status", _("Choose paid or unpaid."))
    if method not in Order.Method.values:
        raise invalid("payment_method", _("Choose how it was paid."))
    if status == Order.Payment.PAID and method == Order.Method.NONE:
        raise invalid("payment_method", _("Say how it was paid: online or cash on delivery."))
    with transaction.atomic():
        o = Order.objects.select_for_update().get(pk=order.pk)
        if (o.payment_status, o.payment_method) == (status, method):
            return o
        o.payment_status, o.payment_method = status, method
        o.payment_recorded_by, o.payment_recorded_at = signed_in(actor), timezone.now()
        o.save(
            update_fields=[
                "payment_status",
                "payment_method",
                "payment_recorded_by",
                "payment_recorded_at",
                "updated_at",
            ]
        )
        audit(
            actor=actor,
            action="buying.order.payment",
            community=o.community_id,
            target=o,
            summary=f"{status} {method}",
        )
    return o
