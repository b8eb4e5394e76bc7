"""Staff pages of group buying: merchants and their people, the catalogue, windows, the
orders of a window with their payment, and the phone order for an elderly caller.

Views parse, scope and render; the rules are in services.py and come back as DomainErrors."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Prefetch, Q, Sum
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.models import Role, User
from shouwang.accounts.permissions import can
from shouwang.accounts.scope import scope_queryset
from shouwang.core.errors import DomainError
from shouwang.core.masking import mask_name_initial
from shouwang.core.views import capability_required
from shouwang.grids.selectors import grids_for
from shouwang.registry import selectors as registry
from shouwang.registry.models import Compound, Household
from shouwang.supplies.buying import selectors, services
from shouwang.supplies.buying.forms import (
    MemberForm,
    MerchantForm,
    PaymentForm,
    ProductForm,
    WindowForm,
    quantities,
)
from shouwang.supplies.buying.models import (
    Channel,
    MerchantMember,
    Order,
    OrderWindow,
    Product,
)
from shouwang.supplies.buying.views import payment_from_post

ORDERS_SHOWN = 500


def _links(user) -> dict:
    return {"can_manage": can(user, "buying.manage"), "can_order": can(user, "buying.order")}


def place_of(h: Household) -> str:
    b = h.building
    unit = h.dwelling.unit.name if h.dwelling.unit_id else ""
    return " ".join(p for p in (b.compound.name, b.name, unit, h.dwelling.door) if p)


def _window_rows(windows, now):
    counts = dict(
        Order.objects.filter(window__in=windows, status=Order.Status.PLACED)
        .values_list("window_id")
        .annotate(n=Count("pk"))
    )
    for w in windows:
        w.st = w.state(now)
        w.n_orders = counts.get(w.pk, 0)
    return windows


@capability_required("buying.order")
def index(request):
    user = request.user
    now = timezone.now()
    windows = scope_queryset(user, OrderWindow.objects.select_related("merchant"))
    current = list(
        windows.filter(status=OrderWindow.Status.OPEN, closes_at__gt=now).order_by("opens_at")[:30]
    )
    past = list(
        windows.filter(Q(closes_at__lte=now) | ~Q(status="open")).order_by("-closes_at")[:15]
    )
    merchants = list(
        selectors.merchants_for(user).annotate(
            n_products=Count("products", filter=Q(products__active=True), distinct=True)
        )
    )
    return render(
        request,
        "buying/staff/index.html",
        {
            "current": _window_rows(current, now),
            "past": _window_rows(past, now),
            "merchants": merchants,
            **_links(user),
        },
    )


# --- merchants ------------------------------------------------------------------------------


def _merchant_form(request, merchant=None):
    user = request.user
    return MerchantForm(
        request.POST or None,
        initial=MerchantForm.initial_for(merchant) if merchant else None,
        compounds=scope_queryset(user, Compound.objects.all()).order_by("name"),
        buildings=registry.buildings_for(user).select_related("compound"),
        grids=grids_for(user).order_by("sort", "name"),
    )


@require_http_methods(["GET", "POST"])
@capability_required("buying.manage")
def merchant_edit(request, pk: int | None = None):
    merchant = selectors.merchant_get_for(request.user, pk) if pk is not None else None
    form = _merchant_form(request, merchant)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        try:
            merchant = services.merchant_save(
                actor=request.user,
                merchant=merchant,
                compounds=d.pop("compounds"),
                buildings=d.pop("buildings"),
                grids=d.pop("grids"),
                **d,
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": merchant.name})
            return redirect("buying:merchant", pk=merchant.pk)
    return render(request, "buying/staff/merchant_form.html", {"form": form, "merchant": merchant})


@capability_required("buying.manage")
def merchant_detail(request, pk: int):
    user = request.user
    merchant = selectors.merchant_get_for(user, pk)
    members = list(MerchantMember.objects.filter(merchant=merchant).select_related("user"))
    taken = MerchantMember.objects.exclude(merchant=merchant).values("user_id")
    users = User.objects.filter(
        role=Role.MERCHANT, community_id=user.community_id, is_active=True
    ).exclude(pk__in=taken)
    now = timezone.now()
    windows = list(merchant.windows.order_by("-opens_at")[:20])
    return render(
        request,
        "buying/staff/merchant.html",
        {
            "merchant": merchant,
            "members": members,
            "member_form": MemberForm(users=users.exclude(pk__in=[m.user_id for m in members])),
            "products": list(selectors.products_light().filter(merchant=merchant)),
            "windows": _window_rows(windows, now),
            "areas": {
                "compounds": list(merchant.compounds.all()),
                "buildings": list(merchant.buildings.select_related("compound")),
                "grids": list(merchant.grids.all()),
            },
        },
    )


@require_POST
@capability_required("buying.manage")
def member_add(request, pk: int):
    user = request.user
    merchant = selectors.merchant_get_for(user, pk)
    users = User.objects.filter(role=Role.MERCHANT, community_id=user.community_id)
    form = MemberForm(request.POST, users=users)
    if form.is_valid():
        services.member_add(actor=user, merchant=merchant, user=form.cleaned_data["user"])
        messages.success(request, _("The user now works for %(m)s.") % {"m": merchant.name})
    else:
        messages.error(request, _("Choose a user with the merchant role."))
    return redirect("buying:merchant", pk=merchant.pk)


@require_POST
@capability_required("buying.manage")
def member_remove(request, pk: int):
    member = (
        MerchantMember.objects.select_related("merchant", "user")
        .filter(pk=pk, merchant__community_id=request.user.community_id)
        .first()
    )
    if member is None:
        raise Http404
    services.member_remove(actor=request.user, member=member)
    messages.success(
        request,
        _("%(u)s no longer works for %(m)s.")
        % {
            "u": member.user.username,
            "m": member.merchant.name,
        },
    )
    return redirect("buying:merchant", pk=member.merchant_id)


@require_POST
@capability_required("buying.manage")
def merchant_schedule(request, pk: int):
    merchant = selectors.merchant_get_for(request.user, pk)
    made = services.windows_schedule(merchant=merchant, actor=request.user)
    if made:
        messages.success(request, _("%(n)d windows set up from the schedule.") % {"n": len(made)})
    else:
        messages.info(request, _("No new window: the schedule's next windows exist already."))
    return redirect("buying:merchant", pk=merchant.pk)


# --- the catalogue --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("buying.manage")
def product_edit(request, pk: int | None = None, merchant_pk: int | None = None):
    user = request.user
    product = selectors.product_get_for(user, pk) if pk is not None else None
    merchant = product.merchant if product else selectors.merchant_get_for(user, merchant_pk)
    initial = None
    if product is not None:
        initial = {
            k: getattr(product, k)
            for k in (
                "name",
                "specification",
                "unit",
                "price",
                "limit",
                "is_bundle",
                "bundle_contents",
                "active",
            )
        }
    form = ProductForm(
        request.POST or None, request.FILES or None, initial=initial, editing=product is not None
    )
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        try:
            product = services.product_save(
                actor=user,
                merchant=merchant,
                product=product,
                photo_file=d.pop("photo", None),
                stock_add=d.pop("stock_add", 0) or 0,
                **d,
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": product.name})
            return redirect("buying:merchant", pk=merchant.pk)
    return render(
        request,
        "buying/staff/product_form.html",
        {"form": form, "product": product, "merchant": merchant},
    )


def photo(request, pk: int, digest: str):
    """Public (the household page has no staff sign-in): the photo for its current hash only,
    so an old or guessed address is a 404 and a current one may be cached for good."""
    thumb = request.GET.get("thumb") == "1"
    etag = f'"{digest}{"-t" if thumb else ""}"'
    current = Product.objects.filter(pk=pk, photo_hash=digest) if digest else None
    if current is None:
        raise Http404
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        if not current.exists():
            raise Http404
        response = HttpResponseNotModified()
    else:
        data = current.values_list("thumb" if thumb else "photo", flat=True).first()
        if not data:
            raise Http404
        response = HttpResponse(bytes(data), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["ETag"] = etag
    return response


# --- windows and orders ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("buying.manage")
def window_new(request, pk: int):
    merchant = selectors.merchant_get_for(request.user, pk)
    form = WindowForm(request.POST or None, initial=WindowForm.defaults())
    if request.method == "POST" and form.is_valid():
        try:
            w = services.window_create(actor=request.user, merchant=merchant, **form.cleaned_data)
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("The order window is set up."))
            return redirect("buying:window", pk=w.pk)
    return render(request, "buying/staff/window_form.html", {"form": form, "merchant": merchant})


@capability_required("buying.order")
def window_detail(request, pk: int):
    user = request.user
    window = selectors.window_get_for(user, pk)
    orders = (
        selectors.orders_for(user)
        .filter(window=window)
        .select_related(
            "household__building__compound", "household__dwelling__unit", "household__head"
        )
        .order_by(
            "status",
            "household__building__compound__name",
            "household__building__name",
            "household__dwelling__door",
            "pk",
        )
    )
    status = request.GET.get("payment")
    if status in Order.Payment.values:
        orders = orders.filter(payment_status=status, status=Order.Status.PLACED)
    summary = (
        selectors.orders_for(user)
        .filter(window=window, status=Order.Status.PLACED)
        .aggregate(
            n=Count("pk"),
            total=Sum("total"),
            paid=Count("pk", filter=Q(payment_status=Order.Payment.PAID)),
        )
    )
    rows = list(orders[:ORDERS_SHOWN])
    lines: dict[int, list] = {}
    for ln in selectors.lines_light().filter(order__in=rows):
        lines.setdefault(ln.order_id, []).append(ln)
    for o in rows:
        o.place = place_of(o.household)
        o.who = mask_name_initial(o.household.head.name) if o.household.head_id else ""
        o.line_list = lines.get(o.pk, [])
    return render(
        request,
        "buying/staff/window.html",
        {
            "window": window,
            "state": window.state(),
            "orders": rows,
            "more": max(summary["n"] - len(rows), 0) if not status else 0,
            "summary": summary,
            "payment_form": PaymentForm(),
            "payment": status or "",
            "picking": selectors.picking_by_product(window),
            **_links(user),
        },
    )


@require_POST
@capability_required("buying.manage")
def window_close(request, pk: int):
    window = selectors.window_get_for(request.user, pk)
    services.window_close(actor=request.user, window=window)
    messages.success(request, _("The window is closed: no more orders or changes."))
    return redirect("buying:window", pk=window.pk)


@require_POST
@capability_required("buying.order")
def order_payment(request, pk: int):
    order = selectors.order_get_for(request.user, pk)
    payment_from_post(request, order)
    return redirect("buying:window", pk=order.window_id)


@require_POST
@capability_required("buying.order")
def order_cancel(request, pk: int):
    order = selectors.order_get_for(request.user, pk)
    try:
        services.order_cancel(order=order, actor=request.user)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("The order is cancelled and its stock given back."))
    return redirect("buying:window", pk=order.window_id)


def _found(user, request) -> tuple[bool, list[Household]]:
    door = (request.GET.get("door") or "").strip()
    q = (request.GET.get("q") or "").strip()
    if not (door or q):
        return False, []
    qs = registry.households_for(user)
    if door:
        ids = list(
            qs.filter(dwelling__door__iexact=door)
            .order_by("building__compound__name", "building__name", "pk")
            .values_list("pk", flat=True)[:60]
        )
    else:
        ids = []
        for r in registry.resident_search(user, q=q, limit=60):
            if r.household_id not in ids:
                ids.append(r.household_id)
    rows = {h.pk: h for h in qs.filter(pk__in=ids).with_place().select_related("head")}
    found = [rows[i] for i in ids if i in rows]
    for h in found:
        h.place = place_of(h)
        h.who = mask_name_initial(h.head.name) if h.head_id else ""
    return True, found


@require_http_methods(["GET", "POST"])
@capability_required("buying.order")
def phone_order(request, pk: int):
    """An elderly caller phones: find the household (door, name or the last digits), type the
    quantities read out, place the order and read back the pickup code."""
    user = request.user
    window = selectors.window_get_for(user, pk)
    searched, found = _found(user, request)
    hh = request.POST.get("household") or request.GET.get("household")
    household = registry.household_get_for(user, hh) if hh else None
    products = list(
        selectors.products_light()
        .filter(merchant=window.merchant, active=True)
        .order_by("position", "pk")
    )
    order = None
    errors: dict = {}
    typed = {}
    if household is not None:
        household.place = place_of(household)
        household.who = mask_name_initial(household.head.name) if household.head_id else ""
        order = (
            Order.objects.filter(window=window, household=household)
            .prefetch_related(Prefetch("lines", queryset=selectors.lines_light()))
            .first()
        )
        if order is not None and order.status == Order.Status.PLACED:
            typed = {ln.product_id: ln.quantity for ln in order.lines.all()}
        if request.method == "POST":
            typed = quantities(request.POST, products)
            try:
                placed = services.order_place(
                    window=window,
                    household=household,
                    lines=typed,
                    channel=Channel.STAFF,
                    actor=user,
                    note=request.POST.get("note", ""),
                )
            except DomainError as e:
                errors = {"__all__": e.message, **e.fields}
            else:
                o = placed.order
                if o.status == Order.Status.CANCELLED:
                    messages.success(request, _("The order is cancelled."))
                else:
                    messages.success(
                        request,
                        _("Order placed. Read out the pickup code: %(c)s (¥%(t)s).")
                        % {"c": o.pickup_code, "t": o.total},
                    )
                return redirect(f"{request.path}?household={household.pk}")
    for p in products:
        p.typed = typed.get(p.pk, "")
        p.error = errors.get(f"product_{p.pk}", "")
    return render(
        request,
        "buying/staff/phone_order.html",
        {
            "window": window,
            "open": window.is_open(),
            "searched": searched,
            "found": found,
            "household": household,
            "order": order,
            "products": products,
            "error": errors.get("__all__", ""),
            "door": request.GET.get("door", ""),
            "q": request.GET.get("q", ""),
        },
    )
