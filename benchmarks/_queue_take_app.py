"""WSGI apps for benchmarks/queue_take.py, served by the same granian command as the product.

The product's settings (database options, persistent connections, SECRET_KEY from the same
SHOUWANG_VAR_DIR), with one of these URLconfs, chosen by BENCH_APP (read at import):

- "insert" (the baseline): no middleware, one view that saves one row with the ORM
  (`BenchInsert.objects.create`) — "a bare Django view doing one insert".
- "insert_raw": the same, the row written with a raw cursor (no ORM), for reference.
- "insert_mw": the ORM insert view behind the product's middleware stack (a reference: what the
  middleware costs before a view does anything).

    granian --interface wsgi ... benchmarks._queue_take_app:application   (cwd: the repo root)

The table `bench_insert` is created by the scenario (queue_take.create_insert_table) before the
servers start.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402
from django.conf import settings  # noqa: E402

MODES = ("insert", "insert_raw", "insert_mw")
MODE = os.environ.get("BENCH_APP", "insert")
if MODE not in MODES:
    raise RuntimeError(f"BENCH_APP={MODE!r}: one of {', '.join(MODES)}")
if MODE in ("insert", "insert_raw"):
    settings.MIDDLEWARE = []
settings.ROOT_URLCONF = __name__
django.setup()

from django.db import connection, models  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

TABLE = "bench_insert"


class BenchInsert(models.Model):
    """One row per request of the baseline (unmanaged: the scenario creates the table)."""

    hh = models.BigIntegerField()
    at = models.FloatField()

    class Meta:
        app_label = "core"
        db_table = TABLE
        managed = False

    def __str__(self):
        return f"{self.hh}@{self.at}"


def insert(request, hh: int, pk: int):
    """One row (autocommit: one transaction), a short answer."""
    if request.method != "POST":
        return HttpResponse(status=405)
    BenchInsert.objects.create(hh=hh, at=time.time())
    return HttpResponse("ok", content_type="text/plain")


def insert_raw(request, hh: int, pk: int):
    if request.method != "POST":
        return HttpResponse(status=405)
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {TABLE} (hh, at) VALUES (%s, %s)", [hh, time.time()])
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/insert/<int:hh>/<int:pk>/", insert_raw if MODE == "insert_raw" else insert)
]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
