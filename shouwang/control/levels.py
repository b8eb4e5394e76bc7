"""Reading control levels: what level a home is under now, and which places are under which level.

Everything that reads a level (the pass decision, test rounds, relief, the sampling flag, lists
of households) reads it here. A `Control` row is in force when it has started and has not been
released (`ended_at` is null); a dwelling is under the strictest level of its unit, its building
and its building's compound (`SEVERITY`).

Writing levels is services.py, and only through an approved proposal.
"""

from __future__ import annotations

import time

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from shouwang.control.models import ACTIVE_LEVELS, SEVERITY, Control, Level

# Values people type or pick: "sealed,controlled" → ("sealed", "controlled"), unknown ones out.
_VALID = {str(v) for v in ACTIVE_LEVELS}


def parse(value: str | list | tuple | None) -> tuple[str, ...]:
    """Levels from a comma-separated string (a model field) or a list (a form), known ones only,
    strictest first, without repeats."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    seen = {str(v).strip() for v in items} & _VALID
    return tuple(sorted(seen, key=lambda v: -SEVERITY[v]))


def clean(values) -> tuple[str, ...] | None:
    """The levels a user chose — a comma-separated string or a list, blanks ignored — strictest
    first; None when one of them is not a level (the caller says so in its own words)."""
    if isinstance(values, str):
        values = values.split(",")
    given = {str(v).strip() for v in values or ()} - {""}
    chosen = parse(list(given))
    return chosen if len(chosen) == len(given) else None


def label(level: str) -> str:
    return str(Level(level).label) if level in Level.values else level


def in_force(qs=None, *, now=None):
    """Control rows in force at `now` (default: now; a past moment sees the places released
    since)."""
    now = now or timezone.now()
    qs = Control.objects.all() if qs is None else qs
    return qs.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now), starts_at__lte=now)


def strictest(controls) -> Control | None:
    best = None
    for c in controls:
        if best is None or SEVERITY[c.level] > SEVERITY[best.level]:
            best = c
    return best


def _home_q(*, unit_id, building_id, compound_id) -> Q:
    q = Q(building_id=building_id) | Q(compound_id=compound_id)
    if unit_id:
        q |= Q(unit_id=unit_id)
    return q


def level_of(*, unit_id: int | None, building_id: int, compound_id: int, now=None):
    """The Control in force over a dwelling (its unit, building or compound), strictest first;
    None when there is none."""
    rows = in_force(now=now).filter(
        _home_q(unit_id=unit_id, building_id=building_id, compound_id=compound_id)
    )
    return strictest(rows)


def level_of_household(household, *, now=None):
    """The Control in force over a household's home (reads its dwelling and building)."""
    d = household.dwelling
    return level_of(
        unit_id=d.unit_id,
        building_id=household.building_id,
        compound_id=household.building.compound_id,
        now=now,
    )


def for_households(households, *, now=None) -> dict[int, Control]:
    """{household id: the Control in force over it} for households with one, in one query of
    the community's controls (each household's `dwelling` and `building` are read: select them)."""
    households = list(households)
    if not households:
        return {}
    community_ids = {h.community_id for h in households}
    controls = list(in_force(now=now).filter(community_id__in=community_ids))
    if not controls:
        return {}
    by_unit, by_building, by_compound = {}, {}, {}
    for c in controls:
        {"unit": by_unit, "building": by_building, "compound": by_compound}[c.kind][c.place_id] = c
    out = {}
    for h in households:
        found = [
            c
            for c in (
                by_unit.get(h.dwelling.unit_id),
                by_building.get(h.building_id),
                by_compound.get(h.building.compound_id),
            )
            if c is not None
        ]
        best = strictest(found)
        if best is not None:
            out[h.pk] = best
    return out


def dwelling_q(levels, *, now=None, prefix: str = "") -> Q:
    """A Q on a model with a dwelling (`prefix` + "dwelling", e.g. "household__" for residents)
    keeping the rows whose home is under one of `levels` at `now` — through its unit, its
    building or its compound. No levels: nothing is kept."""
    levels = parse(levels)
    if not levels:
        return Q(pk__in=[])
    base = in_force(now=now).filter(level__in=levels)
    d = f"{prefix}dwelling__"
    return (
        Q(Exists(base.filter(unit_id=OuterRef(f"{d}unit_id"))))
        | Q(Exists(base.filter(building_id=OuterRef(f"{d}building_id"))))
        | Q(Exists(base.filter(compound_id=OuterRef(f"{d}building__compound_id"))))
    )


def sql(levels, *, dwelling: str = "d", building: str = "b", now=None) -> tuple[str, list]:
    """`dwelling_q` as an SQL condition and its parameters, for hand-written queries where the
    dwelling row is aliased `dwelling` and its building `building`. No levels: a condition
    that is always true (the caller did not ask to restrict)."""
    levels = parse(levels)
    if not levels:
        return "1 = 1", []
    now = now or timezone.now()
    marks = ", ".join(["%s"] * len(levels))
    cond = (
        "EXISTS (SELECT 1 FROM control_control cc WHERE "
        f"(cc.ended_at IS NULL OR cc.ended_at > %s) AND cc.starts_at <= %s "
        f"AND cc.level IN ({marks}) AND (cc.unit_id = {dwelling}.unit_id "
        f"OR cc.building_id = {building}.id OR cc.compound_id = {building}.compound_id))"
    )
    return cond, [now, now, *levels]


def building_ids(community_id: int, levels, *, now=None, units: bool = True) -> frozenset[int]:
    """Buildings under one of `levels`: the building itself, its compound, or (with `units`) one
    of its units."""
    levels = parse(levels)
    if not levels:
        return frozenset()
    from shouwang.registry.models import Building

    rows = list(
        in_force(now=now)
        .filter(community_id=community_id, level__in=levels)
        .values_list("kind", "compound_id", "building_id", "unit__building_id")
    )
    if not rows:
        return frozenset()
    out = set()
    compounds = set()
    for kind, compound_id, building_id, unit_building_id in rows:
        if kind == "building":
            out.add(building_id)
        elif kind == "compound":
            compounds.add(compound_id)
        elif units:
            out.add(unit_building_id)
    if compounds:
        out.update(Building.objects.filter(compound_id__in=compounds).values_list("pk", flat=True))
    return frozenset(out)


# --- The sampling flag's cache ----------------------------------------------------------------
# The scan path asks "is this building sealed?" for every scan; a level changes a few times a
# day. Each process keeps the answer per community for CACHE_SECONDS, and forgets it at once when
# this process approves a change (`changed()`); another process sees it within CACHE_SECONDS.

CACHE_SECONDS = 10.0
_cache: dict[int, tuple[float, frozenset[int]]] = {}
SEALED_LEVELS = (Level.SEALED, Level.CLOSE_CONTACT)


def sealed_building_ids(community_id: int) -> frozenset[int]:
    """Buildings where people may not leave home — sealed, or a close-contact building — through
    the building, its compound or one of its units (cached, see above)."""
    hit = _cache.get(community_id)
    clock = time.monotonic()
    if hit is not None and clock - hit[0] < CACHE_SECONDS:
        return hit[1]
    ids = building_ids(community_id, SEALED_LEVELS)
    _cache[community_id] = (clock, ids)
    return ids


def changed() -> None:
    """A level was set or released in this process: forget the cached answers."""
    _cache.clear()
