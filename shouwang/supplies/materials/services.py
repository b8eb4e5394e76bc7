"""The materials store's rules. Every write is one transaction with its audit row; the pages,
the API, the demo and the commands call these.

Stock never goes negative however many issue at once: taking stock out is
`UPDATE stock SET quantity = quantity - n WHERE item = … AND location = … AND quantity >= n`
and a row count of 0 is a refusal. On PostgreSQL the second writer waits for the first's row
lock and then re-checks the WHERE against the committed figure; on SQLite the transactions are
IMMEDIATE, so writers queue. A receipt or issue may carry a request key (the form's hidden key,
or a client's): the same key again returns the movement it made, and two presses of the same key
at once end with one movement because (community, request_key) is unique.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core.audit import audit, signed_in
from shouwang.core.errors import Conflict, invalid
from shouwang.supplies.materials.models import (
    Item,
    Location,
    Movement,
    RecipientKind,
    Stock,
    StockTake,
    StockTakeLine,
)

MAX_QUANTITY = 10_000_000


class InsufficientStock(Conflict):
    pass


@dataclass
class Posted:
    movement: Movement
    created: bool  # False: the request key had been used, this is the earlier movement


# --- items and locations --------------------------------------------------------------------


def _ensure_stock_rows(community_id: int, *, items=None, locations=None) -> None:
    """A stock row for every (item, location) pair, so the matrix is complete and stock changes
    are plain UPDATEs. ignore_conflicts: a concurrent creator may have made some already."""
    items = items if items is not None else Item.objects.filter(community_id=community_id)
    locations = (
        locations if locations is not None else Location.objects.filter(community_id=community_id)
    )
    Stock.objects.bulk_create(
        [
            Stock(community_id=community_id, item_id=i.pk, location_id=loc.pk)
            for i in items
            for loc in locations
        ],
        ignore_conflicts=True,
    )


def _check_name_free(model, community_id: int, name: str, pk) -> None:
    taken = model.objects.filter(community_id=community_id, name=name).exclude(pk=pk).exists()
    if taken:
        raise invalid(
            "name",
            _("“%(name)s” already exists. Choose another name or edit the existing one.")
            % {"name": name},
        )


def item_save(
    *,
    actor,
    item: Item | None = None,
    name: str,
    unit: str,
    category: str = Item.Category.OTHER,
    low_stock_threshold: int = 0,
    active: bool = True,
    location_thresholds: dict[int, int | None] | None = None,
) -> Item:
    """Create or change an item. `location_thresholds` maps a location id of the item's
    community to its own alert level (None: no alert for that place)."""
    name, unit = name.strip(), unit.strip()
    if not name:
        raise invalid("name", _("Give the item a name, for example “N95 mask”."))
    if not unit:
        raise invalid("unit", _("Give the unit you count in, for example “pcs” or “box”."))
    if category not in Item.Category.values:
        raise invalid("category", _("Choose a category from the list."))
    if low_stock_threshold < 0:
        raise invalid("low_stock_threshold", _("The threshold cannot be negative."))
    with transaction.atomic():
        created = item is None
        if created:
            item = Item(community_id=actor.community_id)
        _check_name_free(Item, item.community_id, name, item.pk)
        item.name, item.unit, item.category = name, unit, category
        item.low_stock_threshold, item.active = low_stock_threshold, active
        if created:
            item.save()
            _ensure_stock_rows(item.community_id, items=[item])
        else:
            item.save(update_fields=["name", "unit", "category", "low_stock_threshold", "active"])
        for location_id, level in (location_thresholds or {}).items():
            Stock.objects.filter(
                item=item, location_id=location_id, community_id=item.community_id
            ).update(threshold=level)
        audit(
            actor=actor,
            action="materials.item." + ("create" if created else "update"),
            community=item.community_id,
            target=item,
            summary=f"{item.name} ({item.unit}) ≤{item.low_stock_threshold}",
        )
    return item


def location_save(
    *,
    actor,
    location: Location | None = None,
    name: str,
    kind: str = Location.Kind.OFFICE,
    active: bool = True,
) -> Location:
    name = name.strip()
    if not name:
        raise invalid("name", _("Give the place a name, for example “East gate checkpoint”."))
    if kind not in Location.Kind.values:
        raise invalid("kind", _("Choose a kind from the list."))
    with transaction.atomic():
        created = location is None
        if created:
            location = Location(community_id=actor.community_id)
        _check_name_free(Location, location.community_id, name, location.pk)
        location.name, location.kind, location.active = name, kind, active
        if created:
            location.save()
            _ensure_stock_rows(location.community_id, locations=[location])
        else:
            location.save(update_fields=["name", "kind", "active"])
        audit(
            actor=actor,
            action="materials.location." + ("create" if created else "update"),
            community=location.community_id,
            target=location,
            summary=f"{location.name} ({location.kind})",
        )
    return location


# --- stock arithmetic -----------------------------------------------------------------------


def _add(item: Item, location: Location, quantity: int) -> None:
    n = Stock.objects.filter(item=item, location=location).update(
        quantity=F("quantity") + quantity, updated_at=timezone.now()
    )
    if n == 0:
        _ensure_stock_rows(item.community_id, items=[item], locations=[location])
        Stock.objects.filter(item=item, location=location).update(
            quantity=F("quantity") + quantity, updated_at=timezone.now()
        )


def _take(item: Item, location: Location, quantity: int) -> None:
    """Take stock out, or refuse with what there is. Never read-modify-write."""
    n = Stock.objects.filter(item=item, location=location, quantity__gte=quantity).update(
        quantity=F("quantity") - quantity, updated_at=timezone.now()
    )
    if n == 1:
        return
    have = (
        Stock.objects.filter(item=item, location=location)
        .values_list("quantity", flat=True)
        .first()
    ) or 0
    message = _(
        "Only %(have)s %(unit)s of %(item)s in stock at %(place)s; you asked for %(want)s. "
        "Enter %(have)s or less, or record a receipt first."
    ) % {
        "have": have,
        "unit": item.unit,
        "item": item.name,
        "place": location.name,
        "want": quantity,
    }
    raise InsufficientStock("insufficient_stock", message, fields={"quantity": message})


def _check(item: Item, quantity, *places: Location) -> None:
    if not isinstance(quantity, int) or quantity <= 0:
        raise invalid("quantity", _("Enter a quantity of at least 1."))
    if quantity > MAX_QUANTITY:
        raise invalid("quantity", _("That quantity is too large; check the number."))
    for place in places:
        if place.community_id != item.community_id:
            raise invalid("location", _("The item and the place belong to different communities."))
    if not item.active:
        raise invalid("item", _("This item is no longer in use. Reactivate it first."))


def _replay(community_id: int, key: str, kind: str) -> Movement | None:
    if not key:
        return None
    m = Movement.objects.filter(community_id=community_id, request_key=key).first()
    if m is not None and m.kind != kind:
        raise Conflict(
            "request_key_used",
            _("This request key was already used for another kind of movement."),
        )
    return m


def _post(kind: str, item: Item, request_key: str, write) -> Posted:
    """Run `write()` (stock changes + the movement) once per request key."""
    request_key = (request_key or "").strip()[:64]
    before = _replay(item.community_id, request_key, kind)
    if before is not None:
        return Posted(before, False)
    try:
        with transaction.atomic():
            return Posted(write(request_key), True)
    except IntegrityError:
        # The same key pressed twice at once: the other press committed first; this one's stock
        # change rolled back with it.
        before = _replay(item.community_id, request_key, kind)
        if before is None:
            raise
        return Posted(before, False)


def _record(actor, m: Movement, summary: str) -> Movement:
    m.actor = signed_in(actor)
    m.save()
    audit(
        actor=actor,
        action=f"materials.{m.kind}",
        community=m.community_id,
        target=m,
        summary=summary,
    )
    return m


def receipt(
    *,
    actor,
    item: Item,
    location: Location,
    quantity: int,
    reference: str = "",
    note: str = "",
    request_key: str = "",
) -> Posted:
    """Stock in: a delivery, a purchase, a donation (the reference says which)."""
    _check(item, quantity, location)

    def write(key):
        _add(item, location, quantity)
        m = Movement(
            community_id=item.community_id,
            kind=Movement.Kind.RECEIPT,
            item=item,
            to_location=location,
            quantity=quantity,
            reference=reference.strip()[:200],
            note=note.strip()[:200],
            request_key=key,
        )
        return _record(actor, m, f"+{quantity} {item.name} → {location.name}")

    return _post(Movement.Kind.RECEIPT, item, request_key, write)


def issue(
    *,
    actor,
    item: Item,
    location: Location,
    quantity: int,
    recipient_kind: str,
    recipient_text: str = "",
    recipient_user=None,
    note: str = "",
    request_key: str = "",
) -> Posted:
    """Stock out to a team, a checkpoint, a volunteer or a person. Refused (409
    `insufficient_stock`) with what is in stock when there is not enough."""
    _check(item, quantity, location)
    if recipient_kind not in RecipientKind.values:
        raise invalid(
            "recipient_kind", _("Choose who receives it: team, checkpoint, volunteer or person.")
        )
    recipient_text = recipient_text.strip()[:100]
    if recipient_user is not None and recipient_user.community_id != item.community_id:
        raise invalid("recipient_user", _("That person is not in this community."))
    if not recipient_text and recipient_user is None:
        raise invalid(
            "recipient_text", _("Say who receives it, for example “Grid 3 team” or a name.")
        )

    def write(key):
        _take(item, location, quantity)
        m = Movement(
            community_id=item.community_id,
            kind=Movement.Kind.ISSUE,
            item=item,
            from_location=location,
            quantity=quantity,
            recipient_kind=recipient_kind,
            recipient_text=recipient_text,
            recipient_user=recipient_user,
            note=note.strip()[:200],
            request_key=key,
        )
        who = recipient_text or recipient_user.username
        return _record(actor, m, f"-{quantity} {item.name} @ {location.name} → {who}")

    return _post(Movement.Kind.ISSUE, item, request_key, write)


def transfer(
    *,
    actor,
    item: Item,
    from_location: Location,
    to_location: Location,
    quantity: int,
    note: str = "",
    request_key: str = "",
) -> Posted:
    """Move stock between two places in one transaction: out of one, into the other, or neither."""
    _check(item, quantity, from_location, to_location)
    if from_location.pk == to_location.pk:
        raise invalid("to_location", _("Choose a different place to move it to."))

    def write(key):
        _take(item, from_location, quantity)
        _add(item, to_location, quantity)
        m = Movement(
            community_id=item.community_id,
            kind=Movement.Kind.TRANSFER,
            item=item,
            from_location=from_location,
            to_location=to_location,
            quantity=quantity,
            note=note.strip()[:200],
            request_key=key,
        )
        summary = f"{quantity} {item.name}: {from_location.name} → {to_location.name}"
        return _record(actor, m, summary)

    return _post(Movement.Kind.TRANSFER, item, request_key, write)


# --- stock-takes ----------------------------------------------------------------------------


def stocktake_start(*, actor, location: Location) -> StockTake:
    """Open a count of one place, with a line for every active item (book figure as of now)."""
    if location.community_id != actor.community_id:
        raise invalid("location", _("That place is not in your community."))
    try:
        with transaction.atomic():
            st = StockTake.objects.create(
                community_id=location.community_id, location=location, started_by=actor
            )
            items = list(Item.objects.filter(community_id=location.community_id, active=True))
            _ensure_stock_rows(location.community_id, items=items, locations=[location])
            book = dict(Stock.objects.filter(location=location).values_list("item_id", "quantity"))
            StockTakeLine.objects.bulk_create(
                [StockTakeLine(stock_take=st, item=i, expected=book.get(i.pk, 0)) for i in items]
            )
            audit(
                actor=actor,
                action="materials.stocktake.start",
                community=st.community_id,
                target=st,
                summary=location.name,
            )
    except IntegrityError:
        raise Conflict(
            "stocktake_open",
            _("A stock-take of %(place)s is already under way. Finish that one first.")
            % {"place": location.name},
        ) from None
    return st


def _open(st: StockTake) -> StockTake:
    st = StockTake.objects.select_for_update().select_related("location").get(pk=st.pk)
    if st.finished_at is not None:
        raise Conflict("stocktake_finished", _("This stock-take is finished; start a new one."))
    return st


def stocktake_count(*, actor, stock_take: StockTake, counts: dict[int, int | None]) -> StockTake:
    """Record counts (item id -> counted, None clears). Each counted line keeps the book figure
    of the moment it was counted, and its difference."""
    for item_id, counted in counts.items():
        if counted is not None and (not isinstance(counted, int) or counted < 0):
            raise invalid(f"item_{item_id}", _("A count is a whole number, 0 or more."))
    with transaction.atomic():
        st = _open(stock_take)
        lines = {ln.item_id: ln for ln in st.lines.all()}
        book = dict(
            Stock.objects.filter(location_id=st.location_id, item_id__in=list(counts)).values_list(
                "item_id", "quantity"
            )
        )
        now = timezone.now()
        changed = []
        for item_id, counted in counts.items():
            line = lines.get(item_id)
            if line is None:
                continue
            if counted is None:
                line.counted = line.difference = line.counted_at = None
            else:
                line.expected = book.get(item_id, 0)
                line.counted, line.counted_at = counted, now
                line.difference = counted - line.expected
            changed.append(line)
        StockTakeLine.objects.bulk_update(
            changed, ["expected", "counted", "difference", "counted_at"]
        )
        audit(
            actor=actor,
            action="materials.stocktake.count",
            community=st.community_id,
            target=st,
            summary=f"{sum(ln.counted is not None for ln in changed)} counted",
        )
    return st


def stocktake_finish(*, actor, stock_take: StockTake) -> list[Movement]:
    """Close the count and post one adjustment per difference. Lines not counted change
    nothing. If stock went out after a line was counted so that the missing amount is no longer
    there, the whole finish is refused: count that item again."""
    with transaction.atomic():
        st = _open(stock_take)
        posted = []
        for line in st.lines.select_related("item").filter(counted__isnull=False):
            d = line.difference or 0
            if d == 0:
                continue
            m = Movement(
                community_id=st.community_id,
                kind=Movement.Kind.ADJUSTMENT,
                item=line.item,
                quantity=abs(d),
                stock_take=st,
                note=_("stock-take: book %(book)s, counted %(counted)s")
                % {"book": line.expected, "counted": line.counted},
            )
            if d > 0:
                _add(line.item, st.location, d)
                m.to_location = st.location
            else:
                try:
                    _take(line.item, st.location, -d)
                except InsufficientStock:
                    raise Conflict(
                        "stocktake_stale",
                        _(
                            "%(item)s went out of %(place)s after it was counted. "
                            "Count %(item)s again, then finish."
                        )
                        % {"item": line.item.name, "place": st.location.name},
                    ) from None
                m.from_location = st.location
            m.actor = actor
            m.save()
            posted.append(m)
        st.finished_at, st.finished_by = timezone.now(), actor
        st.save(update_fields=["finished_at", "finished_by"])
        audit(
            actor=actor,
            action="materials.stocktake.finish",
            community=st.community_id,
            target=st,
            summary=f"{st.location.name}: {len(posted)} adjustments",
        )
    return posted
