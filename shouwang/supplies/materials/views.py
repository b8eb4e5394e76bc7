"""Pages of the materials store: the stock overview, items and places, receipt / issue /
transfer forms, the movement history with its export, and stock-takes.

Views parse, scope and render; the rules (stock never negative, request keys, stock-take
differences) are in services.py and come back as a DomainError shown on the form."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from shouwang.accounts.models import Role, User
from shouwang.accounts.permissions import can
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.core.errors import DomainError
from shouwang.core.views import capability_required
from shouwang.supplies.materials import selectors, services
from shouwang.supplies.materials.export import movements_export
from shouwang.supplies.materials.forms import (
    ItemForm,
    LocationForm,
    MovementFilterForm,
    MovementForm,
    StockTakeStartForm,
)
from shouwang.supplies.materials.models import Item, Location, Movement, Stock, StockTake

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 100
RECIPIENT_ROLES = (Role.VOLUNTEER, Role.GRID_LEADER, Role.STAFF, Role.GUARD)


def _items(user, *, active_only=True):
    qs = scope_queryset(user, Item.objects.all())
    return qs.filter(active=True) if active_only else qs


def _locations(user, *, active_only=True):
    qs = scope_queryset(user, Location.objects.all())
    return qs.filter(active=True) if active_only else qs


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- overview -------------------------------------------------------------------------------


@require_safe
@capability_required("materials.view")
def index(request):
    user = request.user
    matrix = selectors.stock_matrix(user.community_id)
    can_manage = can(user, "materials.manage")
    open_takes = (
        list(
            scope_queryset(user, StockTake.objects.filter(finished_at__isnull=True)).select_related(
                "location"
            )
        )
        if can_manage
        else []
    )
    recent = list(selectors.movements(user.community_id)[:8])
    return render(
        request,
        "materials/index.html",
        {
            "matrix": matrix,
            "low": matrix.low,
            "recent": recent,
            "open_takes": open_takes,
            "can_manage": can_manage,
            "inactive_items": _items(user, active_only=False).filter(active=False),
            "inactive_locations": _locations(user, active_only=False).filter(active=False),
        },
    )


# --- items and places -----------------------------------------------------------------------


def _save_errors(form, e: DomainError) -> None:
    form.add_domain_errors(e)


@require_http_methods(["GET", "POST"])
@capability_required("materials.manage")
def item_edit(request, pk: int | None = None):
    user = request.user
    item = get_scoped(user, Item.objects.all(), pk) if pk is not None else None
    locations = list(_locations(user))
    initial = None
    if item is not None:
        initial = {
            "name": item.name,
            "unit": item.unit,
            "category": item.category,
            "low_stock_threshold": item.low_stock_threshold,
            "active": item.active,
        }
        for loc_id, level in Stock.objects.filter(item=item).values_list(
            "location_id", "threshold"
        ):
            initial[f"at_{loc_id}"] = level
    form = ItemForm(request.POST or None, initial=initial, locations=locations)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            item = services.item_save(
                actor=user,
                item=item,
                name=d["name"],
                unit=d["unit"],
                category=d["category"],
                low_stock_threshold=d["low_stock_threshold"],
                active=d["active"],
                location_thresholds=form.location_thresholds(),
            )
        except DomainError as e:
            _save_errors(form, e)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": item.name})
            return redirect("materials:index")
    return render(request, "materials/item_form.html", {"form": form, "item": item})


@require_http_methods(["GET", "POST"])
@capability_required("materials.manage")
def location_edit(request, pk: int | None = None):
    user = request.user
    location = get_scoped(user, Location.objects.all(), pk) if pk is not None else None
    initial = (
        {"name": location.name, "kind": location.kind, "active": location.active}
        if location
        else None
    )
    form = LocationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            location = services.location_save(actor=user, location=location, **form.cleaned_data)
        except DomainError as e:
            _save_errors(form, e)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": location.name})
            return redirect("materials:index")
    return render(request, "materials/location_form.html", {"form": form, "location": location})


# --- receipts, issues, transfers ------------------------------------------------------------

TITLES = {
    Movement.Kind.RECEIPT: _("Receive stock"),
    Movement.Kind.ISSUE: _("Issue stock"),
    Movement.Kind.TRANSFER: _("Move stock between places"),
}


def _movement(request, kind: str):
    user = request.user
    items, locations = _items(user), _locations(user)
    users = scope_queryset(user, User.objects.filter(role__in=RECIPIENT_ROLES, is_active=True))
    initial = {}
    for name in ("item", "from_location", "to_location"):
        chosen = _int(request.GET.get(name))
        if chosen is not None:
            initial[name] = chosen
    if kind == Movement.Kind.ISSUE:
        initial.setdefault("recipient_kind", request.GET.get("recipient_kind") or "team")
    form = MovementForm(
        request.POST or None,
        initial=initial,
        kind=kind,
        items=items.order_by("category", "name"),
        locations=locations,
        users=users.order_by("username"),
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        common = {
            "actor": user,
            "item": d["item"],
            "quantity": d["quantity"],
            "note": d.get("note", ""),
            "request_key": d.get("request_key", ""),
        }
        try:
            if kind == Movement.Kind.RECEIPT:
                posted = services.receipt(
                    location=d["to_location"], reference=d.get("reference", ""), **common
                )
                place = d["to_location"]
            elif kind == Movement.Kind.ISSUE:
                posted = services.issue(
                    location=d["from_location"],
                    recipient_kind=d["recipient_kind"],
                    recipient_text=d.get("recipient_text", ""),
                    recipient_user=d.get("recipient_user"),
                    **common,
                )
                place = d["from_location"]
            else:
                posted = services.transfer(
                    from_location=d["from_location"], to_location=d["to_location"], **common
                )
                place = d["from_location"]
        except DomainError as e:
            _save_errors(form, e)
        else:
            m, item = posted.movement, d["item"]
            left = Stock.objects.get(item=item, location=place).quantity
            if posted.created:
                text = _("Done: %(kind)s of %(q)s %(unit)s %(item)s. Now %(left)s at %(place)s.")
            else:
                text = _("This was already recorded (sent twice); nothing more was changed.")
            messages.success(
                request,
                text
                % {
                    "kind": m.get_kind_display(),
                    "q": m.quantity,
                    "unit": item.unit,
                    "item": item.name,
                    "left": left,
                    "place": place.name,
                },
            )
            # Back to the same form with the same item and place: the next issue is one field.
            keep = {"item": item.pk}
            for name in ("from_location", "to_location"):
                if d.get(name):
                    keep[name] = d[name].pk
            if kind == Movement.Kind.ISSUE:
                keep["recipient_kind"] = d["recipient_kind"]
            query = "&".join(f"{k}={v}" for k, v in keep.items())
            return redirect(f"{reverse('materials:' + kind)}?{query}")
    stock = {
        (i, loc): q
        for i, loc, q in scope_queryset(user, Stock.objects.all()).values_list(
            "item_id", "location_id", "quantity"
        )
    }
    return render(
        request,
        "materials/movement_form.html",
        {
            "form": form,
            "kind": kind,
            "title": TITLES[kind],
            "stock_json": {f"{i}-{loc}": q for (i, loc), q in stock.items()},
        },
    )


@require_http_methods(["GET", "POST"])
@capability_required("materials.manage")
def receive(request):
    return _movement(request, Movement.Kind.RECEIPT)


@require_http_methods(["GET", "POST"])
@capability_required("materials.manage")
def issue(request):
    return _movement(request, Movement.Kind.ISSUE)


@require_http_methods(["GET", "POST"])
@capability_required("materials.manage")
def transfer(request):
    return _movement(request, Movement.Kind.TRANSFER)


# --- history --------------------------------------------------------------------------------


def _filtered(request):
    user = request.user
    form = MovementFilterForm(
        request.GET or None,
        items=_items(user, active_only=False),
        locations=_locations(user, active_only=False),
    )
    f = selectors.MovementFilter()
    if form.is_valid():
        d = form.cleaned_data
        f = selectors.MovementFilter(
            item=d["item"].pk if d["item"] else None,
            location=d["location"].pk if d["location"] else None,
            kind=d["kind"],
            recipient_kind=d["recipient_kind"],
            since=d["since"],
            until=d["until"],
            q=d["q"].strip(),
        )
    return form, selectors.movements(user.community_id, f)


@require_safe
@capability_required("materials.view")
def movements(request):
    form, qs = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "materials/movements.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@require_safe
@capability_required("materials.view")
def movements_xlsx(request):
    _form, qs = _filtered(request)
    data = movements_export(actor=request.user, community_id=request.user.community_id, qs=qs)
    response = HttpResponse(data, content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="materials-movements-{stamp}.xlsx"'
    return response


# --- stock-takes ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("materials.manage")
def stocktake_new(request):
    user = request.user
    form = StockTakeStartForm(request.POST or None, locations=_locations(user))
    if request.method == "POST" and form.is_valid():
        try:
            st = services.stocktake_start(actor=user, location=form.cleaned_data["location"])
        except DomainError as e:
            form.add_error("location", str(e.message))
        else:
            return redirect("materials:stocktake", pk=st.pk)
    takes = scope_queryset(user, StockTake.objects.select_related("location", "started_by"))[:20]
    return render(request, "materials/stocktake_new.html", {"form": form, "takes": takes})


@require_http_methods(["GET", "POST"])
@capability_required("materials.manage")
def stocktake(request, pk: int):
    user = request.user
    st = get_scoped(user, StockTake.objects.select_related("location"), pk)
    lines = list(st.lines.select_related("item"))
    errors = {}
    if request.method == "POST" and not st.finished:
        counts = {}
        for ln in lines:
            raw = (request.POST.get(f"item_{ln.item_id}") or "").strip()
            if raw == "":
                if ln.counted is not None:
                    counts[ln.item_id] = None
                continue
            value = _int(raw)
            if value is None or value < 0:
                errors[ln.item_id] = _("Enter a whole number, 0 or more.")
                continue
            counts[ln.item_id] = value
        if not errors:
            try:
                services.stocktake_count(actor=user, stock_take=st, counts=counts)
            except DomainError as e:
                messages.error(request, e.message)
            else:
                messages.success(request, _("Counts saved. Check the differences, then finish."))
                return redirect("materials:stocktake", pk=st.pk)
    book = dict(Stock.objects.filter(location_id=st.location_id).values_list("item_id", "quantity"))
    for ln in lines:
        ln.book_now = book.get(ln.item_id, 0)
        ln.error = errors.get(ln.item_id)
        ln.posted_value = request.POST.get(f"item_{ln.item_id}") if errors else None
    differences = [ln for ln in lines if ln.difference]
    return render(
        request,
        "materials/stocktake.html",
        {
            "st": st,
            "lines": lines,
            "differences": differences,
            "counted": sum(ln.counted is not None for ln in lines),
            "adjustments": st.movements.select_related("item") if st.finished else [],
        },
    )


@require_POST
@capability_required("materials.manage")
def stocktake_finish(request, pk: int):
    st = get_scoped(request.user, StockTake.objects.select_related("location"), pk)
    try:
        posted = services.stocktake_finish(actor=request.user, stock_take=st)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request,
            _("Stock-take finished: %(n)s adjustment(s) posted.") % {"n": len(posted)},
        )
    return redirect("materials:stocktake", pk=st.pk)
