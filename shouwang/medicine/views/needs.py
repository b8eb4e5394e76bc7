"""Needs: the board by stage (the flow drawn as steps), registering a need for a resident found
by name or phone tail, a need's page with its place in the flow and its history, and the steps
taken from it (forward one stage, cancel, out of its run, settle).

Volunteers (medicine.deliver without medicine.register) get their own runs on the index."""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from shouwang.accounts.permissions import can
from shouwang.core.errors import DomainError
from shouwang.core.forms import DomainErrors
from shouwang.core.views import back_to, capability_required, press
from shouwang.grids.models import Grid
from shouwang.helpline.selectors import request_for
from shouwang.medicine import selectors, services
from shouwang.medicine.models import Kind, Payer, Source, Stage
from shouwang.registry import selectors as registry

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NeedForm(DomainErrors, forms.Form):
    drug = forms.CharField(label=gettext_lazy("Medicine"), max_length=100)
    dose = forms.CharField(
        label=gettext_lazy("Dose"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("e.g. one tablet twice a day"),
    )
    quantity = forms.CharField(label=gettext_lazy("Quantity"), max_length=50)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Kind.choices)
    prescription_needed = forms.BooleanField(
        label=gettext_lazy("A prescription is needed"), required=False
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Where to get it"),
        choices=Source.choices,
        help_text=gettext_lazy("The community clinic first, a nearby pharmacy second."),
    )
    place = forms.CharField(
        label=gettext_lazy("Hospital or pharmacy"), max_length=100, required=False
    )
    needed_by = forms.DateField(label=gettext_lazy("Needed by"), required=False, widget=DATE)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class SettleForm(DomainErrors, forms.Form):
    amount = forms.CharField(label=gettext_lazy("Amount (yuan)"), max_length=12)
    paid_by = forms.ChoiceField(label=gettext_lazy("Paid by"), choices=Payer.choices)
    reimbursed = forms.BooleanField(label=gettext_lazy("Reimbursed"), required=False)
    text = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class BoardFilter(forms.Form):
    stage = forms.ChoiceField(
        label=gettext_lazy("Stage"),
        choices=[("", gettext_lazy("Every open stage")), *Stage.choices],
        required=False,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[("", gettext_lazy("All kinds")), *Kind.choices],
        required=False,
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Where"),
        choices=[("", gettext_lazy("Anywhere")), *Source.choices],
        required=False,
    )
    grid = forms.ModelChoiceField(
        label=gettext_lazy("Grid"),
        queryset=Grid.objects.none(),
        required=False,
        empty_label=gettext_lazy("All grids"),
    )
    q = forms.CharField(label=gettext_lazy("Name or phone tail"), required=False, max_length=50)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        qs = Grid.objects.filter(community_id=user.community_id).order_by("name")
        if user.grid_id and not can(user, "medicine.manage"):
            qs = qs.filter(pk=user.grid_id)
        self.fields["grid"].queryset = qs


def _need_initial(need) -> dict:
    return {
        k: getattr(need, k)
        for k in (
            "drug",
            "dose",
            "quantity",
            "kind",
            "prescription_needed",
            "source",
            "place",
            "needed_by",
            "note",
        )
    }


@capability_required("medicine.deliver")
def index(request):
    user = request.user
    if selectors.is_driver_only(user):
        return render(
            request,
            "medicine/runs.html",
            {"runs": selectors.runs_listed(user), "mine_only": True, "can_manage": False},
        )
    if not can(user, "medicine.register"):
        return render(request, "core/forbidden.html", status=403)
    form = BoardFilter(request.GET or None, user=user)
    filters = form.cleaned_data if form.is_valid() else {}
    grid = filters.get("grid")
    board = selectors.board(
        user,
        stage=filters.get("stage", ""),
        kind=filters.get("kind", ""),
        source=filters.get("source", ""),
        grid_id=grid.pk if grid else None,
        q=(filters.get("q") or "").strip(),
    )
    return render(
        request,
        "medicine/index.html",
        {
            "form": form,
            "board": board,
            "flow": [(s, Stage(s).label, board["counts"].get(s, 0)) for s in selectors.FLOW],
            "can_manage": can(user, "medicine.manage"),
        },
    )


@capability_required("medicine.register")
def need_new(request):
    user = request.user
    resident = None
    # From a help-line request ("buy medicine"): the need keeps a link to it.
    req_id = request.POST.get("request") or request.GET.get("request")
    help_request = request_for(user, req_id) if req_id else None
    pick = request.POST.get("resident") or request.GET.get("resident")
    if pick:
        resident = registry.resident_get_for(user, pick)
    if resident is None:
        q = (request.GET.get("q") or "").strip()
        household = request.GET.get("household") or (
            help_request.household_id if help_request else None
        )
        if household:
            h = registry.household_get_for(user, household)
            found = list(
                registry.residents_for(user).living_here().with_place().filter(household=h)
            )
        elif q:
            found = [r for r in registry.resident_search(user, q=q, limit=30)]
        else:
            found = []
        return render(
            request,
            "medicine/need_pick.html",
            {"q": q, "found": found, "searched": bool(q), "help_request": help_request},
        )
    if request.method == "POST":
        form = NeedForm(request.POST)
        if form.is_valid():
            try:
                need = services.need_register(
                    actor=user,
                    resident=resident,
                    request=help_request,
                    client_key=request.POST.get("client_key", ""),
                    **form.cleaned_data,
                )
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("The need is registered."))
                return redirect("medicine:need", pk=need.pk)
    else:
        form = NeedForm(initial={"source": Source.CLINIC, "kind": Kind.CHRONIC})
    return render(
        request,
        "medicine/need_form.html",
        {
            "form": form,
            "resident": resident,
            "help_request": help_request,
            "client_key": request.POST.get("client_key") or secrets.token_urlsafe(16),
        },
    )


@capability_required("medicine.register")
def need(request, pk: int):
    user = request.user
    n = selectors.need_for(user, pk)
    full = selectors.shows_drug(user, n)
    nxt = services.next_stage(n.stage)
    return render(
        request,
        "medicine/need.html",
        {
            "n": n,
            "shown": selectors.shown(n, full),
            "steps": selectors.flow_steps(n),
            "events": list(n.events.select_related("by")),
            "next": nxt,
            "next_label": Stage(nxt).label if nxt else "",
            "may_next": bool(nxt) and nxt != Stage.SETTLED and services.may_move(user, n, nxt),
            "may_settle": n.stage in (Stage.DELIVERED, Stage.SETTLED)
            and can(user, "medicine.manage"),
            "may_edit": n.stage in services.EDITABLE,
            "may_cancel": n.stage not in (Stage.DELIVERED, Stage.SETTLED, Stage.CANCELLED)
            and (n.stage in services.EDITABLE or can(user, "medicine.manage")),
            "may_remove": n.stage == Stage.IN_RUN and can(user, "medicine.manage"),
        },
    )


@capability_required("medicine.register")
def need_edit(request, pk: int):
    n = selectors.need_for(request.user, pk)
    selectors.require_may_change(request.user, n)
    if request.method == "POST":
        form = NeedForm(request.POST)
        if form.is_valid():
            try:
                services.need_change(actor=request.user, need=n, **form.cleaned_data)
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("Saved."))
                return redirect("medicine:need", pk=n.pk)
    else:
        form = NeedForm(initial=_need_initial(n))
    return render(
        request,
        "medicine/need_form.html",
        {"form": form, "resident": n.resident, "n": n},
    )


@require_POST
@capability_required("medicine.deliver")
def need_advance(request, pk: int):
    n = selectors.need_for(request.user, pk)
    to = request.POST.get("to", "")
    press(
        request,
        services.need_advance,
        _("Moved on to “%s”.") % (Stage(to).label if to in Stage.values else to),
        actor=request.user,
        need=n,
        to=to,
        text=request.POST.get("text", ""),
    )
    default = reverse("medicine:need", args=[n.pk])
    if selectors.is_driver_only(request.user) and n.run_id:
        default = reverse("medicine:run", args=[n.run_id])
    return redirect(back_to(request, default))


@require_POST
@capability_required("medicine.register")
def need_cancel(request, pk: int):
    n = selectors.need_for(request.user, pk)
    press(
        request,
        services.need_cancel,
        _("The need is cancelled."),
        actor=request.user,
        need=n,
        reason=request.POST.get("reason", ""),
    )
    return redirect(back_to(request, reverse("medicine:need", args=[n.pk])))


@require_POST
@capability_required("medicine.manage")
def need_remove(request, pk: int):
    n = selectors.need_for(request.user, pk)
    run_id = n.run_id
    press(
        request,
        services.run_remove,
        _("Taken out of the run: it waits for a run again."),
        actor=request.user,
        need=n,
        reason=request.POST.get("reason", ""),
    )
    default = reverse("medicine:run", args=[run_id]) if run_id else reverse("medicine:index")
    return redirect(back_to(request, default))


@capability_required("medicine.manage")
def need_settle(request, pk: int):
    n = selectors.need_for(request.user, pk)
    if request.method == "POST":
        form = SettleForm(request.POST)
        if form.is_valid():
            try:
                services.need_settle(actor=request.user, need=n, **form.cleaned_data)
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("Settled."))
                return redirect(back_to(request, reverse("medicine:need", args=[n.pk])))
    else:
        form = SettleForm(
            initial={
                "amount": n.amount if n.amount is not None else "",
                "paid_by": n.paid_by or Payer.RESIDENT,
                "reimbursed": n.reimbursed,
            }
        )
    return render(
        request,
        "medicine/settle.html",
        {"form": form, "n": n, "shown": selectors.shown(n, True), "next": request.GET.get("next")},
    )


urlpatterns = [
    path("medicine/", index, name="index"),
    path("medicine/needs/new/", need_new, name="need_new"),
    path("medicine/needs/<int:pk>/", need, name="need"),
    path("medicine/needs/<int:pk>/edit/", need_edit, name="need_edit"),
    path("medicine/needs/<int:pk>/advance/", need_advance, name="need_advance"),
    path("medicine/needs/<int:pk>/cancel/", need_cancel, name="need_cancel"),
    path("medicine/needs/<int:pk>/remove/", need_remove, name="need_remove"),
    path("medicine/needs/<int:pk>/settle/", need_settle, name="need_settle"),
]
