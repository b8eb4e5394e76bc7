"""Model instances from raw rows, one-row inserts, and the fast paths' prepared reads and
insert-or-skip — without the ORM's query compiler.

For the few hot paths where compiling a query costs more than running it (taking a queue
ticket: benchmarks/queue_take.py). The SQL is written once per model and field list; values go
through the same converters (reading) and the same `pre_save` / `get_db_prep_save` (writing) as
the ORM's, so an instance made here is the instance the ORM would have made: a field that was
not loaded is deferred and read on first use. Database errors arrive as Django's (IntegrityError
on a unique constraint), as from the ORM. No model signals are sent on saving (none are used
here); an instance is built without Model.__init__'s loop when no init signal has a receiver.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import weakref
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from django.utils.dateparse import parse_datetime


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
    attnames = [f.attname for f, _c, _v in plan]
    if _fills_dict(model, tuple(attnames)) and not _init_listened(model):
        return _filled(model, connection.alias, attnames, values)
    return model.from_db(connection.alias, attnames, values)


@cache
def _fills_dict(model: type[Model], attnames: tuple[str, ...]) -> bool:
    """Whether Model.__init__ with these values does nothing but store them in the instance's
    __dict__ (and send the init signals): the model keeps Django's __init__ and no field's
    attribute is a descriptor whose __set__ does more (a foreign key's `_id` attribute only
    clears a cached related object, which a new instance does not have); nor from_db or
    __setattr__ overridden, nor a generated field (left unset by __init__, read later)."""
    if (
        model.__init__ is not Model.__init__
        or model.__setattr__ is not Model.__setattr__
        or model.from_db.__func__ is not Model.from_db.__func__
        or any(f.generated for f in model._meta.concrete_fields)
    ):
        return False
    for name in attnames:
        descriptor = inspect.getattr_static(model, name, None)
        if hasattr(type(descriptor), "__set__") and not isinstance(
            descriptor, ForeignKeyDeferredAttribute
        ):
            return False
    return True


def new(model: type[Model], **values) -> Model:
    """`model(**values)` (values by attname: `task_id`, not `task`), without __init__'s walk
    through its keyword arguments and signals when nothing listens: every other field at its
    default, a new (unsaved) instance."""
    attnames = _attnames(model)
    if not _fills_dict(model, attnames) or _init_listened(model):
        return model(**values)
    obj = model.__new__(model)
    d = obj.__dict__
    d["_state"] = ModelState()
    for attname, field in zip(attnames, model._meta.concrete_fields, strict=True):
        d[attname] = values.pop(attname) if attname in values else field.get_default()
    if values:
        raise TypeError(f"{model.__name__} has no field(s) {', '.join(values)}")
    return obj


@cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields)


def _init_listened(model: type[Model]) -> bool:
    if not pre_init.receivers and not post_init.receivers:  # the usual case, cheaply
        return False
    return pre_init.has_listeners(model) or post_init.has_listeners(model)


def _filled(model: type[Model], alias: str, attnames: list[str], values: list) -> Model:
    """What `model.from_db(alias, attnames, values)` makes, without running __init__'s loop
    over every field: the loaded values in __dict__ (a field not loaded is absent from it, which
    is how Django marks it deferred), the state of an instance read from `alias`."""
    obj = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = alias
    d = obj.__dict__
    d["_state"] = state
    d.update(zip(attnames, values, strict=True))
    return obj


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


def insert_fields(model: type[Model]) -> list:
    """The fields `insert` writes, in its order (the primary key left to the database)."""
    return _insert_sql(model)[1]


def insert_values(obj: Model) -> list:
    """The values `insert` sends for the new instance, in `insert_fields` order: for a
    hand-written INSERT (tasks._wait_guarded)."""
    connection = _db()
    return [
        f.get_db_prep_save(f.pre_save(obj, True), connection=connection)
        for f in insert_fields(type(obj))
    ]


def insert(obj: Model) -> Model:
    """INSERT the new instance (as `save(force_insert=True)` would, minus signals); sets its
    primary key and marks it saved."""
    model = type(obj)
    connection = _db()
    sql, _fields = _insert_sql(model)
    params = insert_values(obj)
    with connection.cursor() as c:
        c.execute(sql, params)
        pk = c.fetchone()[0] if connection.features.can_return_columns_from_insert else c.lastrowid
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


# --- Hand-written reads and insert-or-skip, for the fast paths (scan, pass decision) ------------
# One SELECT with many joins whose plan costs more than its run, and one idempotent INSERT keyed
# by an id made on the device: screening/scan.py and checkpoints/decision.py.


def table(model: type[Model]) -> str:
    """The model's table, quoted for hand-written SQL."""
    return _db().ops.quote_name(model._meta.db_table)


_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # raw connection -> names


@cache
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """The query with $1, $2 … for its %(name)s parameters, and the names in that order."""
    names: list[str] = []

    def number(m):
        if m[1] not in names:
            names.append(m[1])
        return f"${names.index(m[1]) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql), tuple(names)


def fetch_row(sql: str, params: dict):
    """The query's first row (`%(name)s` parameters). On PostgreSQL, outside a transaction, as a
    prepared statement of this connection: planning a many-join query costs several times
    running it (≈ 4 ms against 0.6 ms for the scan's on the benchmark machine), and Django's
    client-side binding re-plans it every time. Inside a transaction (tests, undo) it is run as
    is, so a rollback can never take a PREPARE with it."""
    connection = _db()
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with connection.cursor() as c:
            c.execute(sql, params)
            return c.fetchone()
    from psycopg import errors

    connection.ensure_connection()
    names = _prepared.setdefault(connection.connection, set())
    text, order = _positional(sql)
    name = f"shouwang_fast_{len(text)}_{abs(hash(text)) % 10**8}"
    args = [params[n] for n in order]
    execute = f"EXECUTE {name}({', '.join(['%s'] * len(args))})"
    with connection.cursor() as c:
        if name not in names:
            c.execute(f"PREPARE {name} AS {text}")
            names.add(name)
        try:
            c.execute(execute, args)
        except errors.InvalidSqlStatementName:  # the session was reset under us (a pooler)
            c.execute(f"PREPARE {name} AS {text}")
            c.execute(execute, args)
        return c.fetchone()


def aware(value):
    """A datetime column as read by the raw cursor: aware (SQLite hands back naive UTC)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


def as_date(value):
    """A date column as read by the raw cursor (SQLite hands back text)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


@cache
def _skip_sql(model: type[Model], conflict: str) -> tuple[str, list]:
    qn = _db().ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    return (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT {conflict} DO NOTHING",
        fields,
    )


@cache
def _preps(model: type[Model], vendor: str) -> list:
    """Per field of `_skip_sql`: the field when its value needs the database's adaptation
    (UUIDs, times, decimals), else None (strings, numbers, booleans go as they are)."""
    _sql, fields = _skip_sql(model, "")
    plain = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)
    return [None if isinstance(f, plain) or f.is_relation else f for f in fields]


def insert_or_skip(model: type[Model], conflict: str, values: dict) -> bool:
    """INSERT … ON CONFLICT `conflict` DO NOTHING of a row given as {attname: value} (every
    concrete field but the primary key); True when a row was inserted."""
    connection = _db()
    sql, fields = _skip_sql(model, conflict)
    get = values.get
    params = [
        get(f.attname)
        if prep is None
        else prep.get_db_prep_save(get(f.attname), connection=connection)
        for f, prep in zip(fields, _preps(model, connection.vendor), strict=True)
    ]
    with connection.cursor() as c:
        c.execute(sql, params)
        return c.rowcount == 1
