"""Inserting many rows fast, without building a model object per row.

Django's bulk_create builds and validates one model instance per row: for a 100,000-row ledger
that alone costs more than reading the file. Import and demo data go in through here instead:
PostgreSQL's COPY, SQLite's executemany — the figures in shared/PERFORMANCE.md (≈130,000 and
≈125,000 rows/s with a unique index) against ≈22,000–25,000 for bulk_create.

Rows must already be in database form: plain str/int/bool/None, dates via `db_date`, and
timestamps via `db_datetime`. Nothing is returned: callers that need the new ids look them up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.db import connection


def db_date(value: date | None):
    return connection.ops.adapt_datefield_value(value) if value is not None else None


def date_adapter():
    """db_date for a tight loop: what adapt_datefield_value does, decided once."""
    if connection.vendor == "postgresql":
        return lambda value: value
    return lambda value: value.isoformat() if value is not None else None


def db_datetime(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


ANALYZE_AFTER = 5000


def bulk_insert(
    model, columns: Sequence[str], rows: Iterable[Sequence], *, batch: int = 5000
) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The raw psycopg cursor: errors are translated to Django's (IntegrityError …) here.
            with connection.wrap_database_errors:
                with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                if count >= ANALYZE_AFTER:
                    # A table that just grew by many rows has stale planner statistics: the
                    # next statements (e.g. a correlated subquery per household) would plan a
                    # sequential scan per row. Measured: 16 s → well under 1 s for 95,000 rows.
                    cursor.execute(f"ANALYZE {table}")
            return count
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"
        chunk: list[Sequence] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count
