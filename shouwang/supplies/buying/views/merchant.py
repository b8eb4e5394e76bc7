"""The merchant's side: its windows, the orders of each (payment recorded as the money comes
in), and, when a window closes, the picking list (by product, by building; A4 and Excel) and
the delivery slips per building sorted by door.

Everything is scoped by the signed-in user's MerchantMember: another merchant's window is a
404, even in the same community. The pages show doors, masked names and masked phones — no ID
numbers, no health data."""

from __future__ import annotations

import io

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST, require_safe

from shouwang.core.masking import mask_name
from shouwang.core.views import capability_required
from shouwang.supplies.buying import selectors, services
from shouwang.supplies.buying.forms import PaymentForm
from shouwang.supplies.buying.models import DeliveryBatch, Order, OrderWindow
from shouwang.supplies.buying.views import payment_from_post


def delivery_label(b) -> str:
    from shouwang.supplies.buying.delivery import STEP_LABELS

    if b is None or not b.step:
        return ""
    return str(STEP_LABELS[b.step])


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ORDERS_SHOWN = 500


@require_safe
@capability_required("buying.merchant")
def home(request):
    member = selectors.member_or_404(request.user)
    now = timezone.now()
    windows = list(
        OrderWindow.objects.filter(merchant_id=member.merchant_id)
        .annotate(
            n_orders=Count("orders", filter=Q(orders__status=Order.Status.PLACED)),
            amount=Sum("orders__total", filter=Q(orders__status=Order.Status.PLACED)),
        )
        .order_by("-opens_at")[:30]
    )
    batches = {
        b.window_id: b for b in DeliveryBatch.objects.filter(window_id__in=[w.pk for w in windows])
    }
    for w in windows:
        w.st = w.state(now)
        w.chain = delivery_label(batches.get(w.pk))
    return render(
        request,
        "buying/merchant/home.html",
        {"merchant": member.merchant, "windows": windows},
    )


@require_safe
@capability_required("buying.merchant")
def window(request, pk: int):
    w = selectors.merchant_window(request.user, pk)
    orders = list(
        Order.objects.filter(window=w, status=Order.Status.PLACED)
        .select_related("household__building__compound", "household__dwelling", "household__head")
        .only(
            "pk",
            "pickup_code",
            "total",
            "payment_status",
            "payment_method",
            "household__contact_phone_masked",
            "household__building__name",
            "household__building__compound__name",
            "household__dwelling__door",
            "household__head__name",
        )
        .order_by(
            "household__building__compound__name",
            "household__building__name",
            "household__dwelling__door",
            "pk",
        )[:ORDERS_SHOWN]
    )
    for o in orders:
        h = o.household
        o.place = f"{h.building.compound.name} {h.building.name} {h.dwelling.door}"
        o.who = mask_name(h.head.name) if h.head_id else ""
    summary = Order.objects.filter(window=w, status=Order.Status.PLACED).aggregate(
        n=Count("pk"), total=Sum("total"), paid=Count("pk", filter=Q(payment_status="paid"))
    )
    return render(
        request,
        "buying/merchant/window.html",
        {
            "window": w,
            "state": w.state(),
            "orders": orders,
            "summary": summary,
            "payment_form": PaymentForm(),
            "picking": selectors.picking_by_product(w),
            **_chain(w),
        },
    )


def _chain(w: OrderWindow) -> dict:
    """The delivery chain of the merchant's window, read-only (dispatching is its own step)."""
    from shouwang.supplies.buying import delivery

    b = delivery.batch_of(w)
    return {
        "batch": b,
        "steps": delivery.batch_steps(b),
        "chain_buildings": delivery.buildings(w) if b is not None and b.released_at else [],
    }


@require_safe
@capability_required("buying.merchant")
def picking(request, pk: int):
    w = selectors.merchant_window(request.user, pk)
    table = selectors.picking_by_building(w)
    return render(
        request,
        "buying/merchant/picking.html",
        {
            "window": w,
            "state": w.state(),
            "products": table["products"],
            "buildings": table["buildings"],
            "n_orders": Order.objects.filter(window=w, status=Order.Status.PLACED).count(),
            "printed_at": timezone.now(),
        },
    )


def picking_workbook(w: OrderWindow) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    table = selectors.picking_by_building(w)
    products = table["products"]
    wb = Workbook()
    ws = wb.active
    ws.title = _("By product")[:31]
    bold = Font(bold=True)
    ws.append(
        [_("Product"), _("Specification"), pgettext("measure", "Unit"), _("Quantity"), _("Orders")]
    )
    for p in products:
        ws.append([p["name"], p["specification"], p["unit"], p["quantity"], p["orders"]])
    for c in ws[1]:
        c.font = bold
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 18
    by = wb.create_sheet(_("By building")[:31])
    by.append([_("Compound"), _("Building"), _("Orders"), *[p["name"] for p in products]])
    for b in table["buildings"]:
        by.append([b["compound"], b["name"], b["orders"], *b["quantities"]])
    by.append(
        [_("Total"), "", sum(b["orders"] for b in table["buildings"])]
        + [p["quantity"] for p in products]
    )
    for c in by[1]:
        c.font = bold
    for c in by[by.max_row]:
        c.font = bold
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@require_safe
@capability_required("buying.merchant")
def picking_xlsx(request, pk: int):
    w = selectors.merchant_window(request.user, pk)
    response = HttpResponse(picking_workbook(w), content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="picking-{timezone.localtime(w.opens_at):%Y%m%d}-{w.pk}.xlsx"'
    )
    return response


@require_safe
@capability_required("buying.merchant")
def slips(request, pk: int):
    w = selectors.merchant_window(request.user, pk)
    building = request.GET.get("building")
    try:
        building_id = int(building) if building else None
    except ValueError:
        building_id = None
    buildings = selectors.slips(w, building_id=building_id)
    return render(
        request,
        "buying/merchant/slips.html",
        {
            "window": w,
            "state": w.state(),
            "buildings": buildings,
            "choices": selectors.picking_by_building(w)["buildings"],
            "building_id": building_id,
        },
    )


@require_POST
@capability_required("buying.merchant")
def payment(request, pk: int):
    order = selectors.merchant_order(request.user, pk)
    payment_from_post(request, order)
    return redirect("buying:merchant_window", pk=order.window_id)


@require_POST
@capability_required("buying.merchant")
def dispatch(request, pk: int):
    """The merchant sends the closed window's goods on their way: the chain's first step."""
    from shouwang.supplies.buying import delivery

    w = selectors.merchant_window(request.user, pk)
    try:
        delivery.batch_step(actor=request.user, window=w, step="dispatched")
    except services.DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Dispatched. The checkpoint takes it from here."))
    return redirect("buying:merchant_window", pk=w.pk)
