"""Gates and checkpoints: the overview (every compound's gates, which were merged into which
checkpoint, which are closed, which checkpoints are staffed now), the checkpoint and gate forms,
and the gate and roster policy. Views parse, scope and render; the rules are in places.py."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.permissions import can
from shouwang.accounts.scope import scope_queryset
from shouwang.checkpoints import places
from shouwang.checkpoints.models import Checkpoint, Policy
from shouwang.checkpoints.services import policy_for
from shouwang.core.errors import DomainError
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required
from shouwang.registry.models import Compound

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class CheckpointForm(DomainErrors, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    compound = forms.ModelChoiceField(label=gettext_lazy("Compound"), queryset=None, required=False)
    gates = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Gates merged into it"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args, compounds, gates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compound"].queryset = compounds
        self.fields["gates"].queryset = gates
        self.fields["gates"].label_from_instance = lambda g: (
            f"{g.compound.name} {g.name}"
            + (f" ({g.checkpoint.name})" if g.checkpoint_id else "")
            + ("" if g.is_open else " · " + _("closed"))
        )


class GateForm(DomainErrors, forms.Form):
    compound = forms.ModelChoiceField(label=gettext_lazy("Compound"), queryset=None)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    is_open = forms.BooleanField(label=gettext_lazy("Open"), required=False, initial=True)
    opens_at = forms.TimeField(label=gettext_lazy("Opens at"), required=False, widget=TIME)
    closes_at = forms.TimeField(
        label=gettext_lazy("Closes at"),
        required=False,
        widget=TIME,
        help_text=gettext_lazy(
            "Both empty: round the clock. Closing before opening: through midnight."
        ),
    )
    checkpoint = forms.ModelChoiceField(
        label=gettext_lazy("Merged into checkpoint"), queryset=None, required=False
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args, compounds, checkpoints, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compound"].queryset = compounds
        self.fields["checkpoint"].queryset = checkpoints


class PolicyForm(DomainErrors, forms.ModelForm):
    class Meta:
        model = Policy
        fields = list(places.POLICY_FIELDS)
        widgets = {"first_shift_at": TIME}


def _compounds(user):
    return scope_queryset(user, Compound.objects.all()).order_by("name")


@capability_required("checkpoints.manage")
def overview(request):
    user = request.user
    return render(
        request,
        "checkpoints/gates.html",
        {
            "o": places.overview(user.community, now=timezone.now()),
            "can_roster": can(user, "checkpoints.roster"),
        },
    )


@require_http_methods(["GET", "POST"])
@capability_required("checkpoints.manage")
def checkpoint_edit(request, pk: int | None = None):
    user = request.user
    cp = places.checkpoint_get_for(user, pk) if pk is not None else None
    initial = {}
    if cp is not None:
        initial = {
            "name": cp.name,
            "compound": cp.compound,
            "note": cp.note,
            "gates": list(cp.gates.all()),
        }
    form = CheckpointForm(
        request.POST or None,
        initial=initial,
        compounds=_compounds(user),
        gates=places.gates_for(user).order_by("compound__name", "name"),
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            cp = places.checkpoint_save(
                actor=user,
                community=user.community,
                checkpoint=cp,
                name=d["name"],
                compound=d["compound"],
                note=d["note"],
                gates=list(d["gates"]),
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": cp.name})
            return redirect("checkpoints:gates")
    return render(request, "checkpoints/checkpoint_form.html", {"form": form, "checkpoint": cp})


@require_POST
@capability_required("checkpoints.manage")
def checkpoint_retire(request, pk: int):
    cp = places.checkpoint_get_for(request.user, pk)
    retire = request.POST.get("restore") != "1"
    if places.checkpoint_retire(actor=request.user, checkpoint=cp, retire=retire):
        messages.success(
            request,
            (_("%(name)s is retired.") if retire else _("%(name)s is in use again."))
            % {"name": cp.name},
        )
    return redirect("checkpoints:gates")


@require_http_methods(["GET", "POST"])
@capability_required("checkpoints.manage")
def gate_edit(request, pk: int | None = None):
    user = request.user
    gate = places.gate_get_for(user, pk) if pk is not None else None
    if gate is not None:
        initial = {
            f: getattr(gate, f)
            for f in ("compound", "name", "is_open", "opens_at", "closes_at", "checkpoint", "note")
        }
    else:
        initial = {"is_open": True, "compound": request.GET.get("compound")}
    form = GateForm(
        request.POST or None,
        initial=initial,
        compounds=_compounds(user),
        checkpoints=scope_queryset(user, Checkpoint.objects.filter(is_active=True)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            gate = places.gate_save(
                actor=user, community=user.community, gate=gate, **form.cleaned_data
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": gate.name})
            return redirect("checkpoints:gates")
    return render(request, "checkpoints/gates_form.html", {"form": form, "gate": gate})


@require_POST
@capability_required("checkpoints.manage")
def gate_toggle(request, pk: int):
    gate = places.gate_get_for(request.user, pk)
    is_open = request.POST.get("open") == "1"
    places.gate_set_open(actor=request.user, gate=gate, is_open=is_open)
    messages.success(
        request,
        (_("%(name)s is open.") if is_open else _("%(name)s is closed.")) % {"name": gate.name},
    )
    return redirect("checkpoints:gates")


@require_http_methods(["GET", "POST"])
@capability_required("checkpoints.manage")
def policy(request):
    user = request.user
    current = policy_for(user.community_id)
    # The form validates field shapes on its own copy; the service re-reads, checks and saves.
    form = PolicyForm(request.POST or None, instance=policy_for(user.community_id))
    if request.method == "POST" and form.is_valid():
        try:
            places.policy_save(
                actor=user,
                community=user.community,
                **{f: form.cleaned_data[f] for f in places.POLICY_FIELDS},
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("The policy is saved."))
            return redirect("checkpoints:policy")
    return render(request, "checkpoints/policy.html", {"form": form, "policy": current})


urlpatterns = [
    path("checkpoints/gates/", overview, name="gates"),
    path("checkpoints/gates/new/", gate_edit, name="gate_new"),
    path("checkpoints/gates/<int:pk>/edit/", gate_edit, name="gate_edit"),
    path("checkpoints/gates/<int:pk>/open/", gate_toggle, name="gate_toggle"),
    path("checkpoints/places/new/", checkpoint_edit, name="checkpoint_new"),
    path("checkpoints/places/<int:pk>/edit/", checkpoint_edit, name="checkpoint_edit"),
    path("checkpoints/places/<int:pk>/retire/", checkpoint_retire, name="checkpoint_retire"),
    path("checkpoints/policy/", policy, name="policy"),
]
