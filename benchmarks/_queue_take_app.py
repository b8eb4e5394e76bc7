"""WSGI apps for benchmarks/queue_take.py, served by the same granian command as the product.

The product's settings (database options, persistent connections, SECRET_KEY from the same
SHOUWANG_VAR_DIR), with one of these URLconfs, chosen by BENCH_APP (read at import):

- "insert" (the baseline): no middleware, one view that saves one row with the ORM
  (`BenchInsert.objects.create`) — "a bare Django view doing one insert".
- "insert_raw": the same, the row written with a raw cursor (no ORM), for reference.
- "insert_mw": the ORM insert view behind the product's middleware stack (a reference: what the
  middleware costs before a view does anything).
- "take_lean": the product's URLconf plus /bench/take-lean/<hh>/<day>/, a prototype of the
  fixes proposed for the take path (see `take_lean` and `ticket_take_lean`), measured next to
  queues:take with the same correctness checks. Nothing here is used by the product.

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

MODES = ("insert", "insert_raw", "insert_mw", "take_lean")
MODE = os.environ.get("BENCH_APP", "insert")
if MODE not in MODES:
    raise RuntimeError(f"BENCH_APP={MODE!r}: one of {', '.join(MODES)}")
if MODE in ("insert", "insert_raw"):
    settings.MIDDLEWARE = []
settings.ROOT_URLCONF = __name__
django.setup()

from django.db import IntegrityError, connection, models, transaction  # noqa: E402
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


# --- the proposed take path (prototype) -------------------------------------------------------


def point_serves_1q(point, household) -> bool:
    """services.point_serves in one query instead of three (compounds, buildings, grids)."""
    if point.community_id != household.community_id:
        return False
    with connection.cursor() as cur:
        cur.execute(
            "SELECT 'c', compound_id FROM queues_queuepoint_compounds WHERE queuepoint_id = %s "
            "UNION ALL SELECT 'b', building_id FROM queues_queuepoint_buildings "
            "WHERE queuepoint_id = %s "
            "UNION ALL SELECT 'g', grid_id FROM queues_queuepoint_grids WHERE queuepoint_id = %s",
            [point.pk] * 3,
        )
        scope = set(cur.fetchall())
    if not scope:
        return True
    b = household.building
    return ("c", b.compound_id) in scope or ("b", b.pk) in scope or ("g", b.grid_id) in scope


def ticket_take_lean(*, day, household, notify, sms_phone=""):
    """services.ticket_take for a first-come day with one ticket per household (the other cases
    go to the service unchanged), with two changes:

    * no "does the household have one already" query before the transaction: a second press
      loses on UNIQUE (day, household, slot) and gets the first press's ticket, as now;
    * a day whose counter is full (read with the day, a moment ago; `issued` never goes down)
      refuses without a write transaction — after looking up the household's own ticket, so a
      household that already has one still gets it.
    """
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from shouwang.core.errors import Conflict, Forbidden
    from shouwang.queues import services
    from shouwang.queues.models import SEQ_STEP, Channel, SaleDay, Ticket

    if day.mode != SaleDay.Mode.FIRST_COME or day.per_household != 1:
        return services.ticket_take(
            day=day, household=household, notify=notify, sms_phone=sms_phone
        )
    services._check_window(day, timezone.now())
    if not day.point.active:
        raise Conflict("point_inactive", _("This point is not handing out numbers any more."))
    if not point_serves_1q(day.point, household):
        raise Forbidden(
            "not_served",
            _("%(point)s does not serve this building. Ask the committee which point serves you.")
            % {"point": day.point.name},
        )
    cols = services._notify_columns(notify, sms_phone)

    def existing():
        return Ticket.objects.filter(day=day, household=household, slot=1).order_by().first()

    if day.issued >= day.tickets_total:
        t = existing()
        if t is not None:
            return services.Taken(ticket=t, created=False)
        raise services._refuse_sold_out(day)
    try:
        with transaction.atomic():
            with connection.cursor() as c:
                c.execute(
                    "UPDATE queues_saleday SET issued = issued + 1 "
                    "WHERE id = %s AND issued < tickets_total AND closed_at IS NULL "
                    "RETURNING issued",
                    [day.pk],
                )
                row = c.fetchone()
            if row is None:
                raise services._refuse_sold_out(day)
            t = Ticket.objects.create(
                day=day,
                community_id=day.community_id,
                household=household,
                channel=Channel.HOUSEHOLD,
                number=row[0],
                slot=1,
                seq=row[0] * SEQ_STEP,
                follow_key=services.new_follow_key(),
                **cols,
            )
    except (IntegrityError, services.SoldOut):
        t = existing()
        if t is None:
            raise
        return services.Taken(ticket=t, created=False)
    return services.Taken(ticket=t, created=True)


def take_lean(request, hh: int, pk: int):
    """queues:take with the proposed changes, for the household's own session and a page or
    knock notice; anything else (proxies, SMS) is handed to the product's view unchanged."""
    from django.contrib import messages
    from django.shortcuts import get_object_or_404, redirect

    from shouwang.core.errors import DomainError
    from shouwang.queues.models import Notify, SaleDay
    from shouwang.queues.views import public
    from shouwang.registry.models import Household
    from shouwang.residents import access

    if request.method != "POST":
        return HttpResponse(status=405)
    acc = access.current(request)
    notify = request.POST.get("notify", "")
    if acc is None or not acc.is_own(hh) or notify not in (Notify.PAGE, Notify.KNOCK):
        return public.take(request, hh=hh, pk=pk)
    # get() drops the models' default ordering; first() compiles an ORDER BY for a pk lookup.
    household = get_object_or_404(Household.objects.select_related("building"), pk=hh)
    day = get_object_or_404(
        SaleDay.objects.select_related("point"), pk=pk, community_id=household.community_id
    )
    try:
        taken = ticket_take_lean(day=day, household=household, notify=notify)
    except DomainError as e:
        messages.error(request, e.message)
        return redirect(public._household_url(hh))
    messages.success(request, public._taken_message(taken, day))
    return redirect("queues:ticket", key=taken.follow_key)


if MODE == "take_lean":
    from config.urls import urlpatterns as _product

    urlpatterns = [*_product, path("bench/take-lean/<int:hh>/<int:pk>/", take_lean)]
else:
    urlpatterns = [
        path("bench/insert/<int:hh>/<int:pk>/", insert_raw if MODE == "insert_raw" else insert)
    ]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
