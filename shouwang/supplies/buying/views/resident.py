"""Ordering from the household page: the household's own session, or someone holding its
consent (channel "proxy", recorded for the household to see), as the queue does."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shouwang.core import rawrows
from shouwang.core.errors import DomainError
from shouwang.registry.models import Household
from shouwang.residents import services as resident_services
from shouwang.residents.access import current as resident_access
from shouwang.residents.views.resident import _viewer
from shouwang.supplies.buying import delivery, services
from shouwang.supplies.buying.forms import quantities
from shouwang.supplies.buying.models import (
    Channel,
    Merchant,
    Order,
    OrderProblem,
    OrderWindow,
    Receipt,
)


def _back(hh: int) -> str:
    return reverse("residents:my_household", args=[hh]) + "#buying"


def _acting(request, hh: int, is_own: bool) -> dict:
    """Service arguments for who is ordering: the household itself, or a proxy's consent."""
    if is_own:
        return {"channel": Channel.HOUSEHOLD}
    acc = resident_access(request)
    user = request.user if request.user.is_authenticated else None
    consent = resident_services.behalf_authorize(
        household_id=hh, user=user, phone_index=acc.phone_index if acc is not None else ""
    )
    return {"channel": Channel.PROXY, "consent": consent, "actor": user}


@require_POST
def place(request, hh: int, pk: int):
    is_own, _consent = _viewer(request, hh)
    # Raw reads (core/rawrows): in a burst of orders the ORM's query compiler costs more than
    # these queries do (benchmarks/buying_orders.py).
    household = rawrows.fetch(Household, "id = %s", [hh])
    window = (
        rawrows.fetch(OrderWindow, "id = %s AND community_id = %s", [pk, household.community_id])
        if household is not None
        else None
    )
    if window is None:
        raise Http404
    window.merchant = rawrows.fetch(Merchant, "id = %s", [window.merchant_id])
    try:
        acting = _acting(request, hh, is_own)
        placed = services.order_place(
            window=window,
            household=household,
            lines=quantities(request.POST),
            note=request.POST.get("note", ""),
            **acting,
        )
    except DomainError as e:
        messages.error(request, e.message)
    else:
        o = placed.order
        if o.status == Order.Status.CANCELLED:
            messages.success(request, _("Your order is cancelled."))
        elif placed.created:
            messages.success(
                request,
                _("Order placed: ¥%(t)s. Your pickup code is %(c)s.")
                % {"t": o.total, "c": o.pickup_code},
            )
        else:
            messages.success(request, _("Your order is changed: ¥%(t)s.") % {"t": o.total})
    return redirect(_back(hh))


@require_POST
def cancel(request, hh: int, pk: int):
    is_own, _consent = _viewer(request, hh)
    order = Order.objects.select_related("window__merchant").filter(pk=pk, household_id=hh).first()
    if order is None:
        raise Http404
    try:
        acting = _acting(request, hh, is_own)
        services.order_cancel(order=order, actor=acting.get("actor"), consent=acting.get("consent"))
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Your order is cancelled."))
    return redirect(_back(hh))


def _own_order(hh: int, pk: int) -> Order:
    order = (
        Order.objects.select_related("window__merchant", "household")
        .filter(pk=pk, household_id=hh)
        .first()
    )
    if order is None:
        raise Http404
    return order


@require_POST
def received(request, hh: int, pk: int):
    """ "I received it" on the household page (or a proxy with the household's consent)."""
    is_own, _consent = _viewer(request, hh)
    order = _own_order(hh, pk)
    try:
        acting = _acting(request, hh, is_own)
        c = delivery.receipt_confirm(
            order=order,
            how=Receipt.PAGE if is_own else Receipt.PROXY,
            actor=acting.get("actor"),
            consent=acting.get("consent"),
        )
    except DomainError as e:
        messages.error(request, e.message)
    else:
        if c.first:
            messages.success(request, _("Thank you: your receipt is confirmed."))
        else:
            messages.info(request, _("Your receipt was confirmed already."))
    return redirect(_back(hh))


@require_POST
def problem(request, hh: int, pk: int):
    """Report a missing, damaged or wrong item: a note on the order and a request for staff."""
    is_own, _consent = _viewer(request, hh)
    order = _own_order(hh, pk)
    try:
        acting = _acting(request, hh, is_own)
        delivery.problem_report(
            order=order,
            kind=request.POST.get("kind", ""),
            note=request.POST.get("note", ""),
            via=OrderProblem.Via.HOUSEHOLD if is_own else OrderProblem.Via.PROXY,
            actor=acting.get("actor"),
            consent=acting.get("consent"),
        )
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request, _("Your problem is sent to the community office. They will contact you.")
        )
    return redirect(_back(hh))
