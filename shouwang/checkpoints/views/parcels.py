"""Checkpoint pages: parcels at the gate shelf (log, the chain's steps, the shelf list, a
building volunteer's list) and the household's "received" press from its own page. The rules are
in checkpoints/parcels.py. (URL patterns in `urlpatterns`.)"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouwang.accounts.models import User
from shouwang.accounts.scope import scope_queryset
from shouwang.checkpoints import parcels as svc
from shouwang.checkpoints import visitors as desk
from shouwang.checkpoints.models import Parcel, ParcelStatus
from shouwang.core.errors import DomainError
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required
from shouwang.residents.views.resident import _viewer


class ParcelForm(DomainErrors, forms.Form):
    checkpoint = forms.TypedChoiceField(label=gettext_lazy("Checkpoint"), coerce=int)
    household = forms.CharField(
        label=gettext_lazy("For (door, e.g. 1号楼 101, or the head's name)"), max_length=60
    )
    courier = forms.CharField(
        label=gettext_lazy("Courier or company"), max_length=100, required=False
    )
    description = forms.CharField(label=gettext_lazy("What"), max_length=200, required=False)
    shelf = forms.CharField(label=gettext_lazy("Shelf place"), max_length=20, required=False)

    def __init__(self, *args, checkpoints, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checkpoint"].choices = [(c.pk, c.name) for c in checkpoints]


def _volunteers(user):
    return (
        scope_queryset(user, User.objects.filter(is_active=True))
        .filter(role__in=["volunteer", "guard", "grid_leader", "staff", "admin"])
        .order_by("role", "username")
    )


def _decorate(rows):
    for p in rows:
        p.place = desk.household_label(p.household)
        p.next = svc.next_step(p)
        p.next_label = svc.STEP_ACTIONS.get(p.next, "")
    return rows


@never_cache
@capability_required("checkpoints.guard")
def parcel_list(request):
    """The shelf (waiting, oldest first) and the parcels with building volunteers."""
    user = request.user
    qs = svc.parcels_for(user)
    checkpoint = building = None
    if request.GET.get("checkpoint"):
        checkpoint = desk.checkpoint_get_for(user, request.GET["checkpoint"])
    if request.GET.get("building"):
        building = desk.building_get_at_gate(user, request.GET["building"])
    if building is not None:
        shelf = _decorate(list(svc.for_building(qs, building.pk)))
        handed = []
    else:
        shelf = _decorate(list(svc.waiting(qs, checkpoint=checkpoint)))
        out = qs.filter(status=ParcelStatus.HANDED)
        if checkpoint is not None:
            out = out.filter(checkpoint=checkpoint)
        handed = _decorate(list(svc.with_place(out).order_by("handed_at", "pk")))
    return render(
        request,
        "checkpoints/parcels.html",
        {
            "shelf": shelf,
            "handed": handed,
            "checkpoint": checkpoint,
            "building": building,
            "checkpoints": desk.checkpoints_for(user),
            "buildings": desk.buildings_at_gate(user),
            "volunteers": _volunteers(user),
            "counts": svc.counts(qs),
            "hold_minutes": svc.hold_minutes(),
        },
    )


@never_cache
@capability_required("checkpoints.guard")
def parcels_mine(request):
    """A building volunteer's list: the parcels handed to me, to take to the doors."""
    rows = _decorate(list(svc.handed_to(svc.parcels_for(request.user), request.user)))
    return render(request, "checkpoints/parcels_mine.html", {"rows": rows})


@never_cache
@capability_required("checkpoints.guard")
def parcel_new(request):
    user = request.user
    checkpoints = list(desk.checkpoints_for(user))
    candidates: list = []
    if request.method == "POST":
        form = ParcelForm(request.POST, checkpoints=checkpoints)
        if form.is_valid():
            household = None
            picked = request.POST.get("household_id")
            if picked:
                household = desk.households_at_gate(user).filter(pk=picked).first()
            else:
                found = desk.household_find(user, form.cleaned_data["household"])
                if len(found) == 1:
                    household = found[0]
                elif found:
                    form.add_error("household", _("Several households match: pick one."))
                    candidates = [(h, desk.household_label(h)) for h in found]
                else:
                    form.add_error(
                        "household",
                        _("No household found for “%(q)s”. Type building and door, e.g. 1号楼 101.")
                        % {"q": form.cleaned_data["household"]},
                    )
            if household is not None and not form.errors:
                try:
                    p = svc.parcel_log(
                        actor=user,
                        checkpoint=desk.checkpoint_get_for(user, form.cleaned_data["checkpoint"]),
                        household=household,
                        courier=form.cleaned_data["courier"],
                        description=form.cleaned_data["description"],
                        shelf=form.cleaned_data["shelf"],
                    )
                except DomainError as e:
                    form.add_domain_errors(e)
                else:
                    messages.success(
                        request,
                        _("Parcel logged for %(place)s; the household gets a text message.")
                        % {"place": desk.household_label(p.household)},
                    )
                    return redirect(
                        reverse("checkpoints:parcel_new") + f"?checkpoint={p.checkpoint_id}"
                    )
    else:
        at = desk.duty_checkpoint(user)
        initial = {}
        if request.GET.get("checkpoint"):
            initial["checkpoint"] = request.GET["checkpoint"]
        elif at is not None:
            initial["checkpoint"] = at.pk
        form = ParcelForm(initial=initial, checkpoints=checkpoints)
    return render(
        request,
        "checkpoints/parcel_form.html",
        {"form": form, "candidates": candidates, "no_checkpoint": not checkpoints},
    )


@require_POST
@capability_required("checkpoints.guard")
def parcel_step(request, pk: int):
    user = request.user
    p = svc.parcel_get_for(user, pk)
    step = request.POST.get("step", "")
    volunteer = None
    if request.POST.get("volunteer"):
        volunteer = _volunteers(user).filter(pk=request.POST["volunteer"]).first()
        if volunteer is None:
            raise Http404
    try:
        p = svc.parcel_step(actor=user, parcel=p, step=step, volunteer=volunteer)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request,
            _("%(place)s: %(status)s.")
            % {"place": desk.household_label(p.household), "status": p.get_status_display()},
        )
    nxt = request.POST.get("next", "")
    return redirect(nxt if nxt.startswith("/checkpoints/") else reverse("checkpoints:parcels"))


@require_POST
def parcel_received(request, hh: int, pk: int):
    """From the household page: "I have received it"."""
    is_own, consent = _viewer(request, hh)
    if consent is not None and consent.resident_id:
        raise Http404
    p = get_object_or_404(Parcel, pk=pk, household_id=hh)
    try:
        svc.parcel_received(
            parcel=p,
            actor=request.user if request.user.is_authenticated else None,
            consent=consent,
        )
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Thank you: the parcel is marked as received."))
    return redirect(reverse("residents:my_household", args=[hh]) + "#parcels")


urlpatterns = [
    path("checkpoints/parcels/", parcel_list, name="parcels"),
    path("checkpoints/parcels/mine/", parcels_mine, name="parcels_mine"),
    path("checkpoints/parcels/new/", parcel_new, name="parcel_new"),
    path("checkpoints/parcels/<int:pk>/step/", parcel_step, name="parcel_step"),
    path(
        "checkpoints/households/<int:hh>/parcels/<int:pk>/received/",
        parcel_received,
        name="parcel_received",
    ),
]
