"""Model instances from raw rows, and one-row inserts, without the ORM's query compiler.

For the few hot paths where compiling a query costs more than running it (taking a queue
ticket: benchmarks/queue_take.py). The SQL is written once per model and field list; values go
through the same converters (reading) and the same `pre_save` / `get_db_prep_save` (writing) as
the ORM's, so an instance made here is the instance the ORM would have made: a field that was
not loaded is deferred and read on first use. Database errors arrive as Django's (IntegrityError
on a unique constraint), as from the ORM. No model signals are sent (none are used here).
"""

from __future__ import annotations

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model


def _db():
    # The connection itself, looked up once per call: every attribute of Django's `connection`
    # proxy is a thread-local look-up.
    return connections[DEFAULT_DB_ALIAS]


@cache
def _plan(model: type[Model], names: tuple[str, ...] | None):
    """The fields to load, in the model's field order (what Model.from_db expects), with their
    columns and converters."""
    connection = _db()
    fields = model._meta.concrete_fields
    if names is not None:
        wanted = {model._meta.get_field(n).name for n in names}
        fields = [f for f in fields if f.name in wanted]
    return [
        (
            f,
            f.column,
            [*connection.ops.get_db_converters(f.cached_col), *f.get_db_converters(connection)],
        )
        for f in fields
    ]


def width(model: type[Model], names: tuple[str, ...] | None = None) -> int:
    return len(_plan(model, names))


@cache
def columns(model: type[Model], alias: str = "", names: tuple[str, ...] | None = None) -> str:
    """The select list for `build` (prefixed with "alias." when given)."""
    prefix = f"{alias}." if alias else ""
    connection = _db()
    return ", ".join(
        f"{prefix}{connection.ops.quote_name(col)}" for _f, col, _c in _plan(model, names)
    )


def build(model: type[Model], row, names: tuple[str, ...] | None = None) -> Model:
    """The instance for a row selected with `columns(model, ..., names)`."""
    plan = _plan(model, names)
    connection = _db()
    values = []
    for (field, _col, converters), value in zip(plan, row, strict=True):
        if value is not None:
            for conv in converters:
                value = conv(value, field.cached_col, connection)
        values.append(value)
    return model.from_db(connection.alias, [f.attname for f, _c, _v in plan], values)


@cache
def _select_sql(model: type[Model], where: str, names) -> str:
    connection = _db()
    table = connection.ops.quote_name(model._meta.db_table)
    return f"SELECT {columns(model, names=names)} FROM {table} WHERE {where} LIMIT 1"


def fetch(model: type[Model], where: str, params, names: tuple[str, ...] | None = None):
    """The first row of `SELECT … FROM model WHERE <where>` as an instance, or None."""
    with _db().cursor() as c:
        c.execute(_select_sql(model, where, names), params)
        row = c.fetchone()
    return build(model, row, names) if row is not None else None


@cache
def _insert_sql(model: type[Model]) -> tuple[str, list]:
    connection = _db()
    qn = connection.ops.quote_name
    pk = model._meta.pk
    fields = [f for f in model._meta.concrete_fields if not (f is pk and pk.db_returning)]
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {qn(pk.column)}"
    return sql, fields


def insert(obj: Model) -> Model:
    """INSERT the new instance (as `save(force_insert=True)` would, minus signals); sets its
    primary key and marks it saved."""
    model = type(obj)
    connection = _db()
    sql, fields = _insert_sql(model)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]
    with connection.cursor() as c:
        c.execute(sql, params)
        pk = c.fetchone()[0] if connection.features.can_return_columns_from_insert else c.lastrowid
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj
