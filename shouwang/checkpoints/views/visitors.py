"""Checkpoint pages: visitors and couriers (register, the day's list, "left"). The rules are in
checkpoints/visitors.py. (URL patterns in `urlpatterns`.)"""

from __future__ import annotations

import datetime as dt
import uuid

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouwang.checkpoints import visitors as svc
from shouwang.checkpoints.decision import reason_label
from shouwang.checkpoints.models import Visitor
from shouwang.core.errors import DomainError
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required


class VisitorForm(DomainErrors, forms.Form):
    """Collects; the service checks (every field optional here, so its messages show)."""

    checkpoint = forms.TypedChoiceField(label=gettext_lazy("Checkpoint"), coerce=int)
    kind = forms.ChoiceField(
        label=pgettext_lazy("visitor", "Who"),
        choices=Visitor.Kind.choices,
        widget=forms.RadioSelect,
        initial=Visitor.Kind.VISITOR,
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50, required=False)
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    company = forms.CharField(
        label=gettext_lazy("Company (couriers)"), max_length=100, required=False
    )
    purpose = forms.CharField(label=gettext_lazy("Purpose"), max_length=200, required=False)
    host = forms.CharField(
        label=gettext_lazy("Visiting (door, e.g. 1号楼 101, or the head's name)"),
        max_length=60,
        required=False,
    )
    temperature = forms.CharField(
        label=gettext_lazy("Temperature (°C)"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    proof = forms.ChoiceField(
        label=gettext_lazy("Test proof seen"),
        choices=Visitor.Proof.choices,
        initial=Visitor.Proof.NONE,
        widget=forms.RadioSelect,
    )
    proof_note = forms.CharField(label=gettext_lazy("Proof note"), max_length=100, required=False)
    uid = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, checkpoints, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checkpoint"].choices = [(c.pk, c.name) for c in checkpoints]


def _day(request) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate()


@never_cache
@capability_required("checkpoints.guard")
def visitor_list(request):
    user = request.user
    day = _day(request)
    checkpoint = None
    if request.GET.get("checkpoint"):
        checkpoint = svc.checkpoint_get_for(user, request.GET["checkpoint"])
    rows = list(svc.visitors_on(user, day, checkpoint=checkpoint))
    for v in rows:
        v.reason_labels = [reason_label(c) for c in v.reasons.split(",") if c]
        v.host_label = svc.household_label(v.host) if v.host_id else ""
    return render(
        request,
        "checkpoints/visitors.html",
        {
            "day": day,
            "today": timezone.localdate(),
            "checkpoint": checkpoint,
            "checkpoints": svc.checkpoints_for(user),
            "inside": [v for v in rows if v.left_at is None],
            "left": [v for v in rows if v.left_at is not None],
        },
    )


def _host(request, form) -> tuple[object, list]:
    """(the household chosen, the candidates to pick from). A picked id wins over the text."""
    user = request.user
    picked = request.POST.get("host_id")
    if picked:
        h = svc.households_at_gate(user).filter(pk=picked).first()
        if h is None:
            form.add_error("host", _("Pick the household again."))
        return h, []
    text = form.cleaned_data.get("host", "")
    if not text:
        return None, []
    found = svc.household_find(user, text)
    if len(found) == 1:
        return found[0], []
    if not found:
        form.add_error(
            "host",
            _("No household found for “%(q)s”. Type building and door, e.g. 1号楼 101.")
            % {"q": text},
        )
        return None, []
    form.add_error("host", _("Several households match: pick one."))
    return None, [(h, svc.household_label(h)) for h in found]


@never_cache
@capability_required("checkpoints.guard")
def visitor_new(request):
    user = request.user
    checkpoints = list(svc.checkpoints_for(user))
    candidates: list = []
    if request.method == "POST":
        form = VisitorForm(request.POST, checkpoints=checkpoints)
        if form.is_valid():
            host, candidates = _host(request, form)
            if not form.errors:
                try:
                    checkpoint = svc.checkpoint_get_for(user, form.cleaned_data["checkpoint"])
                    v = svc.visitor_register(
                        actor=user,
                        checkpoint=checkpoint,
                        kind=form.cleaned_data["kind"],
                        name=form.cleaned_data["name"],
                        phone=form.cleaned_data["phone"],
                        company=form.cleaned_data["company"],
                        purpose=form.cleaned_data["purpose"],
                        host=host,
                        temperature=form.cleaned_data["temperature"],
                        proof=form.cleaned_data["proof"],
                        proof_note=form.cleaned_data["proof_note"],
                        uid=form.cleaned_data["uid"] or None,
                    )
                except DomainError as e:
                    form.add_domain_errors(e)
                else:
                    messages.success(
                        request,
                        _("%(name)s registered: %(decision)s.")
                        % {"name": v.name, "decision": v.get_decision_display()},
                    )
                    return redirect(reverse("checkpoints:visitor", args=[v.pk]))
    else:
        at = svc.duty_checkpoint(user)
        initial = {"uid": str(uuid.uuid4()), "kind": request.GET.get("kind") or "visitor"}
        if request.GET.get("checkpoint"):
            initial["checkpoint"] = request.GET["checkpoint"]
        elif at is not None:
            initial["checkpoint"] = at.pk
        form = VisitorForm(initial=initial, checkpoints=checkpoints)
    return render(
        request,
        "checkpoints/visitor_form.html",
        {"form": form, "candidates": candidates, "no_checkpoint": not checkpoints},
    )


@never_cache
@capability_required("checkpoints.guard")
def visitor_detail(request, pk: int):
    v = svc.visitor_get_for(request.user, pk)
    return render(
        request,
        "checkpoints/visitor.html",
        {
            "v": v,
            "reasons": [reason_label(c) for c in v.reasons.split(",") if c],
            "host_label": svc.household_label(v.host) if v.host_id else "",
        },
    )


@require_POST
@capability_required("checkpoints.guard")
def visitor_left(request, pk: int):
    v = svc.visitor_get_for(request.user, pk)
    v = svc.visitor_left(actor=request.user, visitor=v)
    messages.success(
        request,
        _("%(name)s left at %(t)s.")
        % {"name": v.name, "t": timezone.localtime(v.left_at).strftime("%H:%M")},
    )
    nxt = request.POST.get("next", "")
    return redirect(nxt if nxt.startswith("/checkpoints/") else reverse("checkpoints:visitors"))


urlpatterns = [
    path("checkpoints/visitors/", visitor_list, name="visitors"),
    path("checkpoints/visitors/new/", visitor_new, name="visitor_new"),
    path("checkpoints/visitors/<int:pk>/", visitor_detail, name="visitor"),
    path("checkpoints/visitors/<int:pk>/left/", visitor_left, name="visitor_left"),
]
