"""Coverage — "nobody missed" (不漏一人): who a round expects, who is exempt, who was sampled and
who is still missing, by grid, building and door; the missing list; progress over time; the
district roll-up; and the tally the articles quote.

Definitions (the pages state them too):

- *In scope*: residents of the round's community whose building the round covers (its chosen
  compounds, buildings and grids; none chosen: the whole community — `registry.areas`).
- *Exempt*: in scope, and either away, in hospital or moved out in the ledger (the ledger's
  presence is the reason), or with an Exemption row for the round (its reason and note).
- *Expected*: in scope and not exempt — present in the ledger, no exemption.
- *Sampled*: expected, with a counted and not voided Sample in the round (mass and door-to-door
  rounds), or an AntigenReport on the round's date (antigen rounds). Walk-ins and people
  sampled although exempt or out of scope are not in these counts (`others` counts them).
- *Missing*: expected − sampled.

Every figure comes from grouped SQL over the ledger — never a Python loop over residents. The
round's scope is a derived table of (round, building) pairs, so the same queries answer one
round (a community's page) or every round of a day across a district (the roll-up).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from shouwang.accounts.models import Role
from shouwang.core.charts import nice_max, tick_label
from shouwang.grids.models import Grid
from shouwang.registry import areas
from shouwang.registry.models import Building, Dwelling, Household, Presence, Resident, Unit
from shouwang.screening import services
from shouwang.screening.models import (
    AntigenReport,
    Exemption,
    Positive,
    Round,
    RoundKind,
    Sample,
)

T = {
    "resident": Resident._meta.db_table,
    "household": Household._meta.db_table,
    "building": Building._meta.db_table,
    "dwelling": Dwelling._meta.db_table,
    "unit": Unit._meta.db_table,
    "round": Round._meta.db_table,
    "exemption": Exemption._meta.db_table,
    "sample": Sample._meta.db_table,
    "antigen": AntigenReport._meta.db_table,
    "grid": Grid._meta.db_table,
}


def _round_buildings_sql() -> str:
    """(round_id, kind, date, building_id) for the rounds whose ids fill `{ids}`: each round's
    buildings by the `registry.areas` rule, decided on the buildings (a few hundred per
    community), not on the residents."""
    none_chosen, includes = areas.covers_sql(Round, "ro.id")
    return (
        "SELECT ro.id AS round_id, ro.kind AS kind, ro.date AS date, "
        "ro.control_levels AS levels, b.id AS building_id "
        f"FROM {T['round']} ro JOIN {T['building']} b ON b.community_id = ro.community_id "
        f"WHERE ro.id IN ({{ids}}) AND (({none_chosen}) OR {includes})"
    )


def _levels_where(rounds: list[Round]) -> tuple[str, list]:
    """The rounds' control levels as a condition on the joined household `h` and building `b`
    (a round with levels keeps the homes under one of them at `services.round_moment`; a round
    without keeps everyone), and its parameters; nothing when no round has levels."""
    with_levels = [r for r in rounds if r.control_levels]
    if not with_levels:
        return "", []
    moment = max(services.round_moment(r) for r in with_levels)
    return (
        "AND (rb.levels = '' OR EXISTS (SELECT 1 FROM control_control cc "
        f"JOIN {T['dwelling']} ld ON ld.id = h.dwelling_id "
        "WHERE (',' || rb.levels || ',') LIKE ('%%,' || cc.level || ',%%') "
        "AND cc.starts_at <= %s AND (cc.ended_at IS NULL OR cc.ended_at > %s) "
        "AND (cc.unit_id = ld.unit_id OR cc.building_id = b.id "
        "OR cc.compound_id = b.compound_id))) ",
        [moment, moment],
    )


def _from_sql(rounds: list[Round], *, extra_where: str = "") -> tuple[str, list]:
    """FROM … WHERE over every resident in scope of the rounds, with the exemption and "done"
    rows joined (each join finds at most one row: the unique constraints)."""
    round_ids = [r.pk for r in rounds]
    ids = ", ".join(["%s"] * len(round_ids))
    rb = _round_buildings_sql().format(ids=ids)
    by_level, level_params = _levels_where(rounds)
    sql = (
        f"FROM ({rb}) rb "
        f"JOIN {T['household']} h ON h.building_id = rb.building_id "
        f"JOIN {T['building']} b ON b.id = rb.building_id "
        f"JOIN {T['resident']} r ON r.household_id = h.id "
        f"LEFT JOIN {T['exemption']} e ON e.round_id = rb.round_id AND e.resident_id = r.id "
        "WHERE 1 = 1 " + by_level + extra_where
    )
    return sql, [*round_ids, *level_params]


# Flags over the joined row (no parameters: the literals are our own choices). "Done" is an
# EXISTS inside a CASE, so PostgreSQL runs it as a per-row index probe on (round, resident) and
# never turns it into a join: a join planned on stale statistics (a new round's samples are
# not in them yet) can cost seconds — measured: 14 s for 7,500 residents.
_PRESENT = f"r.presence = '{Presence.PRESENT.value}'"
EXPECTED = f"({_PRESENT} AND e.id IS NULL)"
DONE = (
    f"(CASE WHEN rb.kind = '{RoundKind.ANTIGEN.value}' THEN EXISTS (SELECT 1 FROM {T['antigen']} a "
    "WHERE a.resident_id = r.id AND a.date = rb.date) "
    f"ELSE EXISTS (SELECT 1 FROM {T['sample']} s WHERE s.round_id = rb.round_id "
    "AND s.resident_id = r.id AND s.counted AND s.voided_at IS NULL) END)"
)
NOT_DONE = f"(CASE WHEN {DONE} THEN 0 ELSE 1 END) = 1"
EXEMPT = f"(NOT {_PRESENT} OR e.id IS NOT NULL)"


def _sum(cond: str) -> str:
    return f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)"


def _scoped_round_ids(ids: list[int]) -> set[int]:
    """The rounds among `ids` with compounds, buildings, grids or control levels chosen (the
    others cover their whole community)."""
    if not ids:
        return set()
    marks = ", ".join(["%s"] * len(ids))
    sql = " UNION ".join(
        [
            f"SELECT {owner} FROM {table} WHERE {owner} IN ({marks})"
            for _k, table, owner, _t in areas.tables(Round)
        ]
        + [f"SELECT id FROM {T['round']} WHERE id IN ({marks}) AND control_levels <> ''"]
    )
    return {r[0] for r in _fetch(sql, ids * (len(areas.KINDS) + 1))}


def _counts_whole(rounds: list[Round]) -> dict:
    """{round id: (expected, sampled, exempt)} for rounds over their whole community, without
    the places: the residents grouped by community, the round's exemptions and its samples
    joined to their resident only. The roll-up's path — a district's day is then one scan of
    the residents and one of the day's samples."""
    communities = sorted({r.community_id for r in rounds})
    present: dict[int, tuple[int, int]] = {}
    marks = ", ".join(["%s"] * len(communities))
    for cid, here, away in _fetch(
        f"SELECT r.community_id, {_sum(_PRESENT)}, {_sum('NOT ' + _PRESENT)} "
        f"FROM {T['resident']} r WHERE r.community_id IN ({marks}) GROUP BY r.community_id",
        communities,
    ):
        present[cid] = (here or 0, away or 0)
    ids = [r.pk for r in rounds]
    marks = ", ".join(["%s"] * len(ids))
    exempted = dict(
        _fetch(
            f"SELECT e.round_id, COUNT(*) FROM {T['exemption']} e "
            f"JOIN {T['resident']} r ON r.id = e.resident_id "
            f"WHERE e.round_id IN ({marks}) AND {_PRESENT} GROUP BY e.round_id",
            ids,
        )
    )
    not_exempt = (
        f"NOT EXISTS (SELECT 1 FROM {T['exemption']} e WHERE e.round_id = {{rid}} "
        "AND e.resident_id = r.id)"
    )
    done: dict[int, int] = {}
    swabs = [r.pk for r in rounds if r.kind != RoundKind.ANTIGEN]
    if swabs:
        marks = ", ".join(["%s"] * len(swabs))
        done.update(
            _fetch(
                f"SELECT s.round_id, COUNT(*) FROM {T['sample']} s "
                f"JOIN {T['resident']} r ON r.id = s.resident_id "
                f"WHERE s.round_id IN ({marks}) AND s.counted AND s.voided_at IS NULL "
                f"AND r.community_id = s.community_id AND {_PRESENT} "
                f"AND {not_exempt.format(rid='s.round_id')} GROUP BY s.round_id",
                swabs,
            )
        )
    tests = [r.pk for r in rounds if r.kind == RoundKind.ANTIGEN]
    if tests:
        marks = ", ".join(["%s"] * len(tests))
        done.update(
            _fetch(
                f"SELECT ro.id, COUNT(*) FROM {T['round']} ro "
                f"JOIN {T['antigen']} a ON a.community_id = ro.community_id AND a.date = ro.date "
                f"JOIN {T['resident']} r ON r.id = a.resident_id "
                f"WHERE ro.id IN ({marks}) AND r.community_id = ro.community_id AND {_PRESENT} "
                f"AND {not_exempt.format(rid='ro.id')} GROUP BY ro.id",
                tests,
            )
        )
    out = {}
    for r in rounds:
        here, away = present.get(r.community_id, (0, 0))
        x = exempted.get(r.pk, 0)
        out[r.pk] = (here - x, done.get(r.pk, 0), away + x)
    return out


def _counts(
    rounds: list[Round], key: str, *, extra_where: str = "", params: list | None = None
) -> dict:
    """{key value: (expected, sampled, exempt)} for the rounds, grouped by `key` ("rb.round_id",
    "b.id" or "h.dwelling_id"), in up to three grouped queries that each read their side once:
    the residents in scope (expected, exempt), then the round's counted samples — or, for
    antigen rounds, the day's reports — of people expected. Hash-joinable both ways, so a
    district's day (≈750,000 residents, ≈620,000 samples) is a few table scans, not a probe per
    resident."""
    by_level, level_params = _levels_where(rounds)
    extra_where = by_level + extra_where
    params = [*level_params, *(params or [])]
    ids = [r.pk for r in rounds]
    marks = ", ".join(["%s"] * len(ids))
    rb = _round_buildings_sql().format(ids=marks)
    out: dict = {}
    for k, e, x in _fetch(
        f"SELECT {key}, {_sum(EXPECTED)}, {_sum(EXEMPT)} FROM ({rb}) rb "
        f"JOIN {T['household']} h ON h.building_id = rb.building_id "
        f"JOIN {T['building']} b ON b.id = rb.building_id "
        f"JOIN {T['resident']} r ON r.household_id = h.id "
        f"LEFT JOIN {T['exemption']} e ON e.round_id = rb.round_id AND e.resident_id = r.id "
        f"WHERE 1 = 1 {extra_where} GROUP BY {key}",
        [*ids, *params],
    ):
        out[k] = [e or 0, 0, x or 0]
    not_exempt = (
        f"NOT EXISTS (SELECT 1 FROM {T['exemption']} e WHERE e.round_id = rb.round_id "
        "AND e.resident_id = r.id)"
    )
    joins = (
        f"JOIN {T['resident']} r ON r.id = {{who}}.resident_id "
        f"JOIN {T['household']} h ON h.id = r.household_id "
        f"JOIN ({rb}) rb ON rb.building_id = h.building_id {{on}} "
        f"JOIN {T['building']} b ON b.id = rb.building_id "
    )
    swabs = [r.pk for r in rounds if r.kind != RoundKind.ANTIGEN]
    if swabs:
        sql = (
            f"SELECT {key}, COUNT(*) FROM {T['sample']} s "
            + joins.format(who="s", on="AND rb.round_id = s.round_id")
            + f"WHERE s.round_id IN ({', '.join(['%s'] * len(swabs))}) AND s.counted "
            f"AND s.voided_at IS NULL AND {_PRESENT} AND {not_exempt} {extra_where} "
            f"GROUP BY {key}"
        )
        for k, n in _fetch(sql, [*ids, *swabs, *params]):
            out.setdefault(k, [0, 0, 0])[1] += n
    days = sorted({r.date for r in rounds if r.kind == RoundKind.ANTIGEN})
    if days:
        sql = (
            f"SELECT {key}, COUNT(*) FROM {T['antigen']} a "
            + joins.format(
                who="a", on=f"AND rb.date = a.date AND rb.kind = '{RoundKind.ANTIGEN.value}'"
            )
            + f"WHERE a.date IN ({', '.join(['%s'] * len(days))}) AND {_PRESENT} "
            f"AND {not_exempt} {extra_where} GROUP BY {key}"
        )
        for k, n in _fetch(sql, [*ids, *days, *params]):
            out.setdefault(k, [0, 0, 0])[1] += n
    return {k: tuple(v) for k, v in out.items()}


@dataclass
class Counts:
    expected: int = 0
    sampled: int = 0
    exempt: int = 0

    @property
    def missing(self) -> int:
        return self.expected - self.sampled

    @property
    def percent(self) -> float | None:
        if not self.expected:
            return None
        return math.floor(1000 * self.sampled / self.expected) / 10

    def add(self, other: Counts) -> None:
        self.expected += other.expected
        self.sampled += other.sampled
        self.exempt += other.exempt

    def as_dict(self) -> dict:
        return {
            "expected": self.expected,
            "sampled": self.sampled,
            "missing": self.missing,
            "exempt": self.exempt,
            "percent": self.percent,
        }


@dataclass
class BuildingRow(Counts):
    id: int = 0
    name: str = ""
    compound: str = ""
    grid_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.compound} {self.name}"


@dataclass
class GridRow(Counts):
    id: int | None = None
    name: str = ""
    leader: str = ""
    buildings: list[BuildingRow] = field(default_factory=list)


@dataclass
class Coverage:
    round: Round
    total: Counts
    grids: list[GridRow]
    others: (
        int  # counted samples (or reports) of people not expected: walk-ins, exempt, out of scope
    )

    def as_dict(self) -> dict:
        return {
            "round_id": self.round.pk,
            "kind": self.round.kind,
            "date": self.round.date.isoformat(),
            **self.total.as_dict(),
            "others": self.others,
            "grids": [
                {
                    "grid_id": g.id,
                    "name": g.name,
                    "leader": g.leader,
                    **g.as_dict(),
                    "buildings": [
                        {"building_id": b.id, "name": b.label, **b.as_dict()} for b in g.buildings
                    ],
                }
                for g in self.grids
            ],
        }


def _grid_filter(user) -> tuple[str, list]:
    if user is not None and getattr(user, "role", None) == Role.GRID_LEADER:
        return "AND b.grid_id = %s ", [user.grid_id]
    return "", []


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as c:
        c.execute(sql, params)
        return c.fetchall()


def _name_key(name: str) -> tuple:
    # 2号楼 before 10号楼: shorter names first, then by name (as the ledger's lists do).
    return (len(name), name)


def coverage(round: Round, user=None) -> Coverage:
    """The round by grid and building (grid leaders: their grid only): the counts grouped by
    building (`_counts`), then the names of the buildings and grids."""
    where, params = _grid_filter(user)
    counts = _counts([round], "b.id", extra_where=where, params=params)
    buildings = (
        Building.objects.filter(pk__in=counts)
        .values_list("pk", "name", "compound__name", "grid_id", "grid__name", "grid__sort")
        .order_by()
    )
    leaders = {
        g.pk: str(g.leader)
        for g in Grid.objects.filter(
            community_id=round.community_id, leader__isnull=False
        ).select_related("leader")
    }
    grids: dict[int | None, GridRow] = {}
    total = Counts()
    for pk, name, compound, grid_id, grid_name, grid_sort in buildings:
        e, s, x = counts[pk]
        b = BuildingRow(
            expected=e, sampled=s, exempt=x, id=pk, name=name, compound=compound, grid_id=grid_id
        )
        g = grids.get(grid_id)
        if g is None:
            g = grids[grid_id] = GridRow(
                id=grid_id, name=grid_name or "", leader=leaders.get(grid_id, "") or ""
            )
            g.sort = (grid_id is None, grid_sort or 0, grid_name or "")
        g.buildings.append(b)
        g.add(b)
        total.add(b)
    ordered = sorted(grids.values(), key=lambda g: g.sort)
    for g in ordered:
        g.buildings.sort(key=lambda b: (b.compound, *_name_key(b.name)))
    return Coverage(
        round=round, total=total, grids=ordered, others=_others(round, user, total.sampled)
    )


def _others(round: Round, user, sampled: int) -> int:
    """Counted samples (antigen rounds: reports that day) of people the round does not expect:
    everything done, less the expected people sampled."""
    if user is not None and getattr(user, "role", None) == Role.GRID_LEADER:
        return 0  # walk-ins belong to no grid: the office sees them
    if round.kind == RoundKind.ANTIGEN:
        done = AntigenReport.objects.filter(
            community_id=round.community_id, date=round.date
        ).count()
    else:
        done = Sample.objects.counting().filter(round=round).count()
    return max(done - sampled, 0)


@dataclass
class DoorRow(Counts):
    dwelling_id: int = 0
    unit: str = ""
    door: str = ""
    missing_names: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.unit} {self.door}".strip()


def building_doors(round: Round, building: Building) -> list[DoorRow]:
    """A building's doors with their counts (grouped by door) and the names still missing."""
    rows = [
        (k, *v)
        for k, v in _counts(
            [round], "h.dwelling_id", extra_where="AND b.id = %s ", params=[building.pk]
        ).items()
    ]
    doors = {
        d.pk: d
        for d in Dwelling.objects.filter(building=building).select_related("unit").order_by()
    }
    out: dict[int, DoorRow] = {}
    for dwelling_id, e, s, x in rows:
        d = doors[dwelling_id]
        out[dwelling_id] = DoorRow(
            expected=e or 0,
            sampled=s or 0,
            exempt=x or 0,
            dwelling_id=dwelling_id,
            unit=d.unit.name if d.unit_id else "",
            door=d.door,
        )
    for m in missing(round, building_id=building.pk):
        out[m.dwelling_id].missing_names.append(m.name)
    return sorted(out.values(), key=lambda r: (*_name_key(r.unit), *_name_key(r.door)))


@dataclass
class MissingRow:
    resident_id: int
    name: str
    phone_masked: str
    household_id: int
    dwelling_id: int
    building_id: int
    building: str
    unit: str
    door: str
    grid_id: int | None
    grid: str
    leader: str
    tags: int

    @property
    def place(self) -> str:
        return " ".join(p for p in (self.building, self.unit, self.door) if p)


def missing(
    round: Round, user=None, *, building_id: int | None = None, grid_id: int | None = None
) -> list[MissingRow]:
    """Everyone expected and not sampled, with a masked phone, the household's place and the
    grid leader — one query (grid leaders: their grid only)."""
    where, params = _grid_filter(user)
    if building_id is not None:
        where += "AND b.id = %s "
        params.append(building_id)
    if grid_id is not None:
        where += "AND b.grid_id = %s "
        params.append(grid_id)
    sql_from, from_params = _from_sql([round], extra_where=where)
    rows = _fetch(
        "SELECT r.id, r.name, r.phone_masked, h.contact_phone_masked, h.id, h.dwelling_id, b.id, "
        "c.name, b.name, u.name, d.door, b.grid_id, g.name, "
        "COALESCE(NULLIF(lu.display_name, ''), lu.username), r.tags "
        f"{sql_from.replace('WHERE 1 = 1', _missing_joins() + ' WHERE 1 = 1', 1)} "
        f"AND {EXPECTED} AND {NOT_DONE} "
        "ORDER BY c.name, LENGTH(b.name), b.name, b.id, u.name, LENGTH(d.door), d.door, "
        "h.id, r.id",
        [*from_params, *params],
    )
    out = [
        MissingRow(
            resident_id=rid,
            name=name,
            phone_masked=phone or hphone or "",
            household_id=hid,
            dwelling_id=did,
            building_id=bid,
            building=f"{cname} {bname}",
            unit=uname or "",
            door=door,
            grid_id=gid,
            grid=gname or "",
            leader=leader or "",
            tags=tags,
        )
        for rid, name, phone, hphone, hid, did, bid, cname, bname, uname, door, gid, gname, leader, tags in rows
    ]
    return out


def _missing_joins() -> str:
    from shouwang.accounts.models import User
    from shouwang.registry.models import Compound

    return (
        f"JOIN {Compound._meta.db_table} c ON c.id = b.compound_id "
        f"JOIN {T['dwelling']} d ON d.id = h.dwelling_id "
        f"LEFT JOIN {T['unit']} u ON u.id = d.unit_id "
        f"LEFT JOIN {T['grid']} g ON g.id = b.grid_id "
        f"LEFT JOIN {User._meta.db_table} lu ON lu.id = g.leader_id"
    )


def missing_ids(round: Round) -> set[int]:
    """The ids of everyone missing (tests and the acceptance check)."""
    return {m.resident_id for m in missing(round)}


# --- exempt --------------------------------------------------------------------------------


@dataclass
class ExemptRow:
    resident_id: int
    name: str
    place: str
    reason: str  # a Presence value (from the ledger) or an ExemptReason value (a row)
    note: str
    exemption_id: int | None  # the row to remove; None for the ledger's presence


def exempt(round: Round, user=None) -> list[ExemptRow]:
    """Who is exempt and why: the ledger's presence, or the round's Exemption row."""
    where, params = _grid_filter(user)
    sql_from, from_params = _from_sql([round], extra_where=where)
    rows = _fetch(
        "SELECT r.id, r.name, c.name, b.name, u.name, d.door, r.presence, e.id, e.reason, e.note "
        f"{sql_from.replace('WHERE 1 = 1', _missing_joins() + ' WHERE 1 = 1', 1)} "
        f"AND {EXEMPT} ORDER BY c.name, LENGTH(b.name), b.name, u.name, LENGTH(d.door), d.door, "
        "r.id",
        [*from_params, *params],
    )
    out = []
    for rid, name, cname, bname, uname, door, presence, eid, ereason, enote in rows:
        place = " ".join(p for p in (f"{cname} {bname}", uname or "", door) if p)
        if presence != Presence.PRESENT:
            out.append(ExemptRow(rid, name, place, presence, "", None))
        else:
            out.append(ExemptRow(rid, name, place, ereason, enote or "", eid))
    return out


# --- progress over time --------------------------------------------------------------------

SLOT_MINUTES = 15


@dataclass
class Slot:
    start: dt.datetime  # local
    count: int
    cumulative: int

    @property
    def label(self) -> str:
        return self.start.strftime("%H:%M")


def progress(round: Round) -> list[Slot]:
    """Sampled per 15 minutes (by the time on the device: a scan kept offline counts when it
    was taken) and cumulative, from the round's start to its last sample or its end."""
    if round.kind == RoundKind.ANTIGEN:
        times = list(
            AntigenReport.objects.filter(
                community_id=round.community_id, date=round.date
            ).values_list("reported_at", flat=True)
        )
    else:
        times = list(
            Sample.objects.counting().filter(round=round).values_list("device_at", flat=True)
        )
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(round.date, round.starts_at, tzinfo=tz)
    end = dt.datetime.combine(round.date, round.ends_at, tzinfo=tz)
    if round.kind == RoundKind.ANTIGEN:
        start = dt.datetime.combine(round.date, dt.time(0), tzinfo=tz)
        end = start + dt.timedelta(days=1)
    local = sorted(timezone.localtime(t, tz) for t in times)
    if local:
        start = min(start, _floor(local[0]))
        end = max(end, local[-1])
    now = timezone.localtime(timezone.now(), tz)
    if start <= now < end and not round.closed_at:
        end = max(now, local[-1]) if local else now
    slots: list[Slot] = []
    t = start
    i = 0
    total = 0
    step = dt.timedelta(minutes=SLOT_MINUTES)
    while t < end and len(slots) < 24 * 60 // SLOT_MINUTES:
        n = 0
        while i < len(local) and local[i] < t + step:
            n += 1
            i += 1
        total += n
        slots.append(Slot(start=t, count=n, cumulative=total))
        t += step
    return slots


def _floor(t: dt.datetime) -> dt.datetime:
    return t.replace(minute=t.minute - t.minute % SLOT_MINUTES, second=0, microsecond=0)


CHART_W, CHART_H = 480, 220
PAD_L, PAD_R, PAD_T, PAD_B = 40, 40, 14, 28


def progress_chart(slots: list[Slot], expected: int) -> dict | None:
    """Geometry of the per-slot bars and the cumulative line in SVG user units (the template
    draws it, no JavaScript) — as `queues.report.served_chart` does."""
    if not slots:
        return None
    plot_w = CHART_W - PAD_L - PAD_R
    plot_h = CHART_H - PAD_T - PAD_B
    base = PAD_T + plot_h
    top_n = nice_max(max(s.count for s in slots))
    top_c = nice_max(max(expected, slots[-1].cumulative, 1))
    slot_w = plot_w / len(slots)
    bar_w = max(slot_w * 0.7, 1)
    every = max(1, math.ceil(len(slots) / 8))
    bars, points = [], []
    for i, s in enumerate(slots):
        x = PAD_L + i * slot_w + (slot_w - bar_w) / 2
        h = plot_h * s.count / top_n
        bars.append(
            {
                "x": round(x, 1),
                "y": round(base - h, 1),
                "w": round(bar_w, 1),
                "h": round(h, 1),
                "cx": round(x + bar_w / 2, 1),
                "label": s.label if i % every == 0 else "",
                "title": f"{s.label}: {s.count} ({s.cumulative})",
            }
        )
        points.append(f"{round(x + bar_w / 2, 1)},{round(base - plot_h * s.cumulative / top_c, 1)}")
    return {
        "w": CHART_W,
        "h": CHART_H,
        "left": PAD_L,
        "right": CHART_W - PAD_R,
        "top": PAD_T,
        "base": base,
        "label_y": base + 16,
        "bars": bars,
        "line": " ".join(points),
        "ticks": [
            {"y": round(base - plot_h * k / 4, 1), "label": tick_label(top_n * k / 4)}
            for k in range(5)
        ],
        "cum_ticks": [
            {"y": round(base - plot_h * k / 4, 1), "label": tick_label(top_c * k / 4)}
            for k in range(5)
        ],
        "expected_y": round(base - plot_h * expected / top_c, 1) if expected else None,
        "cum_x": CHART_W - PAD_R + 4,
    }


# --- the district roll-up ------------------------------------------------------------------


def rollup(communities, date: dt.date) -> list[dict]:
    """Per community, the day's rounds with expected / sampled / missing — counts only, never a
    person (what a district viewer may see). The counts of every round of the day at once,
    grouped by round (`_counts`)."""
    rounds = list(
        Round.objects.filter(community__in=communities, date=date)
        .select_related("community")
        .order_by("community__code", "kind", "number")
    )
    counts: dict[int, tuple[int, int, int]] = {}
    if rounds:
        scoped = _scoped_round_ids([r.pk for r in rounds])
        whole = [r for r in rounds if r.pk not in scoped]
        if whole:
            counts.update(_counts_whole(whole))
        if scoped:
            counts.update(_counts([r for r in rounds if r.pk in scoped], "rb.round_id"))
    by_community: dict[int, dict] = {}
    for c in communities.select_related("street").order_by("code"):
        by_community[c.pk] = {
            "community_id": c.pk,
            "code": c.code,
            "name": c.name,
            "street": c.street.name if c.street_id else "",
            "rounds": [],
        }
    for r in rounds:
        e, s, x = counts.get(r.pk, (0, 0, 0))
        row = Counts(expected=e, sampled=s, exempt=x)
        by_community[r.community_id]["rounds"].append(
            {"round_id": r.pk, "round": str(r), "kind": r.kind, "number": r.number, **row.as_dict()}
        )
    return list(by_community.values())


# --- the tally -----------------------------------------------------------------------------


def tally(community, *, today: dt.date | None = None) -> dict:
    """The figures the articles quote: mass rounds done (door-to-door rounds count with them),
    antigen rounds done — a round is done when it is closed or its date has passed — and days
    in a row without a new positive: whole days since the last positive was detected (today
    included), or since the first round when there was none; None before any round."""
    today = today or timezone.localdate()
    cid = getattr(community, "pk", community)
    done = Round.objects.filter(community_id=cid).filter(
        Q(closed_at__isnull=False) | Q(date__lt=today)
    )
    mass = done.exclude(kind=RoundKind.ANTIGEN).count()
    antigen = done.filter(kind=RoundKind.ANTIGEN).count()
    last = (
        Positive.objects.filter(community_id=cid, detected_on__lte=today)
        .order_by("-detected_on")
        .values_list("detected_on", flat=True)
        .first()
    )
    if last is not None:
        streak = (today - last).days
    else:
        first = (
            Round.objects.filter(community_id=cid, date__lte=today)
            .order_by("date")
            .values_list("date", flat=True)
            .first()
        )
        streak = (today - first).days + 1 if first else None
    return {
        "mass_rounds": mass,
        "antigen_rounds": antigen,
        "days_without_positive": streak,
        "last_positive": last,
    }
