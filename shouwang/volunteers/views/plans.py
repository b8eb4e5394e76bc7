"""Shift plans: the list, making a plan, the grid (days × shifts, each cell with its people,
free places and the rest rules broken — in red, as they are) and the A4 landscape print. Putting
someone on from a cell goes through the task's assign page, which shows the breaks before
anything is saved. The rules are in plans.py and rules.py."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.permissions import can
from shouwang.core.errors import DomainError, Forbidden
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required
from shouwang.volunteers import plans, selectors
from shouwang.volunteers.models import Team

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
SHIFT_ROWS = plans.MAX_SHIFTS
# The parcel teams' three shifts (Huamei): what the form offers first.
THREE_SHIFTS = (("07:00", "15:00"), ("15:00", "23:00"), ("23:00", "07:00"))


class PlanForm(DomainErrors, forms.Form):
    team = forms.ModelChoiceField(label=gettext_lazy("Team"), queryset=None)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=100)
    place = forms.CharField(label=gettext_lazy("Where"), max_length=100, required=False)
    first_day = forms.DateField(label=gettext_lazy("First day"), widget=DATE)
    last_day = forms.DateField(label=gettext_lazy("Last day"), widget=DATE)
    places = forms.IntegerField(
        label=gettext_lazy("People per shift"), min_value=1, max_value=plans.MAX_PLACES
    )
    grabbable = forms.BooleanField(
        label=gettext_lazy("The team's members may grab the shifts themselves"), required=False
    )

    def __init__(self, *args, community_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = selectors.teams_for(community_id)
        for i in range(SHIFT_ROWS):
            self.fields[f"from_{i}"] = forms.TimeField(
                label=gettext_lazy("From"), widget=TIME, required=False
            )
            self.fields[f"until_{i}"] = forms.TimeField(
                label=gettext_lazy("Until"), widget=TIME, required=False
            )

    def shift_rows(self):
        return [(self[f"from_{i}"], self[f"until_{i}"]) for i in range(SHIFT_ROWS)]

    def shifts(self) -> list[tuple[str, str]]:
        out = []
        for i in range(SHIFT_ROWS):
            a, b = self.cleaned_data.get(f"from_{i}"), self.cleaned_data.get(f"until_{i}")
            if a is None and b is None:
                continue
            if a is None or b is None:
                self.add_error(f"until_{i}", _("Give both times of the shift, or neither."))
                continue
            out.append((a.strftime("%H:%M"), b.strftime("%H:%M")))
        return out


@capability_required("volunteers.view")
def plan_list(request):
    user = request.user
    today = timezone.localdate()
    rows = list(plans.plans_for(user)[:200])
    return render(
        request,
        "volunteers/plans.html",
        {
            "current": [p for p in rows if p.last_day >= today],
            "past": [p for p in rows if p.last_day < today],
            "can_manage": can(user, "volunteers.manage"),
        },
    )


@require_http_methods(["GET", "POST"])
@capability_required("volunteers.manage")
def plan_new(request):
    user = request.user
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    initial = {
        "first_day": tomorrow,
        "last_day": tomorrow + dt.timedelta(days=6),
        "places": 2,
    }
    for i, (a, b) in enumerate(THREE_SHIFTS):
        initial[f"from_{i}"], initial[f"until_{i}"] = a, b
    form = PlanForm(request.POST or None, community_id=user.community_id, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        shifts = form.shifts()
        if not form.errors:
            try:
                plan = plans.make_plan(
                    actor=user,
                    team=d["team"],
                    title=d["title"],
                    place=d["place"],
                    first_day=d["first_day"],
                    last_day=d["last_day"],
                    shifts=shifts,
                    places=d["places"],
                    grabbable=d["grabbable"],
                )
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(
                    request,
                    _("The plan is made: %(n)s shifts. Put people on them below.")
                    % {"n": plan.tasks.count()},
                )
                return redirect("volunteers:plan", pk=plan.pk)
    return render(request, "volunteers/plan_form.html", {"form": form})


def _plan_seen(user, pk):
    """The plan when the user may see it: viewers, and the leader of the plan's team."""
    plan = plans.plan_for(user, pk)
    if not (
        can(user, "volunteers.view")
        or Team.objects.filter(pk=plan.team_id, leader__user=user).exists()
    ):
        raise Forbidden("not_leader", _("Only the committee or this team's leader can see this."))
    return plan


def _plan_context(request, plan) -> dict:
    from shouwang.volunteers.selectors import rest_rules

    grid = plans.plan_grid(plan)
    cap, rest = rest_rules(plan.community_id)
    return {
        "plan": plan,
        "grid": grid,
        "cap": cap,
        "rest": rest,
        "can_manage": can(request.user, "volunteers.manage"),
        "here": reverse("volunteers:plan", args=[plan.pk]),
        "today": timezone.localdate(),
    }


@capability_required("volunteers.serve")
def plan_detail(request, pk: int):
    plan = _plan_seen(request.user, pk)
    return render(request, "volunteers/plan.html", _plan_context(request, plan))


@capability_required("volunteers.serve")
def plan_print(request, pk: int):
    plan = _plan_seen(request.user, pk)
    return render(request, "volunteers/plan_print.html", _plan_context(request, plan))


@require_POST
@capability_required("volunteers.manage")
def plan_extend(request, pk: int):
    plan = plans.plan_for(request.user, pk)
    try:
        plan = plans.copy_forward(actor=request.user, plan=plan, days=request.POST.get("days"))
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(
            request,
            _("The plan now runs until %(day)s: the new shifts are empty.")
            % {"day": plan.last_day.isoformat()},
        )
    return redirect("volunteers:plan", pk=plan.pk)


@require_POST
@capability_required("volunteers.manage")
def plan_delete(request, pk: int):
    plan = plans.plan_for(request.user, pk)
    try:
        plans.delete_plan(
            actor=request.user, plan=plan, reason=(request.POST.get("reason") or "").strip()
        )
    except DomainError as e:
        messages.error(request, str(e.message))
        return redirect("volunteers:plan", pk=plan.pk)
    messages.success(request, _("The plan and its shifts are deleted."))
    return redirect("volunteers:plans")


urlpatterns = [
    path("volunteers/plans/", plan_list, name="plans"),
    path("volunteers/plans/new/", plan_new, name="plan_new"),
    path("volunteers/plans/<int:pk>/", plan_detail, name="plan"),
    path("volunteers/plans/<int:pk>/print/", plan_print, name="plan_print"),
    path("volunteers/plans/<int:pk>/extend/", plan_extend, name="plan_extend"),
    path("volunteers/plans/<int:pk>/delete/", plan_delete, name="plan_delete"),
]
