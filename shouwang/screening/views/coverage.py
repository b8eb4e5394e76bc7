"""Coverage pages — "nobody missed" (不漏一人): a round by grid and building (live while it
runs), a building's doors, the missing list and its call-list export, the printable
mobilisation notice per building, progress over time, exemptions, and the district roll-up.

Grid leaders see their own grid only (the selectors filter by it; a building of another grid is
a 404). Views parse, scope and render; the rules are in `coverage`, `exemptions` and `export`."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.models import Role
from shouwang.accounts.scope import get_scoped
from shouwang.core.errors import DomainError
from shouwang.core.views import capability_required
from shouwang.grids.selectors import grids_for
from shouwang.registry.models import Community
from shouwang.registry.selectors import building_get_for, resident_get_for
from shouwang.screening import coverage as cov
from shouwang.screening import exemptions as exempt_services
from shouwang.screening.export import missing_export
from shouwang.screening.models import Exemption, ExemptReason, Round, RoundKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIVE_SECONDS = 15
# A phone cannot carry thousands of rows, each with its form: the missing list shows a page at a
# time (the Excel call list has everyone).
MISSING_PER_PAGE = 100


def _round(request, pk) -> Round:
    return get_scoped(request.user, Round.objects.all(), pk)


def running(rnd: Round, now=None) -> bool:
    """While the round runs, its pages refresh themselves."""
    if rnd.closed_at is not None:
        return False
    now = timezone.localtime(now)
    if rnd.kind == RoundKind.ANTIGEN:
        return now.date() == rnd.date
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(rnd.date, rnd.starts_at, tzinfo=tz) - dt.timedelta(hours=1)
    end = dt.datetime.combine(rnd.date, rnd.ends_at, tzinfo=tz) + dt.timedelta(hours=2)
    return start <= now <= end


def _grid_choice(request) -> int | None:
    if request.user.role == Role.GRID_LEADER:
        return None  # the selectors limit them to their grid anyway
    try:
        return int(request.GET.get("grid") or 0) or None
    except ValueError:
        return None


@never_cache
@capability_required("screening.coverage")
def coverage(request, pk: int):
    rnd = _round(request, pk)
    c = cov.coverage(rnd, request.user)
    ctx = {
        "round": rnd,
        "c": c,
        "live": running(rnd),
        "live_seconds": LIVE_SECONDS,
        "now": timezone.localtime(),
    }
    if request.GET.get("fragment") == "1":
        return render(request, "screening/coverage_table.html", ctx)
    return render(request, "screening/coverage.html", ctx)


@capability_required("screening.coverage")
def building(request, pk: int, building_pk: int):
    rnd = _round(request, pk)
    b = building_get_for(request.user, building_pk)
    doors = cov.building_doors(rnd, b)
    totals = cov.Counts()
    for d in doors:
        totals.add(d)
    return render(
        request,
        "screening/coverage_building.html",
        {
            "round": rnd,
            "building": b,
            "doors": doors,
            "totals": totals,
            "missing": cov.missing(rnd, request.user, building_id=b.pk),
            "reasons": ExemptReason.choices,
            "live": running(rnd),
        },
    )


@capability_required("screening.coverage")
def missing(request, pk: int):
    rnd = _round(request, pk)
    grid_id = _grid_choice(request)
    rows = cov.missing(rnd, request.user, grid_id=grid_id)
    page = Paginator(rows, MISSING_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "screening/missing.html",
        {
            "round": rnd,
            "rows": page.object_list,
            "total": len(rows),
            "page": page,
            "page_query": query.urlencode(),
            "grids": grids_for(request.user).order_by("sort", "name"),
            "grid_id": grid_id,
            "reasons": ExemptReason.choices,
        },
    )


@capability_required("screening.coverage")
def missing_xlsx(request, pk: int):
    rnd = _round(request, pk)
    grid_id = _grid_choice(request)
    rows = cov.missing(rnd, request.user, grid_id=grid_id)
    data = missing_export(actor=request.user, round=rnd, rows=rows)
    resp = HttpResponse(data, content_type=XLSX)
    name = f"missing-{rnd.kind}-{rnd.number}-{rnd.date:%Y%m%d}.xlsx"
    resp["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


def notice_pages(rnd: Round, user, building_id: int | None = None) -> list[dict]:
    """One A4 page per building with people still to come: the doors, how many — no names, no
    phones (it goes on the building's door)."""
    rows = cov.missing(rnd, user, building_id=building_id)
    pages: dict[int, dict] = {}
    for m in rows:
        page = pages.setdefault(
            m.building_id, {"building": m.building, "count": 0, "doors": [], "_seen": set()}
        )
        page["count"] += 1
        door = f"{m.unit} {m.door}".strip()
        if door not in page["_seen"]:
            page["_seen"].add(door)
            page["doors"].append(door)
    for page in pages.values():
        del page["_seen"]
    return list(pages.values())


@capability_required("screening.coverage")
def notice(request, pk: int):
    rnd = _round(request, pk)
    building_id = None
    if request.GET.get("building"):
        building_id = building_get_for(request.user, request.GET["building"]).pk
    points = list(rnd.points.filter(active=True).order_by("name"))
    return render(
        request,
        "screening/notice.html",
        {
            "round": rnd,
            "pages": notice_pages(rnd, request.user, building_id),
            "points": points,
            "until": rnd.ends_at,
        },
    )


@never_cache
@capability_required("screening.coverage")
def progress(request, pk: int):
    rnd = _round(request, pk)
    slots = cov.progress(rnd)
    c = cov.coverage(rnd, request.user)
    return render(
        request,
        "screening/progress.html",
        {
            "round": rnd,
            "slots": slots,
            "chart": cov.progress_chart(slots, c.total.expected),
            "c": c,
            "live": running(rnd),
            "live_seconds": LIVE_SECONDS,
        },
    )


@require_http_methods(["GET", "POST"])
@capability_required("screening.coverage")
def exemptions(request, pk: int):
    rnd = _round(request, pk)
    if request.method == "POST":
        try:
            resident = resident_get_for(request.user, request.POST.get("resident"))
            exempt_services.exemption_add(
                actor=request.user,
                round=rnd,
                resident=resident,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
            )
        except DomainError as e:
            messages.error(request, e.message)
        else:
            messages.success(
                request, _("%(name)s is exempt from this round.") % {"name": resident.name}
            )
        nxt = request.POST.get("next", "")
        if nxt.startswith("/screening/"):
            return redirect(nxt)
        return redirect("screening:exemptions", pk=rnd.pk)
    rows = cov.exempt(rnd, request.user)
    labels = {**dict(ExemptReason.choices)}
    from shouwang.registry.models import Presence

    labels.update({k: v for k, v in Presence.choices if k != Presence.PRESENT})
    for r in rows:
        r.reason_label = labels.get(r.reason, r.reason)
    return render(
        request,
        "screening/coverage_exemptions.html",
        {"round": rnd, "rows": rows, "reasons": ExemptReason.choices},
    )


@require_POST
@capability_required("screening.coverage")
def exemption_remove(request, pk: int):
    e = get_scoped(
        request.user,
        Exemption.objects.select_related("round", "resident"),
        pk,
        grid_path="resident__household__building__grid_id",
    )
    try:
        exempt_services.exemption_remove(actor=request.user, exemption=e)
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(
            request, _("%(name)s is expected in this round again.") % {"name": e.resident.name}
        )
    return redirect(reverse("screening:exemptions", args=[e.round_id]))


def communities_for(user):
    if user.role == Role.DISTRICT:
        return Community.objects.filter(street__district_id=user.district_id)
    return Community.objects.filter(pk=user.community_id)


@capability_required("rollup.view")
def rollup(request):
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    rows = cov.rollup(communities_for(request.user), day)
    totals = cov.Counts()
    for row in rows:
        for r in row["rounds"]:
            totals.add(cov.Counts(r["expected"], r["sampled"], r["exempt"]))
    return render(
        request,
        "screening/coverage_rollup.html",
        {"rows": rows, "day": day, "totals": totals},
    )


urlpatterns = [
    path("screening/rounds/<int:pk>/coverage/", coverage, name="coverage"),
    path(
        "screening/rounds/<int:pk>/coverage/buildings/<int:building_pk>/",
        building,
        name="coverage_building",
    ),
    path("screening/rounds/<int:pk>/missing/", missing, name="missing"),
    path("screening/rounds/<int:pk>/missing.xlsx", missing_xlsx, name="missing_xlsx"),
    path("screening/rounds/<int:pk>/notice/", notice, name="notice"),
    path("screening/rounds/<int:pk>/progress/", progress, name="progress"),
    path("screening/rounds/<int:pk>/exemptions/", exemptions, name="exemptions"),
    path("screening/exemptions/<int:pk>/remove/", exemption_remove, name="exemption_remove"),
    path("screening/rollup/", rollup, name="rollup"),
]
