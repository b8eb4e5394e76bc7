"""Door-to-door visit lists: a round's lists, making one, a list's page (sorted by building and
door) and its print version, assigning it, and recording a door (also used by the sampling
page's door-to-door mode: it answers JSON when asked with Accept: application/json)."""

from __future__ import annotations

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.permissions import can
from shouwang.core.errors import DomainError
from shouwang.core.views import capability_required
from shouwang.screening import services, visits
from shouwang.screening.forms import AssignForm, VisitListForm, VisitRecordForm
from shouwang.screening.models import Visit, VisitReason
from shouwang.screening.sealed import sealed_building_ids


def _people(user):
    return services.samplers_for(user)


@capability_required("screening.sample")
def round_lists(request, pk: int):
    user = request.user
    rnd = services.round_get_for(user, pk)
    lists = visits.list_counts(visits.lists_for(user).filter(round=rnd)).order_by("-created_at")
    return render(
        request,
        "screening/visits.html",
        {"round": rnd, "lists": lists, "can_manage": can(user, "screening.manage")},
    )


@require_http_methods(["GET", "POST"])
@capability_required("screening.manage")
def list_new(request, pk: int):
    user = request.user
    rnd = services.round_get_for(user, pk)
    form = VisitListForm(
        request.POST or None,
        initial={"reason": VisitReason.BEDRIDDEN},
        people=_people(user),
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            households = ()
            if d["reason"] == VisitReason.REQUESTED:
                households = visits.households_from_text(rnd, d["households"])
            vl = visits.visit_list_make(
                actor=user,
                rnd=rnd,
                reason=d["reason"],
                name=d["name"],
                team=d["team"],
                assignees=d["assignees"] or [],
                households=households,
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(
                request,
                _("The list %(name)s is made: %(n)s homes.")
                % {"name": vl.name, "n": vl.visits.count()},
            )
            return redirect("screening:visit_list", pk=vl.pk)
    return render(
        request,
        "screening/visit_list_form.html",
        {
            "round": rnd,
            "form": form,
            "sealed_known": bool(sealed_building_ids(rnd.community_id)),
        },
    )


def _list_context(request, vl) -> dict:
    rows = visits.list_rows(vl)
    counts = {s: 0 for s in Visit.Status.values}
    for r in rows:
        counts[r["visit"].status] += 1
    return {
        "vl": vl,
        "round": vl.round,
        "rows": rows,
        "counts": counts,
        "assignees": list(vl.assignees.all()),
        "statuses": Visit.Status.choices,
        "sample_url": reverse("screening:sample", args=[vl.round_id]),
    }


@require_http_methods(["GET", "POST"])
@capability_required("screening.sample")
def visit_list(request, pk: int):
    user = request.user
    vl = visits.list_get_for(user, pk)
    can_manage = can(user, "screening.manage")
    assign = None
    if can_manage:
        assign = AssignForm(
            request.POST or None,
            initial={"team": vl.team, "assignees": list(vl.assignees.all())},
            people=_people(user),
        )
        if request.method == "POST" and assign.is_valid():
            visits.visit_list_assign(
                actor=user,
                visit_list=vl,
                team=assign.cleaned_data["team"],
                assignees=assign.cleaned_data["assignees"] or [],
            )
            messages.success(request, _("The list is assigned."))
            return redirect("screening:visit_list", pk=vl.pk)
    elif request.method == "POST":
        return render(request, "core/forbidden.html", status=403)
    return render(
        request,
        "screening/visit_list.html",
        {**_list_context(request, vl), "assign": assign, "can_manage": can_manage},
    )


@capability_required("screening.sample")
def visit_list_print(request, pk: int):
    vl = visits.list_get_for(request.user, pk)
    return render(request, "screening/visit_list_print.html", _list_context(request, vl))


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
@capability_required("screening.sample")
def visit_record(request, pk: int):
    user = request.user
    as_json = _wants_json(request)
    try:
        v = visits.visit_get_for(user, pk)
    except DomainError as e:
        if as_json:
            return JsonResponse(e.as_dict(), status=e.status)
        raise
    form = VisitRecordForm(request.POST)
    if not form.is_valid():
        msg = _("Choose visited, not at home or refused.")
        if as_json:
            return JsonResponse(
                {"error": {"code": "invalid", "message": msg, "fields": {"status": msg}}},
                status=400,
            )
        messages.error(request, msg)
        return redirect("screening:visit_list", pk=v.visit_list_id)
    note = form.cleaned_data["note"] if "note" in request.POST else None
    v = visits.visit_record(actor=user, visit=v, status=form.cleaned_data["status"], note=note)
    if as_json:
        return JsonResponse(
            {
                "ok": True,
                "visit": v.pk,
                "status": v.status,
                "label": str(Visit.Status(v.status).label),
                "note": v.note,
                "at": v.at.isoformat() if v.at else None,
            }
        )
    return redirect(reverse("screening:visit_list", args=[v.visit_list_id]) + f"#v{v.pk}")


urlpatterns = [
    path("screening/rounds/<int:pk>/visits/", round_lists, name="visits"),
    path("screening/rounds/<int:pk>/visits/new/", list_new, name="visit_list_new"),
    path("screening/visit-lists/<int:pk>/", visit_list, name="visit_list"),
    path("screening/visit-lists/<int:pk>/print/", visit_list_print, name="visit_list_print"),
    path("screening/visits/<int:pk>/record/", visit_record, name="visit_record"),
]
