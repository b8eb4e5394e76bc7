"""The residents' pages: no password — a household link or a phone and an SMS code.

A visitor sees only the households they belong to, or that consented to them acting on their
behalf; the queryset of every page starts from that list, so another household's data cannot
be reached by changing an id (404).
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouwang.core import sections
from shouwang.core.errors import DomainError
from shouwang.registry.models import Household
from shouwang.residents import access, services, tokens
from shouwang.residents.access import ELDER_COOKIE
from shouwang.residents.models import Consent
from shouwang.residents.qr import qr_svg


@never_cache
def link_open(request, token: str):
    try:
        link = services.link_open(token)
    except DomainError as e:
        return render(request, "residents/link_invalid.html", {"error": e}, status=404)
    access.begin_with_link(request, link)
    return redirect("residents:my_household", pk=link.household_id)


def _households(ids):
    return {
        h.pk: h for h in Household.objects.with_place().select_related("head").filter(pk__in=ids)
    }


@never_cache
def home(request):
    """The resident's start: their household, or a choice when they have several."""
    acc = access.current(request)
    proxy_consents = _user_consents(request)
    if acc is None and not proxy_consents:
        return render(request, "residents/start.html")
    own = acc.households if acc else []
    proxied = (acc.proxy_for if acc else []) + [c.household_id for c in proxy_consents]
    if len(own) == 1 and not proxied:
        return redirect("residents:my_household", pk=own[0])
    found = _households(own + proxied)
    return render(
        request,
        "residents/choose.html",
        {
            "own": [found[i] for i in own if i in found],
            "proxied": [found[i] for i in dict.fromkeys(proxied) if i in found],
        },
    )


def _user_consents(request) -> list[Consent]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return list(
        Consent.objects.filter(proxy_user=user, revoked_at__isnull=True).select_related("household")
    )


def _viewer(request, pk: int):
    """(is_own, consent or None) for this visitor and household; Http404 when neither."""
    acc = access.current(request)
    if acc is not None and acc.is_own(pk):
        return True, None
    phone = acc.phone_index if acc is not None else ""
    user = request.user if request.user.is_authenticated else None
    consent = services.consent_for_viewer(household_id=pk, user=user, phone_index=phone)
    if consent is None:
        raise Http404
    return False, consent


@never_cache
def household(request, pk: int):
    is_own, consent = _viewer(request, pk)
    h = Household.objects.with_place().select_related("head").filter(pk=pk).first()
    if h is None:
        raise Http404
    members = list(h.members.exclude(presence="moved_out"))
    members.sort(key=lambda m: (m.relation != "head", m.id))
    if consent is not None and consent.resident_id:
        # Consent for one member: only that member's pass.
        members = [m for m in members if m.pk == consent.resident_id]
    # Every resident has a pass: people added since the last print get theirs on first view.
    passes = (
        services.pass_ensure(actor=None, residents=members, never_issued_only=True)
        if members
        else {}
    )
    cards = []
    for m in members:
        p = passes.get(m.pk)
        token = tokens.token_for(p.code) if p else ""
        cards.append(
            {
                "member": m,
                "token": token,
                "grouped": tokens.grouped(token) if token else "",
                "qr": qr_svg(token, title=m.name) if token else "",
            }
        )
    if consent is not None:
        services.behalf_record_once_a_day(
            consent=consent, action="passes.view", summary="opened the household's passes"
        )
    viewer = {"own": is_own, "consent": consent}
    return render(
        request,
        "residents/household.html",
        {
            "h": h,
            "cards": cards,
            "place": services.place_label(h),
            "consent": consent,
            "sections": sections.render_list(sections.RESIDENT, request, h, viewer),
            "signed_in": access.current(request) is not None,
        },
    )


@require_POST
def signout(request):
    access.end(request)
    return redirect("residents:my")


@require_POST
def elder(request):
    """Large-font mode on or off, in a cookie that outlives the sign-in (one tap, persists)."""
    on = request.POST.get("on")
    if on is None:
        on = "0" if request.COOKIES.get(ELDER_COOKIE) == "1" else "1"
    nxt = request.POST.get("next") or reverse("residents:my")
    if not url_has_allowed_host_and_scheme(nxt, {request.get_host()}, request.is_secure()):
        nxt = reverse("residents:my")
    resp = redirect(nxt)
    resp.set_cookie(
        ELDER_COOKIE,
        "1" if on == "1" else "0",
        max_age=365 * 86400,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return resp


def proxy_list(request):
    """For volunteers and party members with an account: the households they may act for."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    consents = _user_consents(request)
    found = _households([c.household_id for c in consents])
    rows = [(c, found.get(c.household_id)) for c in consents if c.household_id in found]
    return render(request, "residents/proxy_list.html", {"rows": rows})
