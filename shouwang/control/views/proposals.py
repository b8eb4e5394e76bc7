"""Area control pages: propose a level, a proposal's page, and the decisions on it (approve,
reject, withdraw). The rules — four eyes, expiry — are in control/services.py."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.permissions import can
from shouwang.control import places as pl
from shouwang.control import services
from shouwang.control.forms import DecisionForm, ProposalForm
from shouwang.control.models import HistoryEntry
from shouwang.core.errors import DomainError
from shouwang.core.views import capability_required


@require_http_methods(["GET", "POST"])
@capability_required("control.propose")
def propose(request):
    user = request.user
    initial = {}
    kind, pk = request.GET.get("kind"), request.GET.get("place")
    if kind in pl.FIELD and pk:
        initial["place"] = f"{kind}:{pk}"
    if request.GET.get("level"):
        initial["level"] = request.GET["level"]
    form = ProposalForm(request.POST or None, initial=initial, place_choices=pl.choices_for(user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            place = pl.parse_value(user, d["place"])
            p = services.proposal_create(
                actor=user,
                place=place,
                level=d["level"],
                reason=d["reason"],
                evidence=d["evidence"],
                starts_at=d["starts_at"],
                planned_end=d["planned_end"],
                expires_at=d["expires_at"],
            )
        except DomainError as e:
            if e.status == 404:
                form.add_error("place", _("Choose a place of your community."))
            else:
                form.add_domain_errors(e)
        else:
            messages.success(
                request,
                _(
                    "Proposed. Another user with the right to approve must approve it before it takes effect."
                ),
            )
            return redirect("control:proposal", pk=p.pk)
    return render(request, "control/propose.html", {"form": form})


@capability_required("control.view")
def proposal(request, pk: int):
    user = request.user
    p = services.proposal_get_for(user, pk)
    return render(
        request,
        "control/proposal.html",
        {
            "p": p,
            "label": pl.label(p.place),
            "current": services.current_of(p.kind, p.place_id),
            "expired_now": p.status == "pending" and p.expires_at <= timezone.now(),
            "can_decide": services.can_decide(user, p),
            "mine": p.proposed_by_id == user.pk,
            "can_withdraw": p.status == "pending"
            and p.proposed_by_id == user.pk
            and can(user, "control.propose"),
            "form": DecisionForm(),
            "history": HistoryEntry.objects.filter(
                community_id=p.community_id, proposal_id=p.pk
            ).order_by("at", "pk"),
        },
    )


def _decide(request, pk: int, action):
    """Run a decision; a refusal (self-approval, expired, already decided) is shown on the
    proposal's page. Capability and scope refusals stay 403/404."""
    user = request.user
    p = services.proposal_get_for(user, pk)
    form = DecisionForm(request.POST)
    note = form.data.get("note", "")
    try:
        msg = action(user, p, note)
    except DomainError as e:
        if e.status in (403, 404) and e.code in ("forbidden", "not_found", "control_not_yours"):
            raise
        messages.error(request, str(e.message))
    else:
        messages.success(request, msg)
    return redirect("control:proposal", pk=p.pk)


def _approve(user, p, note):
    out = services.proposal_approve(actor=user, proposal=p, note=note)
    if out.control is None:
        return _("Approved: the place is released.")
    return _("Approved: %(label)s is now under “%(level)s”.") % {
        "label": pl.label(p.place),
        "level": out.control.get_level_display(),
    }


@require_POST
@capability_required("control.approve")
def approve(request, pk: int):
    return _decide(request, pk, _approve)


@require_POST
@capability_required("control.approve")
def reject(request, pk: int):
    return _decide(
        request,
        pk,
        lambda user, p, note: (
            services.proposal_reject(actor=user, proposal=p, note=note) and _("Rejected.")
        ),
    )


@require_POST
@capability_required("control.propose")
def withdraw(request, pk: int):
    return _decide(
        request,
        pk,
        lambda user, p, note: (
            services.proposal_withdraw(actor=user, proposal=p) and _("Withdrawn.")
        ),
    )


urlpatterns = [
    path("control/propose/", propose, name="propose"),
    path("control/proposals/<int:pk>/", proposal, name="proposal"),
    path("control/proposals/<int:pk>/approve/", approve, name="approve"),
    path("control/proposals/<int:pk>/reject/", reject, name="reject"),
    path("control/proposals/<int:pk>/withdraw/", withdraw, name="withdraw"),
]
