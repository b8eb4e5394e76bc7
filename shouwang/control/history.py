"""The control history is append-only, and the database itself says so.

Triggers on `control_historyentry` refuse every UPDATE and DELETE — from the ORM, from raw SQL,
from a database shell — on SQLite and on PostgreSQL (where TRUNCATE is refused too). Rows are
only ever added (services.py). A mistake is corrected by a new line, never by editing an old one.

The one thing that may empty the table is `flush` (which empties the whole database, e.g. between
tests): our `flush` command (management/commands/flush.py) lifts the triggers for it and puts
them back at once. Anyone with the rights to drop a trigger can, of course, drop it: the point is
that no page, API, script or slip of the hand changes the record.
"""

from __future__ import annotations

TABLE = "control_historyentry"
MESSAGE = "control history is append-only: rows cannot be changed or deleted"

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
_SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
]

_PG_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION {TABLE}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'integrity_constraint_violation';
        END $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse()""",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_refuse()""",
]
_PG_REMOVE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
]


def _statements(vendor: str, install: bool) -> list[str]:
    if vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_REMOVE
    if vendor == "postgresql":
        return _PG_INSTALL if install else _PG_REMOVE
    raise NotImplementedError(f"append-only triggers for {vendor} are not written")


def _run(connection, install: bool) -> None:
    with connection.cursor() as c:
        for sql in _statements(connection.vendor, install):
            c.execute(sql)


def install(connection) -> None:
    """Put the triggers on (idempotent)."""
    _run(connection, True)


def remove(connection) -> None:
    """Take the triggers off (only `flush` does this, and puts them back)."""
    _run(connection, False)


def installed(connection) -> bool:
    """Whether the triggers are on (the tests check the migration put them there)."""
    with connection.cursor() as c:
        if connection.vendor == "sqlite":
            c.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            return c.fetchone()[0] == 2
        c.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [TABLE],
        )
        return c.fetchone()[0] == 2
