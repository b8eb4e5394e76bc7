"""Reads of relief: the rule evaluated over the ledger, the preview, the recount, the lists.

The rule is evaluated in one SQL statement over the community's households (a CTE counts the
members living here and those with each care tag that earns extra portions); the preview then
groups the result by building in the database. Nothing loops over household objects in Python:
the Huamei demo (2,969 households) previews in a few milliseconds, a 750,000-resident database
in well under the 2 s the issue sets (benchmarks/relief_preview.py).

The rule, for a household in scope with `people` members living here (moved-out members do not
count; a household nobody lives in gets nothing):

    portions = (large_portions if people >= large_threshold else per_household)
               + Σ extra(tag) × members with that tag

When portions are short, households are served in list order (grid, compound, building, unit,
door) until the portions run out: the rest are "left out" — the preview names them, and once
more portions arrive the recount issues them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Length

from shouwang.accounts.models import Role
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.control import levels
from shouwang.grids.models import Grid
from shouwang.registry.models import (
    Building,
    CareTag,
    Compound,
    Dwelling,
    Household,
    Presence,
    Resident,
    Unit,
)
from shouwang.supplies.relief.models import ReliefAllocation, ReliefBatch, Scope

LEFT_OUT_SHOWN = 200


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# --- access -----------------------------------------------------------------------------------


def batches_for(user) -> QuerySet[ReliefBatch]:
    """Batches of the user's community; grid leaders see issued and closed ones only (a draft
    is the office's work in progress)."""
    qs = scope_queryset(user, ReliefBatch.objects.all())
    if getattr(user, "role", None) == Role.GRID_LEADER:
        qs = qs.exclude(status=ReliefBatch.Status.DRAFT)
    return qs


def batch_get_for(user, pk) -> ReliefBatch:
    return get_scoped(user, batches_for(user), pk)


def allocations_for(user) -> QuerySet[ReliefAllocation]:
    return scope_queryset(user, ReliefAllocation.objects.all(), grid_path="grid_id")


def allocation_get_for(user, pk) -> ReliefAllocation:
    return get_scoped(
        user, ReliefAllocation.objects.select_related("batch", "grid"), pk, grid_path="grid_id"
    )


# --- the rule in SQL --------------------------------------------------------------------------


def _shares_sql(batch: ReliefBatch) -> tuple[str, list]:
    """`WITH m AS (...), shares AS (...)`: one row per household in scope with its building,
    grid, compound, people and portions. Parameters in order."""
    extras = sorted(batch.extras().items())
    tag_cols = "".join(
        f", SUM(CASE WHEN (r.tags & {int(tag)}) <> 0 THEN 1 ELSE 0 END) AS x{i}"
        for i, (tag, _extra) in enumerate(extras)
    )
    extra_terms = "".join(
        f" + {int(extra)} * COALESCE(m.x{i}, 0)" for i, (_tag, extra) in enumerate(extras)
    )
    params: list = [batch.community_id, Presence.MOVED_OUT]
    scope_sql = ""
    if batch.scope == Scope.COMPOUNDS:
        ids = [int(i) for i in batch.compounds.values_list("pk", flat=True)] or [0]
        scope_sql = f" AND b.compound_id IN ({', '.join(['%s'] * len(ids))})"
        scope_params = ids
    elif batch.scope == Scope.GRIDS:
        ids = [int(i) for i in batch.grids.values_list("pk", flat=True)] or [0]
        scope_sql = f" AND b.grid_id IN ({', '.join(['%s'] * len(ids))})"
        scope_params = ids
    elif batch.scope == Scope.CONTROL:
        # The homes under the levels now (their unit, building or compound); nothing chosen
        # cannot be saved (services), and gives nobody rather than everybody.
        chosen = levels.parse(batch.control_levels)
        cond, scope_params = levels.sql(chosen) if chosen else ("1 = 0", [])
        scope_sql = f" AND {cond}"
    else:
        scope_params = []
    sql = f"""
WITH m AS (
  SELECT r.household_id AS household_id, COUNT(*) AS people{tag_cols}
  FROM {_t(Resident)} r
  WHERE r.community_id = %s AND r.presence <> %s
  GROUP BY r.household_id
), shares AS (
  SELECT h.id AS id, h.building_id AS building_id, b.grid_id AS grid_id,
         b.compound_id AS compound_id, COALESCE(m.people, 0) AS people,
         CASE WHEN COALESCE(m.people, 0) = 0 THEN 0
              ELSE (CASE WHEN m.people >= %s THEN %s ELSE %s END){extra_terms}
         END AS portions
  FROM {_t(Household)} h
  JOIN {_t(Building)} b ON b.id = h.building_id
  JOIN {_t(Dwelling)} d ON d.id = h.dwelling_id
  LEFT JOIN m ON m.household_id = h.id
  WHERE h.community_id = %s{scope_sql}
)"""
    params += [
        batch.large_threshold,
        batch.large_portions,
        batch.per_household,
        batch.community_id,
        *scope_params,
    ]
    return sql, params


# List order: what a grid team walks, and who is served first when portions are short.
_ORDER_JOINS = f"""
  JOIN {_t(Household)} h ON h.id = s.id
  JOIN {_t(Building)} b ON b.id = s.building_id
  JOIN {_t(Compound)} c ON c.id = b.compound_id
  JOIN {_t(Dwelling)} d ON d.id = h.dwelling_id
  LEFT JOIN {_t(Grid)} g ON g.id = s.grid_id
  LEFT JOIN {_t(Unit)} u ON u.id = d.unit_id"""
_ORDER = (
    "CASE WHEN g.id IS NULL THEN 1 ELSE 0 END, g.sort, g.name, c.name, LENGTH(b.name), b.name, "
    "u.name, LENGTH(d.door), d.door, s.id"
)


@dataclass
class Share:
    household_id: int
    building_id: int
    grid_id: int | None
    people: int
    portions: int
    door: str
    head_name: str
    phone_masked: str


def shares(batch: ReliefBatch) -> list[Share]:
    """Every household the rule gives portions to, in list order, with what its allocation
    row snapshots (door, head, masked phone). Used to issue; the preview never loads these."""
    sql, params = _shares_sql(batch)
    head = _t(Resident)
    rows_sql = f"""{sql}
SELECT s.id, s.building_id, s.grid_id, s.people, s.portions, u.name, d.door, hr.name,
       h.contact_phone_masked, hr.phone_masked
FROM shares s{_ORDER_JOINS}
  LEFT JOIN {head} hr ON hr.id = h.head_id
WHERE s.portions > 0
ORDER BY {_ORDER}"""
    with connection.cursor() as cur:
        cur.execute(rows_sql, params)
        rows = cur.fetchall()
    return [
        Share(
            household_id=r[0],
            building_id=r[1],
            grid_id=r[2],
            people=r[3],
            portions=r[4],
            door=" ".join(p for p in (r[5], r[6]) if p),
            head_name=r[7] or "",
            phone_masked=r[8] or r[9] or "",
        )
        for r in rows
    ]


# --- the preview ------------------------------------------------------------------------------


@dataclass
class Totals:
    households: int = 0
    people: int = 0
    portions: int = 0
    large: int = 0

    def add(self, other: Totals) -> None:
        self.households += other.households
        self.people += other.people
        self.portions += other.portions
        self.large += other.large


@dataclass
class Preview:
    batch: ReliefBatch
    total: Totals
    empty_households: int
    by_compound: list[dict]
    by_grid: list[dict]
    by_building: list[dict]
    shortfall: int
    left_out_count: int = 0
    left_out_portions: int = 0
    left_out: list[dict] = field(default_factory=list)
    left_out_by_grid: list[dict] = field(default_factory=list)

    @property
    def available(self) -> int:
        return self.batch.portions_available

    @property
    def served_households(self) -> int:
        return self.total.households - self.left_out_count


def preview(batch: ReliefBatch) -> Preview:
    """What the rule gives per compound, grid and building, against the portions available.

    One grouped statement (two when portions are short: the left-out households), then the
    names of the buildings; compound and grid totals are sums of the building rows."""
    sql, params = _shares_sql(batch)
    with connection.cursor() as cur:
        cur.execute(
            f"""{sql}
SELECT s.building_id,
       SUM(CASE WHEN s.portions > 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.portions > 0 THEN s.people ELSE 0 END),
       SUM(s.portions),
       SUM(CASE WHEN s.portions > 0 AND s.people >= %s THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.portions = 0 THEN 1 ELSE 0 END)
FROM shares s GROUP BY s.building_id""",
            [*params, batch.large_threshold],
        )
        rows = cur.fetchall()
    empty = sum(int(r[5] or 0) for r in rows)
    per_building = {
        r[0]: Totals(int(r[1] or 0), int(r[2] or 0), int(r[3] or 0), int(r[4] or 0))
        for r in rows
        if r[1]
    }
    buildings = list(
        Building.objects.filter(pk__in=list(per_building))
        .values(
            "pk", "name", "compound_id", "compound__name", "grid_id", "grid__name", "grid__sort"
        )
        .order_by("compound__name", Length("name"), "name")
    )
    total = Totals()
    compounds: dict[int, dict] = {}
    grids: dict[int | None, dict] = {}
    by_building = []
    for b in buildings:
        t = per_building[b["pk"]]
        total.add(t)
        by_building.append(
            {
                "id": b["pk"],
                "name": f"{b['compound__name']} {b['name']}",
                "grid": b["grid__name"] or "",
                "t": t,
            }
        )
        c = compounds.setdefault(
            b["compound_id"], {"id": b["compound_id"], "name": b["compound__name"], "t": Totals()}
        )
        c["t"].add(t)
        g = grids.setdefault(
            b["grid_id"],
            {
                "id": b["grid_id"],
                "name": b["grid__name"] or "",
                "sort": b["grid__sort"],
                "t": Totals(),
            },
        )
        g["t"].add(t)
    by_grid = sorted(grids.values(), key=lambda g: (g["id"] is None, g["sort"] or 0, g["name"]))
    p = Preview(
        batch=batch,
        total=total,
        empty_households=empty,
        by_compound=sorted(compounds.values(), key=lambda c: c["name"]),
        by_grid=by_grid,
        by_building=by_building,
        shortfall=max(total.portions - batch.portions_available, 0),
    )
    if p.shortfall:
        _left_out(batch, p, sql, params)
    return p


def _left_out(batch: ReliefBatch, p: Preview, sql: str, params: list) -> None:
    """Households past the point where the portions run out, in list order."""
    with connection.cursor() as cur:
        cur.execute(
            f"""{sql}, ranked AS (
  SELECT s.id, s.grid_id, s.portions, s.people,
         SUM(s.portions) OVER (ORDER BY {_ORDER} ROWS UNBOUNDED PRECEDING) AS running
  FROM shares s{_ORDER_JOINS}
  WHERE s.portions > 0
)
SELECT id, grid_id, portions, people FROM ranked WHERE running > %s ORDER BY running""",
            [*params, batch.portions_available],
        )
        rows = cur.fetchall()
    p.left_out_count = len(rows)
    p.left_out_portions = sum(r[2] for r in rows)
    per_grid: dict = {}
    for _id, grid_id, portions, _people in rows:
        g = per_grid.setdefault(grid_id, [0, 0])
        g[0] += 1
        g[1] += portions
    names = dict(Grid.objects.filter(pk__in=[g for g in per_grid if g]).values_list("pk", "name"))
    p.left_out_by_grid = [
        {"grid": names.get(gid, ""), "households": n, "portions": por}
        for gid, (n, por) in per_grid.items()
    ]
    shown = [r[0] for r in rows[:LEFT_OUT_SHOWN]]
    portions = {r[0]: r[2] for r in rows}
    people = {r[0]: r[3] for r in rows}
    households = Household.objects.with_place().filter(pk__in=shown).select_related("head")
    by_id = {h.pk: h for h in households}
    p.left_out = [
        {"household": by_id[i], "portions": portions[i], "people": people[i]}
        for i in shown
        if i in by_id
    ]


# --- the recount ------------------------------------------------------------------------------


@dataclass
class Recount:
    batch: ReliefBatch
    new: list[Share]
    # (allocation id, share) for pending rows whose portions the rule now sets differently.
    changed: list[tuple[int, int, Share]]
    # Households whose row is no longer pending (delivered, not at home, refused) and whose
    # portions would change: left as they are.
    locked: list[tuple[int, int, Share]]
    # Pending rows of households the rule no longer gives anything (moved out, out of scope).
    gone: list[int]
    issued: int  # portions on allocation rows now

    @property
    def delta(self) -> int:
        return sum(s.portions for s in self.new) + sum(
            s.portions - old for _a, old, s in self.changed
        )

    @property
    def remaining(self) -> int:
        return self.batch.portions_available - self.issued

    @property
    def empty(self) -> bool:
        return not (self.new or self.changed)


def recount(batch: ReliefBatch) -> Recount:
    current = shares(batch)
    existing = {
        hid: (aid, portions, status)
        for aid, hid, portions, status in ReliefAllocation.objects.filter(batch=batch).values_list(
            "pk", "household_id", "portions", "status"
        )
    }
    new, changed, locked = [], [], []
    seen = set()
    for s in current:
        seen.add(s.household_id)
        row = existing.get(s.household_id)
        if row is None:
            new.append(s)
        elif row[1] != s.portions:
            target = changed if row[2] == ReliefAllocation.Status.PENDING else locked
            target.append((row[0], row[1], s))
    gone = [
        aid
        for hid, (aid, _p, status) in existing.items()
        if hid not in seen and status == ReliefAllocation.Status.PENDING
    ]
    issued = ReliefAllocation.objects.filter(batch=batch).aggregate(n=Sum("portions"))["n"] or 0
    return Recount(batch=batch, new=new, changed=changed, locked=locked, gone=gone, issued=issued)


# --- progress and lists -----------------------------------------------------------------------


def issued_portions(batch: ReliefBatch) -> int:
    return ReliefAllocation.objects.filter(batch=batch).aggregate(n=Sum("portions"))["n"] or 0


def grid_progress(user, batch: ReliefBatch) -> list[dict]:
    """Per grid: households and portions, and how many are delivered / not home / refused."""
    S = ReliefAllocation.Status
    rows = (
        allocations_for(user)
        .filter(batch=batch)
        .values("grid_id", "grid__name", "grid__sort")
        .annotate(
            households=Count("id"),
            portions_sum=Sum("portions"),
            delivered=Count("id", filter=Q(status=S.DELIVERED)),
            delivered_portions=Sum("portions", filter=Q(status=S.DELIVERED)),
            not_home=Count("id", filter=Q(status=S.NOT_HOME)),
            refused=Count("id", filter=Q(status=S.REFUSED)),
            pending=Count("id", filter=Q(status=S.PENDING)),
        )
        .order_by("grid__sort", "grid__name")
    )
    out = []
    for r in rows:
        r["portions"] = r.pop("portions_sum") or 0
        r["delivered_portions"] = r["delivered_portions"] or 0
        r["percent"] = round(100 * r["delivered"] / r["households"]) if r["households"] else 0
        out.append(r)
    return out


def grid_list(batch: ReliefBatch, grid_id: int | None) -> QuerySet[ReliefAllocation]:
    """A grid's distribution list: building → door, as printed."""
    return (
        ReliefAllocation.objects.filter(batch=batch, grid_id=grid_id)
        .select_related("building__compound")
        .order_by(
            "building__compound__name",
            Length("building__name"),
            "building__name",
            Length("door"),
            "door",
            "pk",
        )
    )


def undelivered(user, batch: ReliefBatch, *, grid_id: int | None = None) -> QuerySet:
    qs = (
        allocations_for(user)
        .filter(batch=batch)
        .exclude(status=ReliefAllocation.Status.DELIVERED)
        .select_related("building__compound", "grid", "recorded_by")
    )
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    return qs.order_by(
        "grid__sort",
        "grid__name",
        "building__compound__name",
        Length("building__name"),
        "building__name",
        Length("door"),
        "door",
        "pk",
    )


def care_tag_choices() -> list[tuple[int, str]]:
    return [(t.value, str(t.label)) for t in CareTag]
