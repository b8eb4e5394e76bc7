"""Reads of the materials store: the stock matrix, low-stock alerts, the movement history.
Each takes a community id (already scoped by the caller) and runs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from shouwang.supplies.materials.models import Item, Location, Movement, Stock


@dataclass
class Cell:
    location: Location
    quantity: int
    threshold: int | None

    @property
    def low(self) -> bool:
        return self.threshold is not None and self.quantity <= self.threshold


@dataclass
class Row:
    item: Item
    cells: list[Cell]
    total: int = 0

    @property
    def low_total(self) -> bool:
        return self.item.active and self.total <= self.item.low_stock_threshold

    @property
    def low_places(self) -> list[Cell]:
        return [c for c in self.cells if c.low] if self.item.active else []

    @property
    def low(self) -> bool:
        return self.low_total or bool(self.low_places)


@dataclass
class Matrix:
    locations: list[Location]
    rows: list[Row] = field(default_factory=list)

    @property
    def low(self) -> list[Row]:
        return [r for r in self.rows if r.low]


def stock_matrix(community_id: int, *, include_inactive: bool = False) -> Matrix:
    """Items × locations with quantities: three queries whatever the size."""
    items = Item.objects.filter(community_id=community_id)
    locations = Location.objects.filter(community_id=community_id)
    if not include_inactive:
        items, locations = items.filter(active=True), locations.filter(active=True)
    locations = list(locations)
    by_pair = {
        (s[0], s[1]): (s[2], s[3])
        for s in Stock.objects.filter(community_id=community_id).values_list(
            "item_id", "location_id", "quantity", "threshold"
        )
    }
    totals: dict[int, int] = {}
    for (item_id, _loc), (q, _t) in by_pair.items():
        # The total counts every place, inactive ones too: stock there still exists.
        totals[item_id] = totals.get(item_id, 0) + q
    m = Matrix(locations=locations)
    for item in items:
        cells = [Cell(loc, *by_pair.get((item.pk, loc.pk), (0, None))) for loc in locations]
        m.rows.append(Row(item=item, cells=cells, total=totals.get(item.pk, 0)))
    return m


def low_stock(community_id: int) -> list[Row]:
    """Active items at or below their threshold in total, or at a place with its own level."""
    return stock_matrix(community_id).low


def item_stock(item: Item) -> list[Cell]:
    return [
        Cell(s.location, s.quantity, s.threshold)
        for s in Stock.objects.filter(item=item).select_related("location")
    ]


@dataclass
class MovementFilter:
    item: int | None = None
    location: int | None = None
    kind: str = ""
    recipient_kind: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    q: str = ""


def movements(community_id: int, f: MovementFilter | None = None) -> QuerySet[Movement]:
    f = f or MovementFilter()
    qs = Movement.objects.filter(community_id=community_id).select_related(
        "item", "from_location", "to_location", "actor", "recipient_user"
    )
    if f.item:
        qs = qs.filter(item_id=f.item)
    if f.location:
        qs = qs.filter(Q(from_location_id=f.location) | Q(to_location_id=f.location))
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.recipient_kind:
        qs = qs.filter(recipient_kind=f.recipient_kind)
    tz = timezone.get_current_timezone()
    if f.since:
        qs = qs.filter(at__gte=dt.datetime.combine(f.since, dt.time.min, tzinfo=tz))
    if f.until:
        end = dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        qs = qs.filter(at__lt=end)
    if f.q:
        qs = qs.filter(
            Q(recipient_text__icontains=f.q)
            | Q(reference__icontains=f.q)
            | Q(note__icontains=f.q)
            | Q(recipient_user__username__icontains=f.q)
        )
    return qs.order_by("-at", "-pk")
