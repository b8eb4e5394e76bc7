"""Antigen self-test pages: the household reports from its own page (the household's session or
a proxy holding its consent); grid staff enter results for households without phones, one tap
per person; staff open a reported photo. The rules are in `screening.antigen`."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouwang.accounts.models import Role
from shouwang.accounts.scope import get_scoped
from shouwang.core.errors import DomainError
from shouwang.core.views import capability_required
from shouwang.grids.selectors import grid_get_for, grids_for
from shouwang.registry.models import Resident
from shouwang.registry.selectors import (
    building_get_for,
    buildings_for,
    households_for,
    resident_get_for,
)
from shouwang.residents.views.resident import _viewer
from shouwang.screening import antigen
from shouwang.screening.models import AntigenReport, AntigenResult


def _household_url(hh: int) -> str:
    return reverse("residents:my_household", args=[hh]) + "#antigen"


@require_POST
def report(request, hh: int):
    """From the household page: one member's result for today, with an optional photo."""
    is_own, consent = _viewer(request, hh)
    try:
        rid = int(request.POST.get("resident", ""))
    except ValueError:
        raise Http404 from None
    resident = get_object_or_404(Resident.objects.living_here(), pk=rid, household_id=hh)
    if consent is not None and consent.resident_id and consent.resident_id != resident.pk:
        raise Http404
    try:
        r = antigen.report_save(
            actor=request.user,
            resident=resident,
            result=request.POST.get("result", ""),
            photo=request.FILES.get("photo"),
            via=antigen.Via.HOUSEHOLD if is_own else antigen.Via.PROXY,
            consent=consent,
        )
    except DomainError as e:
        messages.error(request, e.message)
    else:
        if r.result == AntigenResult.POSITIVE:
            messages.warning(
                request,
                _(
                    "Positive result recorded for %(name)s. Stay at home and keep away from the "
                    "others in the household; the community will call you."
                )
                % {"name": resident.name},
            )
        else:
            messages.success(
                request,
                _("Recorded: %(name)s, %(result)s.")
                % {"name": resident.name, "result": r.get_result_display()},
            )
    return redirect(_household_url(hh))


def _day(request) -> dt.date:
    today = timezone.localdate()
    try:
        day = dt.date.fromisoformat(request.GET.get("date") or request.POST.get("date") or "")
    except ValueError:
        return today
    if day > today or day < today - dt.timedelta(days=antigen.STAFF_DAYS_BACK):
        return today
    return day


@never_cache
@capability_required("screening.antigen")
def entry(request):
    """A building's (or a grid's) households for the day, one tap per person."""
    user = request.user
    day = _day(request)
    building = grid = None
    if request.GET.get("building"):
        building = building_get_for(user, request.GET["building"])
        qs = households_for(user).filter(building=building)
    elif request.GET.get("grid") or user.role == Role.GRID_LEADER:
        grid = grid_get_for(user, request.GET.get("grid") or user.grid_id)
        qs = households_for(user).filter(building__grid=grid)
    else:
        qs = None
    only_no_phone = request.GET.get("nophone") == "1"
    rows = (
        antigen.entry_rows(qs.order_by("building_id", "dwelling_id", "id"), day)
        if qs is not None
        else []
    )
    if only_no_phone:
        rows = [r for r in rows if not r.has_phone]
    reported = sum(r.reported for r in rows)
    people = sum(len(r.members) for r in rows)
    return render(
        request,
        "screening/antigen_entry.html",
        {
            "day": day,
            "today": timezone.localdate(),
            "building": building,
            "grid": grid,
            "rows": rows,
            "people": people,
            "reported": reported,
            "only_no_phone": only_no_phone,
            "buildings": buildings_for(user).select_related("compound")
            if building is None and grid is None
            else [],
            "grids": grids_for(user).order_by("sort", "name")
            if building is None and grid is None
            else [],
            "results": AntigenResult.choices,
        },
    )


@require_POST
@capability_required("screening.antigen")
def record(request):
    """One tap: a person's result for the day, entered by staff."""
    resident = resident_get_for(request.user, request.POST.get("resident"))
    day = _day(request)
    try:
        r = antigen.report_save(
            actor=request.user,
            resident=resident,
            result=request.POST.get("result", ""),
            date=day,
            via=antigen.Via.STAFF,
        )
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request,
            _("%(name)s: %(result)s.") % {"name": resident.name, "result": r.get_result_display()},
        )
    nxt = request.POST.get("next", "")
    if not nxt.startswith("/screening/antigen/"):
        nxt = reverse("screening:antigen_entry")
    return redirect(f"{nxt}#p{resident.pk}")


@capability_required("screening.antigen")
def photo(request, pk: int):
    r = get_scoped(
        request.user,
        AntigenReport.objects.all(),
        pk,
        grid_path="resident__household__building__grid_id",
    )
    if not r.photo:
        raise Http404
    resp = FileResponse(r.photo.open("rb"), content_type="image/jpeg")
    resp["Cache-Control"] = "private, no-store"
    return resp


urlpatterns = [
    path("screening/households/<int:hh>/antigen/", report, name="antigen_report"),
    path("screening/antigen/", entry, name="antigen_entry"),
    path("screening/antigen/record/", record, name="antigen_record"),
    path("screening/antigen/<int:pk>/photo/", photo, name="antigen_photo"),
]
