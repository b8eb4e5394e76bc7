"""Staff pages of the residents' side: passes, household links, consents, notices."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Exists, F, OuterRef, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.models import User
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.core import crypto
from shouwang.core.errors import DomainError
from shouwang.core.views import capability_required
from shouwang.grids.selectors import grids_for
from shouwang.registry import selectors
from shouwang.registry.models import Building, CareTag, Compound, Household
from shouwang.residents import services
from shouwang.residents.models import Consent, Notice, Pass
from shouwang.residents.staff_forms import ConsentForm, NoticeForm

GRID = "building__grid"


def _household(request, pk) -> Household:
    return selectors.household_get_for(request.user, pk)


def _back(household_id: int):
    return redirect(reverse("registry:household", args=[household_id]) + "#access")


# --- passes -------------------------------------------------------------------------------


@capability_required("passes.manage")
def passes(request):
    """Who has a pass and a card, by building or grid; 'no phone and no card yet' first."""
    user = request.user
    buildings = scope_queryset(user, Building.objects.select_related("compound"), grid_path="grid")
    building_id = _int(request.GET.get("building"))
    grid_id = _int(request.GET.get("grid"))
    only = request.GET.get("only", "nocard")
    rows = []
    chosen = None
    if building_id or grid_id:
        qs = selectors.residents_for(user).exclude(presence="moved_out")
        if building_id:
            chosen = get_scoped(
                user, Building.objects.select_related("compound"), building_id, grid_path="grid"
            )
            qs = qs.filter(household__building=chosen)
        else:
            grid = get_scoped(user, grids_for(user), grid_id, grid_path="id")
            qs = qs.filter(household__building__grid=grid)
        active = Pass.objects.filter(resident=OuterRef("pk"), status="active")
        printed = active.filter(printed_at__isnull=False)
        qs = qs.annotate(has_pass=Exists(active), has_card=Exists(printed)).select_related(
            "household__dwelling__unit", "household__building__compound"
        )
        qs = qs.alias(_nosmart=F("tags").bitand(int(CareTag.NO_SMARTPHONE)))
        no_phone = Q(phone_index="") | Q(_nosmart__gt=0)
        if only == "nocard":
            qs = qs.filter(no_phone, has_card=False)
        elif only == "nophone":
            qs = qs.filter(no_phone)
        rows = list(
            qs.order_by(
                "household__dwelling__unit__name", "household__dwelling__door", "household_id", "id"
            )[:500]
        )
    return render(
        request,
        "residents/passes.html",
        {
            "buildings": buildings,
            "grids": grids_for(user),
            "building_id": building_id,
            "grid_id": grid_id,
            "only": only,
            "rows": rows,
            "chosen": chosen,
            "searched": bool(building_id or grid_id),
        },
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_POST
@capability_required("passes.manage")
def pass_issue(request, pk: int):
    resident = selectors.resident_get_for(request.user, pk)
    old = services.pass_active(resident.pk)
    services.pass_issue(
        actor=request.user, resident=resident, reason=request.POST.get("reason", "").strip()
    )
    if old:
        messages.success(
            request,
            _("%(name)s has a new pass. The old one no longer works anywhere; print a new card.")
            % {"name": resident.name},
        )
    else:
        messages.success(request, _("%(name)s has a pass.") % {"name": resident.name})
    return _back(resident.household_id)


@require_POST
@capability_required("passes.manage")
def pass_revoke(request, pk: int):
    p = get_scoped(
        request.user,
        Pass.objects.select_related("resident"),
        pk,
        grid_path="resident__household__building__grid",
    )
    try:
        services.pass_revoke(actor=request.user, pass_=p, reason=request.POST.get("reason", ""))
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request,
            _("The pass of %(name)s is revoked: it stops working at every gate now.")
            % {"name": p.resident.name},
        )
    return _back(p.resident.household_id)


# --- household links ----------------------------------------------------------------------


@require_POST
@capability_required("access.manage")
def link_issue(request, pk: int):
    h = _household(request, pk)
    _link, token = services.link_issue(actor=request.user, household=h, replace=True)
    # Shown once on the household page; the session is in the database, so encrypt it.
    request.session[f"new_link:{h.pk}"] = crypto.encrypt(services.link_url(token, request))
    messages.success(
        request, _("A new household link is ready. The old link and its sessions no longer work.")
    )
    return _back(h.pk)


@require_POST
@capability_required("access.manage")
def link_revoke(request, pk: int):
    h = _household(request, pk)
    n = services.link_revoke(actor=request.user, household=h)
    if n:
        messages.success(
            request, _("The household link is withdrawn; whoever opened it is signed out.")
        )
    else:
        messages.info(request, _("This household has no link to withdraw."))
    return _back(h.pk)


@require_POST
@capability_required("access.manage")
def link_send(request, pk: int):
    """Send the household's link by SMS to its contact phone."""
    h = _household(request, pk)
    try:
        masked = services.link_send(actor=request.user, household=h, request=request)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("The link was sent to %(phone)s.") % {"phone": masked})
    return _back(h.pk)


# --- consents -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("access.manage")
def consent_add(request, pk: int):
    h = _household(request, pk)
    users = User.objects.filter(community_id=h.community_id, is_active=True).order_by(
        "role", "username"
    )
    form = ConsentForm(request.POST or None, users=users, members=h.members.all())
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        by_user = d["who"] == "user"
        if by_user and d["proxy_user"] is None:
            form.add_error("proxy_user", _("Choose the user."))
        else:
            try:
                services.consent_grant(
                    actor=request.user,
                    household=h,
                    relation=d["relation"],
                    granted_on=d["granted_on"],
                    proxy_user=d["proxy_user"] if by_user else None,
                    proxy_name="" if by_user else d["proxy_name"],
                    proxy_phone="" if by_user else d["proxy_phone"],
                    resident=d["resident"],
                    note=d["note"],
                )
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("The consent is recorded."))
                return _back(h.pk)
    return render(request, "residents/consent_form.html", {"h": h, "form": form})


@require_POST
@capability_required("access.manage")
def consent_revoke(request, pk: int):
    c = get_scoped(request.user, Consent.objects.all(), pk, grid_path="household__building__grid")
    services.consent_revoke(actor=request.user, consent=c)
    messages.success(
        request, _("%(name)s may no longer act for this household.") % {"name": c.proxy_name}
    )
    return _back(c.household_id)


# --- notices ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("notices.manage")
def notices(request):
    user = request.user
    compounds = scope_queryset(user, Compound.objects.all())
    buildings = scope_queryset(user, Building.objects.select_related("compound"))
    grids = grids_for(user)
    form = NoticeForm(request.POST or None, compounds=compounds, buildings=buildings, grids=grids)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        kind, _sep, ref = d["scope"].partition(":")
        target = {}
        if kind == "compound":
            target["compound"] = compounds.get(pk=ref)
        elif kind == "building":
            target["building"] = buildings.get(pk=ref)
        elif kind == "grid":
            target["grid"] = grids.get(pk=ref)
        services.notice_publish(
            actor=user,
            title=d["title"],
            body=d["body"],
            expires_at=d["expires_at"],
            **target,
        )
        messages.success(request, _("The notice is on the household pages now."))
        return redirect("residents:notices")
    items = scope_queryset(
        user, Notice.objects.select_related("compound", "building__compound", "grid", "created_by")
    )[:50]
    return render(
        request,
        "residents/notices.html",
        {"form": form, "items": items, "now": timezone.now()},
    )


@require_POST
@capability_required("notices.manage")
def notice_withdraw(request, pk: int):
    n = get_scoped(request.user, Notice.objects.all(), pk)
    services.notice_withdraw(actor=request.user, notice=n)
    messages.success(request, _("The notice is withdrawn."))
    return redirect("residents:notices")
