"""The duty roster: a week grid per checkpoint with gaps and broken rules highlighted, the
generate form, hand edits (add, move, remove a duty) and the print version (A4 landscape).
Everyone on duty may read the roster; those with checkpoints.roster change it. The rules are in
roster.py."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.permissions import can
from shouwang.accounts.scope import scope_queryset
from shouwang.checkpoints import roster
from shouwang.checkpoints.models import Checkpoint, DutyKind
from shouwang.core.errors import DomainError
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class GenerateForm(DomainErrors, forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), widget=DATE)
    days = forms.IntegerField(
        label=gettext_lazy("Days"), min_value=1, max_value=roster.MAX_DAYS, initial=7
    )
    checkpoints = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Checkpoints"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every checkpoint in use."),
    )
    replace = forms.BooleanField(
        label=gettext_lazy("Start over: remove generated duties nobody has checked in to"),
        required=False,
        help_text=gettext_lazy("Duties put in by hand always stay."),
    )

    def __init__(self, *args, checkpoints, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checkpoints"].queryset = checkpoints


class DutyForm(DomainErrors, forms.Form):
    user = forms.ModelChoiceField(label=gettext_lazy("Person"), queryset=None)
    kind = forms.ChoiceField(label=gettext_lazy("As"), choices=DutyKind.choices)
    starts_at = forms.DateTimeField(label=gettext_lazy("From"), widget=DATETIME, required=False)
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Until"),
        widget=DATETIME,
        required=False,
        help_text=gettext_lazy("Empty: the whole shift."),
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people
        self.fields["user"].label_from_instance = lambda u: (
            f"{u.display_name or u.username} · {u.get_role_display()}"
        )


def _start(request) -> dt.date:
    raw = request.GET.get("start")
    try:
        return dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def _ids(request) -> list[int]:
    return [int(x) for x in request.GET.getlist("cp") if x.isdigit()]


def _week_context(request, days=7) -> dict:
    user = request.user
    start = _start(request)
    chosen = _ids(request)
    every = roster.roster_checkpoints(user)
    shown = [cp for cp in every if cp.pk in chosen] if chosen else every
    data = roster.week(community=user.community, checkpoints=shown, start=start, days=days)
    query = urlencode([("cp", i) for i in chosen])
    return {
        **data,
        "start": start,
        "end": start + dt.timedelta(days - 1),
        "prev": start - dt.timedelta(7),
        "next": start + dt.timedelta(7),
        "every": every,
        "chosen": chosen,
        "query": query,
        "now": timezone.now(),
    }


@capability_required("checkpoints.duty")
def roster_week(request):
    user = request.user
    ctx = _week_context(request)
    ctx["can_edit"] = can(user, "checkpoints.roster")
    if ctx["can_edit"]:
        ctx["generate_form"] = GenerateForm(
            initial={"start": ctx["start"], "days": 7, "checkpoints": ctx["chosen"]},
            checkpoints=_active_qs(user),
        )
    return render(request, "checkpoints/roster.html", ctx)


def _active_qs(user):
    return scope_queryset(user, Checkpoint.objects.filter(is_active=True)).order_by("name")


@capability_required("checkpoints.duty")
def roster_print(request):
    return render(request, "checkpoints/roster_print.html", _week_context(request))


@require_POST
@capability_required("checkpoints.roster")
def roster_generate(request):
    user = request.user
    form = GenerateForm(request.POST, checkpoints=_active_qs(user))
    if not form.is_valid():
        for field, errors in form.errors.items():
            for e in errors:
                messages.error(
                    request, f"{form.fields[field].label if field in form.fields else ''} {e}"
                )
        return redirect("checkpoints:roster")
    d = form.cleaned_data
    chosen = list(d["checkpoints"]) or list(_active_qs(user))
    try:
        result = roster.generate(
            actor=user,
            community=user.community,
            checkpoints=chosen,
            start=d["start"],
            days=d["days"],
            replace=d["replace"],
        )
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(
            request,
            _("%(made)s duties made; %(gaps)s gaps left and %(broken)s rules broken (below).")
            % {
                "made": result.made,
                "gaps": len(result.gaps),
                "broken": len(result.problems) - len(result.gaps),
            },
        )
    query = [("start", d["start"].isoformat())] + [("cp", cp.pk) for cp in d["checkpoints"]]
    return redirect(reverse("checkpoints:roster") + "?" + urlencode(query))


def _back(shift) -> str:
    day = timezone.localtime(shift.starts_at).date()
    monday = day - dt.timedelta(day.weekday())
    return (
        reverse("checkpoints:roster")
        + "?"
        + urlencode([("start", monday.isoformat()), ("cp", shift.checkpoint_id)])
        + f"#s{shift.pk}"
    )


def _report(request, duty) -> None:
    """After a hand edit: the problems that touch the duty, shown at once."""
    found = [
        p
        for p in roster.problems(community=duty.shift.checkpoint.community, shifts=[duty.shift])
        if not p.is_gap and duty.pk in p.duty_ids
    ]
    for p in found:
        messages.warning(request, p.message)


@require_http_methods(["GET", "POST"])
@capability_required("checkpoints.roster")
def duty_add(request, pk: int):
    user = request.user
    shift = roster.shift_get_for(user, pk)
    kind = request.GET.get("kind") if request.GET.get("kind") in DutyKind.values else None
    initial = {
        "kind": kind or DutyKind.ROTATION,
        "starts_at": timezone.localtime(shift.starts_at),
        "ends_at": timezone.localtime(shift.ends_at),
    }
    if request.GET.get("from"):
        try:
            s = dt.datetime.fromisoformat(request.GET["from"])
            s = timezone.make_aware(s) if timezone.is_naive(s) else s
            slot = roster.slots_of(
                roster.policy_for(user.community_id), shift.starts_at, shift.ends_at
            )
            for a, b in slot:
                if a == s:
                    initial["starts_at"], initial["ends_at"] = (
                        timezone.localtime(a),
                        timezone.localtime(b),
                    )
        except ValueError:
            pass
    form = DutyForm(
        request.POST or None, initial=initial, people=roster.eligible_people(user.community_id)
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            duty = roster.duty_add(
                actor=user,
                shift=shift,
                user=d["user"],
                kind=d["kind"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("The duty is added."))
            _report(request, duty)
            return redirect(_back(shift))
    return render(
        request,
        "checkpoints/roster_duty.html",
        {"form": form, "shift": shift, "duty": None, "back": _back(shift)},
    )


@require_http_methods(["GET", "POST"])
@capability_required("checkpoints.roster")
def duty_edit(request, pk: int):
    user = request.user
    duty = roster.duty_get_for(user, pk)
    form = DutyForm(
        request.POST or None,
        initial={
            "user": duty.user,
            "kind": duty.kind,
            "starts_at": timezone.localtime(duty.starts_at),
            "ends_at": timezone.localtime(duty.ends_at),
        },
        people=roster.eligible_people(user.community_id),
    )
    shift = duty.shift
    target = shift
    if request.method == "POST":
        raw = request.POST.get("shift")
        if raw and raw != str(shift.pk):
            try:
                target = roster.shift_get_for(user, raw)
            except DomainError as e:
                form.is_valid()
                form.add_error(None, str(e.message))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        moved = target.pk != shift.pk
        try:
            duty = roster.duty_move(
                actor=user,
                duty=duty,
                shift=target,
                user=d["user"],
                kind=d["kind"],
                starts_at=None if moved else d["starts_at"],
                ends_at=None if moved else d["ends_at"],
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("The duty is changed."))
            _report(request, duty)
            return redirect(_back(duty.shift))
    # Moving to another shift of the same checkpoint, a week either side.
    others = (
        roster.shifts_for(user)
        .filter(
            checkpoint__is_active=True,
            starts_at__gte=shift.starts_at - dt.timedelta(days=7),
            starts_at__lte=shift.starts_at + dt.timedelta(days=7),
        )
        .order_by("starts_at", "checkpoint__name")
    )
    return render(
        request,
        "checkpoints/roster_duty.html",
        {"form": form, "shift": shift, "duty": duty, "others": others, "back": _back(shift)},
    )


@require_POST
@capability_required("checkpoints.roster")
def duty_remove(request, pk: int):
    duty = roster.duty_get_for(request.user, pk)
    shift = duty.shift
    try:
        roster.duty_remove(actor=request.user, duty=duty)
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("The duty is removed."))
    return redirect(_back(shift))


urlpatterns = [
    path("checkpoints/roster/", roster_week, name="roster"),
    path("checkpoints/roster/print/", roster_print, name="roster_print"),
    path("checkpoints/roster/generate/", roster_generate, name="roster_generate"),
    path("checkpoints/roster/shifts/<int:pk>/add/", duty_add, name="duty_add"),
    path("checkpoints/roster/duties/<int:pk>/edit/", duty_edit, name="duty_edit"),
    path("checkpoints/roster/duties/<int:pk>/remove/", duty_remove, name="duty_remove"),
]
