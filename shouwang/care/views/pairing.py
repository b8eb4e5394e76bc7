"""Pairing people with carers (care.manage): who looks after whom, per carer; pair one person,
end a pairing, spread a grid's unpaired people across chosen carers; and the care policy (which
tags put someone on the list, how often they are followed up). (URL patterns in
`urlpatterns`.)"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouwang.care import selectors, services
from shouwang.core.errors import DomainError, invalid
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required
from shouwang.grids.selectors import grids_for
from shouwang.registry.models import CareTag


def _carer_from(user, raw: str):
    """ "u<id>" is a staff member, "r<id>" a party member of the ledger."""
    raw = (raw or "").strip()
    if len(raw) > 1 and raw[1:].isdigit():
        pk = int(raw[1:])
        if raw[0] == "u":
            carer = selectors.carers_for(user.community_id).filter(pk=pk).first()
            if carer is not None:
                return {"carer": carer}
        if raw[0] == "r":
            carer = selectors.party_members_for(user.community_id).filter(pk=pk).first()
            if carer is not None:
                return {"carer_resident": carer}
    raise invalid("carer", _("Choose a carer from the list."))


@never_cache
@capability_required("care.manage")
def pairings(request):
    """Who looks after whom, carer by carer, with how many of their people are overdue."""
    user = request.user
    rows = selectors.with_carers(list(selectors.care_list(user)))
    by_carer: dict[str, dict] = {}
    unpaired = []
    for r in rows:
        if not r.pairing_id:
            unpaired.append(r)
            continue
        key = f"u{r.carer_id}" if r.carer_id else f"r{r.carer_resident_id}"
        entry = by_carer.setdefault(
            key, {"name": r.carer_name, "party": not r.carer_id, "people": [], "overdue": 0}
        )
        entry["people"].append(r)
        entry["overdue"] += r.state == selectors.OVERDUE
    return render(
        request,
        "care/pairings.html",
        {
            "groups": sorted(by_carer.values(), key=lambda e: (e["party"], e["name"])),
            "unpaired": unpaired,
            "carers": list(selectors.carers_for(user.community_id)),
            "party_members": list(selectors.party_members_for(user.community_id)),
            "grids": list(grids_for(user)),
        },
    )


@require_POST
@capability_required("care.manage")
def pair(request, pk: int):
    user = request.user
    person = selectors.person_for(user, pk)
    try:
        p = services.pair(
            actor=user,
            resident=person,
            every_days=request.POST.get("every_days") or None,
            note=request.POST.get("note", ""),
            **_carer_from(user, request.POST.get("carer", "")),
        )
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(
            request,
            _("%(name)s is looked after by %(carer)s.")
            % {"name": person.name, "carer": p.carer_name},
        )
    return redirect("care:person", pk=person.pk)


@require_POST
@capability_required("care.manage")
def unpair(request, pk: int):
    user = request.user
    person = selectors.person_for(user, pk)
    try:
        services.unpair(actor=user, resident=person)
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("The pairing has ended."))
    return redirect("care:person", pk=person.pk)


@require_POST
@capability_required("care.manage")
def pair_bulk(request):
    """Spread the unpaired people (of one grid, or all) across the chosen carers."""
    user = request.user
    grid_id = request.POST.get("grid", "")
    grid = None
    try:
        if grid_id:
            grid = grids_for(user).filter(pk=int(grid_id) if grid_id.isdigit() else 0).first()
            if grid is None:
                raise invalid("grid", _("Choose a grid of this community."))
        carers = [_carer_from(user, raw) for raw in request.POST.getlist("carers")]
        made = services.pair_in_bulk(
            actor=user,
            community_id=user.community_id,
            grid_id=grid.pk if grid else None,
            carers=[next(iter(c.values())) for c in carers],
            every_days=request.POST.get("every_days") or None,
        )
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("%(n)d people paired.") % {"n": len(made)})
    return redirect(reverse("care:pairings"))


class PolicyForm(DomainErrors, forms.Form):
    tags = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Care tags that put someone on the list"),
        choices=CareTag.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    every_days = forms.IntegerField(
        label=gettext_lazy("Follow up every (days)"), min_value=1, max_value=30
    )


@never_cache
@capability_required("care.manage")
def policy(request):
    user = request.user
    current = selectors.policy_for(user.community_id)
    tags = selectors.tags_of(current)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                services.policy_update(
                    actor=user,
                    community_id=user.community_id,
                    tags=sum(set(form.cleaned_data["tags"])),
                    every_days=form.cleaned_data["every_days"],
                )
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("The care rules are saved."))
                return redirect("care:policy")
    else:
        form = PolicyForm(
            initial={
                "tags": [t.value for t in CareTag if tags & t.value],
                "every_days": current.every_days,
            }
        )
    on_list = selectors.care_list(user).count()
    return render(
        request,
        "care/policy.html",
        {
            "form": form,
            "on_list": on_list,
            "default": not current.tags,
            "default_names": CareTag.names_of(int(selectors.DEFAULT_TAGS)),
        },
    )


urlpatterns = [
    path("care/pairings/", pairings, name="pairings"),
    path("care/pairings/spread/", pair_bulk, name="pair_bulk"),
    path("care/people/<int:pk>/pair/", pair, name="pair"),
    path("care/people/<int:pk>/unpair/", unpair, name="unpair"),
    path("care/policy/", policy, name="policy"),
]
