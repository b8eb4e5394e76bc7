"""Runs: the list, making one (hospital runs on the policy's fixed days, the next ones offered),
a run's page (its needs, adding the needs that wait, moving the whole run on), the printable
list for the driver, and the policy (the hospital days)."""

from __future__ import annotations

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
from shouwang.core.masking import mask_name
from shouwang.core.views import capability_required, press
from shouwang.medicine import selectors, services
from shouwang.medicine.models import Need, Source, Stage
from shouwang.medicine.views.needs import DATE

WEEKDAYS = [
    (1, gettext_lazy("Monday")),
    (2, gettext_lazy("Tuesday")),
    (3, gettext_lazy("Wednesday")),
    (4, gettext_lazy("Thursday")),
    (5, gettext_lazy("Friday")),
    (6, gettext_lazy("Saturday")),
    (7, gettext_lazy("Sunday")),
]


class RunForm(DomainErrors, forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("Where"), choices=Source.choices)
    place = forms.CharField(label=gettext_lazy("Clinic, pharmacy or hospital"), max_length=100)
    date = forms.DateField(label=gettext_lazy("Day"), widget=DATE)
    extra = forms.BooleanField(
        label=gettext_lazy("An extra trip (not on a fixed hospital day)"), required=False
    )
    driver = forms.ModelChoiceField(
        label=gettext_lazy("Driver"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("Not chosen yet"),
    )
    driver_name = forms.CharField(
        label=gettext_lazy("Driver (name, if not a user)"), max_length=50, required=False
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args, community_id, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["driver"].queryset = selectors.drivers_for(community_id)
        self.fields["driver"].label_from_instance = lambda u: f"{u.label} · {u.get_role_display()}"
        if editing:
            del self.fields["source"]


class PolicyForm(DomainErrors, forms.Form):
    hospital_days = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Days of the hospital run"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )


def _row(user, run, n: Need) -> dict:
    return {"need": n, **selectors.shown(n, selectors.shows_drug(user, n, run=run))}


@capability_required("medicine.deliver")
def runs(request):
    user = request.user
    return render(
        request,
        "medicine/runs.html",
        {
            "runs": selectors.runs_listed(user),
            "mine_only": selectors.is_driver_only(user),
            "can_manage": can(user, "medicine.manage"),
        },
    )


@capability_required("medicine.manage")
def run_new(request):
    user = request.user
    days = selectors.next_hospital_days(user.community_id)
    if request.method == "POST":
        form = RunForm(request.POST, community_id=user.community_id)
        if form.is_valid():
            try:
                run = services.run_create(
                    actor=user, community_id=user.community_id, **form.cleaned_data
                )
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("The run is planned: now put needs into it."))
                return redirect("medicine:run", pk=run.pk)
    else:
        source = request.GET.get("source") or Source.HOSPITAL
        initial = {"source": source, "date": days[0] if days else None}
        if request.GET.get("date"):
            initial["date"] = request.GET["date"]
        form = RunForm(initial=initial, community_id=user.community_id)
    return render(request, "medicine/run_form.html", {"form": form, "days": days})


@capability_required("medicine.manage")
def run_edit(request, pk: int):
    user = request.user
    run = selectors.run_for(user, pk)
    if request.method == "POST":
        form = RunForm(request.POST, community_id=user.community_id, editing=True)
        if form.is_valid():
            try:
                services.run_change(actor=user, run=run, **form.cleaned_data)
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("Saved."))
                return redirect("medicine:run", pk=run.pk)
    else:
        form = RunForm(
            initial={
                "place": run.place,
                "date": run.date,
                "driver": run.driver_id,
                "driver_name": run.driver_name,
                "note": run.note,
            },
            community_id=user.community_id,
            editing=True,
        )
    return render(
        request,
        "medicine/run_form.html",
        {"form": form, "run": run, "days": selectors.next_hospital_days(user.community_id)},
    )


# The buttons that move a whole run, in the flow's order.
RUN_STEPS = (Stage.BOUGHT, Stage.PICKED_UP, Stage.DELIVERED)


@capability_required("medicine.deliver")
def run(request, pk: int):
    user = request.user
    r = selectors.run_for(user, pk)
    needs = selectors.run_needs(user, r)
    rows = []
    for n in needs:
        row = _row(user, r, n)
        nxt = services.next_stage(n.stage)
        row["next"] = nxt if nxt and nxt != Stage.SETTLED else None
        row["next_label"] = Stage(nxt).label if nxt else ""
        row["may_next"] = bool(row["next"]) and services.may_move(user, n, nxt)
        row["may_settle"] = n.stage in (Stage.DELIVERED, Stage.SETTLED) and can(
            user, "medicine.manage"
        )
        rows.append(row)
    buttons = []
    for to in RUN_STEPS:
        before = selectors.FLOW[selectors.FLOW.index(to) - 1]
        waiting = [n for n in needs if n.stage == before and services.may_move(user, n, to)]
        if waiting:
            buttons.append({"to": to, "label": Stage(to).label, "n": len(waiting)})
    manage = can(user, "medicine.manage")
    return render(
        request,
        "medicine/run.html",
        {
            "run": r,
            "rows": rows,
            "buttons": buttons,
            "can_manage": manage,
            "waiting": [
                _row(user, r, n)
                for n in selectors.registered_needs(
                    user, community_id=r.community_id, source=r.source
                )
            ]
            if manage and r.status in ("planned", "out")
            else [],
        },
    )


@require_POST
@capability_required("medicine.manage")
def run_add(request, pk: int):
    user = request.user
    r = selectors.run_for(user, pk)
    ids = request.POST.getlist("need")
    needs = list(selectors.needs_for(user).filter(pk__in=[i for i in ids if i.isdigit()]))
    if len(needs) != len(set(ids)):
        messages.error(request, _("Some of the ticked needs were not found."))
    else:
        try:
            n = services.run_add(actor=user, run=r, needs=needs)
        except DomainError as e:
            messages.error(request, str(e.message))
        else:
            messages.success(request, _("%d needs put into the run.") % n)
    return redirect("medicine:run", pk=r.pk)


@require_POST
@capability_required("medicine.deliver")
def run_advance(request, pk: int):
    user = request.user
    r = selectors.run_for(user, pk)
    to = request.POST.get("to", "")
    press(
        request,
        services.run_advance,
        _("The run moved on to “%s”.") % (Stage(to).label if to in Stage.values else to),
        actor=user,
        run=r,
        to=to,
    )
    return redirect("medicine:run", pk=r.pk)


@capability_required("medicine.deliver")
def run_print(request, pk: int):
    """The driver's A4 list: door, masked name and phone, the medicine, tick boxes. The drug of
    a sensitive need is printed in full only for the office and the run's driver."""
    user = request.user
    r = selectors.run_for(user, pk)
    rows = []
    for n in selectors.run_needs(user, r):
        if n.stage == Stage.CANCELLED:
            continue
        row = _row(user, r, n)
        h = n.household
        row["door"] = " ".join(
            x
            for x in (
                h.building.compound.name,
                h.building.name,
                h.dwelling.unit.name if h.dwelling.unit_id else "",
                h.dwelling.door,
            )
            if x
        )
        row["name"] = mask_name(n.resident.name)
        row["phone"] = n.resident.phone_masked
        rows.append(row)
    return render(request, "medicine/run_print.html", {"run": r, "rows": rows})


@capability_required("medicine.manage")
def policy(request):
    user = request.user
    current = selectors.policy_for(user.community_id)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                services.policy_set(
                    actor=user,
                    community_id=user.community_id,
                    hospital_days=form.cleaned_data["hospital_days"],
                )
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("Saved."))
                return redirect(reverse("medicine:policy"))
    else:
        form = PolicyForm(initial={"hospital_days": current.days()})
    return render(
        request,
        "medicine/policy.html",
        {"form": form, "days": selectors.next_hospital_days(user.community_id)},
    )


urlpatterns = [
    path("medicine/runs/", runs, name="runs"),
    path("medicine/runs/new/", run_new, name="run_new"),
    path("medicine/runs/<int:pk>/", run, name="run"),
    path("medicine/runs/<int:pk>/edit/", run_edit, name="run_edit"),
    path("medicine/runs/<int:pk>/add/", run_add, name="run_add"),
    path("medicine/runs/<int:pk>/advance/", run_advance, name="run_advance"),
    path("medicine/runs/<int:pk>/print/", run_print, name="run_print"),
    path("medicine/policy/", policy, name="policy"),
]
