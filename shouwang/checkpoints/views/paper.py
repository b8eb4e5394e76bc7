"""Checkpoint pages: the paper fallback — choose a checkpoint, a building and a date; print the
tick-sheet; type a filled sheet in afterwards. The rules are in checkpoints/paper.py. (URL
patterns in `urlpatterns`.)"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from shouwang.checkpoints import paper as svc
from shouwang.checkpoints import visitors as desk
from shouwang.checkpoints.decision import reason_label
from shouwang.checkpoints.models import PaperBatch
from shouwang.core.errors import DomainError
from shouwang.core.views import capability_required

RECENT = 20


def _choice(request):
    """(checkpoint, building, date) from the query (or the form), each None when missing."""
    user = request.user
    src = request.POST if request.method == "POST" else request.GET
    checkpoint = building = None
    if src.get("checkpoint"):
        checkpoint = desk.checkpoint_get_for(user, src["checkpoint"])
    if src.get("building"):
        building = desk.building_get_at_gate(user, src["building"])
    try:
        day = dt.date.fromisoformat(src.get("date", ""))
    except ValueError:
        day = None
    return checkpoint, building, day


def _query(checkpoint, building, day) -> str:
    return f"?checkpoint={checkpoint.pk}&building={building.pk}&date={day.isoformat()}"


@never_cache
@capability_required("checkpoints.paper")
def paper_home(request):
    user = request.user
    checkpoint, building, day = _choice(request)
    recent = list(
        PaperBatch.objects.filter(community_id=user.community_id)
        .select_related("checkpoint", "building", "entered_by")
        .order_by("-entered_at", "-pk")[:RECENT]
    )
    return render(
        request,
        "checkpoints/paper.html",
        {
            "checkpoints": desk.checkpoints_for(user),
            "buildings": desk.buildings_at_gate(user),
            "checkpoint": checkpoint,
            "building": building,
            "day": day or timezone.localdate(),
            "recent": recent,
        },
    )


@never_cache
@capability_required("checkpoints.paper")
def paper_sheet(request):
    """The printable A4 tick-sheet."""
    checkpoint, building, day = _choice(request)
    if checkpoint is None or building is None:
        messages.info(request, _("Choose the checkpoint and the building first."))
        return redirect("checkpoints:paper")
    day = day or timezone.localdate()
    return render(request, "checkpoints/paper_sheet.html", svc.sheet(checkpoint, building, day))


def _values(post, rows) -> dict[int, dict]:
    return {
        r["resident"].pk: {
            "time": post.get(f"t{r['resident'].pk}", ""),
            "direction": post.get(f"d{r['resident'].pk}", ""),
            "temperature": post.get(f"c{r['resident'].pk}", ""),
            "back": bool(post.get(f"b{r['resident'].pk}")),
        }
        for r in rows
    }


@never_cache
@capability_required("checkpoints.paper")
def paper_entry(request):
    """One row per resident: time, in/out, temperature, turned back. Tab from field to field;
    blank rows are skipped."""
    user = request.user
    checkpoint, building, day = _choice(request)
    if checkpoint is None or building is None or day is None:
        messages.info(request, _("Choose the checkpoint, the building and the sheet's date."))
        return redirect(reverse("checkpoints:paper"))
    data = svc.sheet(checkpoint, building, day)
    rows = data["rows"]
    error = None
    duplicate = False
    values: dict = {}
    if request.method == "POST":
        values = _values(request.POST, rows)
        try:
            entered = svc.paper_enter(
                actor=user,
                checkpoint=checkpoint,
                building=building,
                day=day,
                values=values,
                confirm_duplicate=bool(request.POST.get("again")),
                note=request.POST.get("note", ""),
            )
        except DomainError as e:
            error = e
            duplicate = e.code == "paper_duplicate"
        else:
            follow = entered.to_follow_up
            messages.success(
                request,
                _("Sheet entered: %(n)s passages.") % {"n": entered.batch.rows},
            )
            for r in follow:
                messages.warning(
                    request,
                    _("%(name)s (%(door)s) passed at %(t)s although: %(why)s")
                    % {
                        "name": r.resident.name,
                        "door": svc.door_label(r.resident),
                        "t": timezone.localtime(r.at).strftime("%H:%M"),
                        "why": "; ".join(reason_label(c) for c in r.reasons),
                    },
                )
            return redirect(reverse("checkpoints:paper") + _query(checkpoint, building, day))
    fields = error.fields if error is not None else {}
    for r in rows:
        rid = r["resident"].pk
        r["values"] = values.get(rid, {})
        r["error"] = fields.get(f"r{rid}", "")
    before = list(svc.batches_of(checkpoint, building, day).select_related("entered_by"))
    return render(
        request,
        "checkpoints/paper_entry.html",
        {
            **data,
            "error": error,
            "duplicate": duplicate or bool(before),
            "before": before,
            "note": request.POST.get("note", ""),
        },
    )


urlpatterns = [
    path("checkpoints/paper/", paper_home, name="paper"),
    path("checkpoints/paper/sheet/", paper_sheet, name="paper_sheet"),
    path("checkpoints/paper/entry/", paper_entry, name="paper_entry"),
]
