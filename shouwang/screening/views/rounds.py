"""Rounds and sampling points: the index, the forms, a round's page, closing a round, the points
with their lanes. Views parse, scope and render; the rules are in screening/services.py."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.permissions import can
from shouwang.accounts.scope import scope_queryset
from shouwang.control import levels
from shouwang.core.errors import DomainError
from shouwang.core.views import capability_required
from shouwang.grids.selectors import grids_for
from shouwang.registry.models import Building, Compound
from shouwang.screening import coverage, services
from shouwang.screening.forms import LaneForm, PointForm, RoundForm
from shouwang.screening.models import RoundKind, TubeResult

RECENT = 8


def round_links(user, rnd) -> dict:
    return {
        # Antigen rounds are self-tests reported per person: nothing to swab at a point.
        "sample": reverse("screening:sample", args=[rnd.pk])
        if can(user, "screening.sample") and rnd.kind != RoundKind.ANTIGEN
        else None,
        "coverage": reverse("screening:coverage", args=[rnd.pk])
        if can(user, "screening.coverage")
        else None,
        # ... and no tubes, no lab results, no doors to visit: coverage counts the reports.
        "results": reverse("screening:results", args=[rnd.pk])
        if can(user, "screening.results") and rnd.kind != RoundKind.ANTIGEN
        else None,
        "visits": reverse("screening:visits", args=[rnd.pk])
        if rnd.kind != RoundKind.ANTIGEN
        else None,
    }


def _with_counts(qs):
    return qs.annotate(
        n_samples=Count("samples", filter=Q(samples__counted=True, samples__voided_at=None)),
    )


@capability_required("screening.sample")
def index(request):
    user = request.user
    today = timezone.localdate()
    rounds = services.rounds_for(user).prefetch_related("points")
    todays = list(_with_counts(rounds.filter(date=today)).order_by("kind", "number"))
    by_kind = []
    for kind in RoundKind:
        recent = list(
            _with_counts(rounds.filter(kind=kind, date__lt=today)).order_by("-date", "-number")[
                :RECENT
            ]
        )
        upcoming = list(rounds.filter(kind=kind, date__gt=today).order_by("date", "number")[:3])
        if recent or upcoming:
            by_kind.append({"kind": kind, "recent": recent, "upcoming": upcoming})
    for r in todays:
        r.links = round_links(user, r)
    for group in by_kind:
        for r in group["recent"]:
            r.links = round_links(user, r)
    return render(
        request,
        "screening/index.html",
        {
            "todays": todays,
            "by_kind": by_kind,
            "tally": coverage.tally(user.community),
            "can_manage": can(user, "screening.manage"),
            "can_antigen": can(user, "screening.antigen"),
            "can_rollup": can(user, "rollup.view"),
        },
    )


def _round_form(request, user, initial, rnd=None):
    return RoundForm(
        request.POST or None,
        initial=initial,
        compounds=scope_queryset(user, Compound.objects.all()).order_by("name"),
        buildings=scope_queryset(user, Building.objects.select_related("compound")).order_by(
            "compound__name", "name"
        ),
        grids=grids_for(user).order_by("sort", "name"),
        points=services.points_for(user).filter(active=True)
        if rnd is None
        else services.points_for(user).filter(Q(active=True) | Q(rounds=rnd)).distinct(),
    )


@require_http_methods(["GET", "POST"])
@capability_required("screening.manage")
def round_edit(request, pk: int | None = None):
    user = request.user
    rnd = services.round_get_for(user, pk) if pk is not None else None
    if rnd is not None:
        initial = RoundForm.initial_for(rnd)
    else:
        kind = request.GET.get("kind") or RoundKind.MASS
        if kind not in RoundKind.values:
            kind = RoundKind.MASS
        last = services.rounds_for(user).filter(kind=kind).order_by("-date", "-number").first()
        initial = {
            "kind": kind,
            "number": services.round_next_number(user.community_id, kind),
            "date": timezone.localdate(),
            "starts_at": last.starts_at if last else "07:00",
            "ends_at": last.ends_at if last else "11:00",
            "pool_size": last.pool_size if last else 10,
            "points": list(last.points.all()) if last else [],
        }
    form = _round_form(request, user, initial, rnd)
    if request.method == "POST" and form.is_valid():
        try:
            rnd = services.round_save(
                actor=user, community=user.community, rnd=rnd, **form.service_fields()
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("%(round)s is saved.") % {"round": rnd})
            return redirect("screening:round", pk=rnd.pk)
    next_numbers = {
        k.value: services.round_next_number(user.community_id, k.value) for k in RoundKind
    }
    return render(
        request,
        "screening/round_form.html",
        {"form": form, "round": rnd, "next_numbers": next_numbers},
    )


@capability_required("screening.sample")
def round_detail(request, pk: int):
    user = request.user
    rnd = services.round_get_for(user, pk)
    counting = rnd.samples.counting()
    tubes = rnd.tubes.all()
    stats = {
        "people": counting.count(),
        "tubes": tubes.count(),
        "open_tubes": tubes.filter(closed_at=None).count(),
        "pending": tubes.filter(result=TubeResult.PENDING).count(),
        "negative": tubes.filter(result=TubeResult.NEGATIVE).count(),
        "positive": tubes.filter(result=TubeResult.POSITIVE).count(),
        "invalid": tubes.filter(result=TubeResult.INVALID).count(),
    }
    by_point = list(counting.values("point__name").annotate(n=Count("pk")).order_by("point__name"))
    return render(
        request,
        "screening/round.html",
        {
            "round": rnd,
            "stats": stats,
            "by_point": by_point,
            "points": rnd.points.prefetch_related("lanes"),
            "scope_names": _scope_names(rnd),
            "links": round_links(user, rnd),
            "can_manage": can(user, "screening.manage"),
            "visit_lists": rnd.visit_lists.count(),
        },
    )


def _scope_names(rnd) -> list[str]:
    names = [c.name for c in rnd.compounds.all()]
    names += [f"{b.compound.name} {b.name}" for b in rnd.buildings.select_related("compound")]
    names += [g.name for g in rnd.grids.all()]
    chosen = levels.parse(rnd.control_levels)
    if chosen:
        names.append(
            _("only homes under: %(levels)s")
            % {"levels": "、".join(levels.label(v) for v in chosen)}
        )
    return names


@require_POST
@capability_required("screening.manage")
def round_close(request, pk: int):
    rnd = services.round_get_for(request.user, pk)
    if services.round_close(actor=request.user, rnd=rnd):
        messages.success(request, _("%(round)s is closed.") % {"round": rnd})
    else:
        messages.info(request, _("This round was already closed."))
    return redirect("screening:round", pk=rnd.pk)


# --- sampling points ------------------------------------------------------------------------


@capability_required("screening.sample")
def points(request):
    user = request.user
    qs = services.points_for(user).prefetch_related("lanes", "staff")
    return render(
        request,
        "screening/points.html",
        {
            "points": qs,
            "can_manage": can(user, "screening.manage"),
            "lane_form": LaneForm(),
        },
    )


def _staff(user):
    return services.samplers_for(user)


@require_http_methods(["GET", "POST"])
@capability_required("screening.manage")
def point_edit(request, pk: int | None = None):
    user = request.user
    point = services.point_get_for(user, pk) if pk is not None else None
    initial = (
        PointForm.initial_for(point)
        if point
        else {"opens_at": "07:00", "closes_at": "19:00", "active": True}
    )
    form = PointForm(request.POST or None, initial=initial, staff=_staff(user))
    if request.method == "POST" and form.is_valid():
        try:
            point = services.point_save(
                actor=user,
                community=user.community,
                point=point,
                **{**form.cleaned_data, "staff": form.cleaned_data["staff"] or []},
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": point.name})
            return redirect("screening:points")
    return render(request, "screening/point_form.html", {"form": form, "point": point})


@require_POST
@capability_required("screening.manage")
def lane_add(request, pk: int):
    point = services.point_get_for(request.user, pk)
    form = LaneForm(request.POST)
    if form.is_valid():
        try:
            services.lane_add(actor=request.user, point=point, **form.cleaned_data)
        except DomainError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, _("The lane is added."))
    else:
        messages.error(request, _("Give the lane who it is for, and its hours."))
    return redirect("screening:points")


@require_POST
@capability_required("screening.manage")
def lane_delete(request, pk: int):
    lane = services.lane_get_for(request.user, pk)
    services.lane_delete(actor=request.user, lane=lane)
    messages.success(request, _("The lane is removed."))
    return redirect("screening:points")


urlpatterns = [
    path("screening/", index, name="index"),
    path("screening/rounds/new/", round_edit, name="round_new"),
    path("screening/rounds/<int:pk>/", round_detail, name="round"),
    path("screening/rounds/<int:pk>/edit/", round_edit, name="round_edit"),
    path("screening/rounds/<int:pk>/close/", round_close, name="round_close"),
    path("screening/points/", points, name="points"),
    path("screening/points/new/", point_edit, name="point_new"),
    path("screening/points/<int:pk>/edit/", point_edit, name="point_edit"),
    path("screening/points/<int:pk>/lanes/", lane_add, name="lane_add"),
    path("screening/lanes/<int:pk>/delete/", lane_delete, name="lane_delete"),
]
