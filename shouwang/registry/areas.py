"""The area something serves — a queue point, a merchant: the compounds, buildings and grids
chosen on it (its `compounds`, `buildings` and `grids` many-to-many fields), and nothing chosen
means its whole community.

The rule is written here once, in the forms its callers need: `covers` for a scope already read
(`scope_of`, or with a caller's own query: the quick take path), `serves_sql` to decide it in
one query from a household id alone (an order press), and `serving` to filter the owners that
serve a household (its page)."""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Count, Q

# (kind, the owner's many-to-many field)
KINDS = (("c", "compounds"), ("b", "buildings"), ("g", "grids"))


@cache
def tables(model) -> tuple[tuple[str, str, str, str], ...]:
    """(kind, through table, owner column, target column) for each kind of area."""
    out = []
    for kind, name in KINDS:
        field = model._meta.get_field(name)
        out.append(
            (
                kind,
                field.remote_field.through._meta.db_table,
                field.m2m_column_name(),
                field.m2m_reverse_name(),
            )
        )
    return tuple(out)


def covers(scope: set[tuple[str, int]], building) -> bool:
    """Whether a scope of ("c", compound id), ("b", building id), ("g", grid id) includes the
    building (an empty scope: the whole community)."""
    if not scope:
        return True
    return (
        ("c", building.compound_id) in scope
        or ("b", building.pk) in scope
        or ("g", building.grid_id) in scope
    )


@cache
def _scope_sql(model) -> str:
    return " UNION ALL ".join(
        f"SELECT '{kind}', {target} FROM {table} WHERE {owner} = %s"
        for kind, table, owner, target in tables(model)
    )


def scope_of(owner) -> set[tuple[str, int]]:
    """The owner's chosen areas, in one query."""
    with connection.cursor() as c:
        c.execute(_scope_sql(type(owner)), [owner.pk] * len(KINDS))
        return set(c.fetchall())


def covers_sql(model, owner: str, building: str = "b") -> tuple[str, str]:
    """`covers` as two SQL conditions, (nothing chosen, the building is chosen), for the owner
    whose id is the SQL expression `owner` and the building row aliased `building`: the owner
    serves the building when either holds."""
    target = {"c": f"{building}.compound_id", "b": f"{building}.id", "g": f"{building}.grid_id"}
    parts = tables(model)
    none_chosen = " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {table} WHERE {col} = {owner})" for _k, table, col, _t in parts
    )
    includes = " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} WHERE {col} = {owner} AND {t} = {target[kind]})"
        for kind, table, col, t in parts
    )
    return none_chosen, includes


@cache
def serves_sql(model) -> str:
    """One query (parameters: owner id, household id) giving 1 when the owner serves the
    household's building, else 0 — `covers` in SQL, for a caller that has not read the
    building."""
    none_chosen, includes = covers_sql(model, "%(o)s")
    return (
        f"SELECT CASE WHEN {none_chosen} THEN 1 WHEN {includes} THEN 1 ELSE 0 END "
        "FROM registry_household h JOIN registry_building b ON b.id = h.building_id "
        "WHERE h.id = %(h)s"
    )


def serves(owner, household_id: int) -> bool:
    with connection.cursor() as c:
        c.execute(serves_sql(type(owner)), {"o": owner.pk, "h": household_id})
        row = c.fetchone()
    return bool(row and row[0])


def serving(qs, household):
    """The owners in `qs` that serve the household's building (its `building` is read)."""
    b = household.building
    return (
        qs.annotate(
            n_scope=Count("compounds", distinct=True)
            + Count("buildings", distinct=True)
            + Count("grids", distinct=True)
        )
        .filter(
            Q(n_scope=0)
            | Q(compounds=b.compound_id)
            | Q(buildings=b.pk)
            | (Q(grids=b.grid_id) if b.grid_id else Q(pk__in=[]))
        )
        .distinct()
    )
