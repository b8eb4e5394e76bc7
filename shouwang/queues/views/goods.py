"""The goods board for volunteers (add, edit, sold out, remove) and the public photo address."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from shouwang.accounts.scope import get_scoped
from shouwang.core.errors import DomainError
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required
from shouwang.queues import goods as goods_services
from shouwang.queues.images import MAX_UPLOAD_BYTES
from shouwang.queues.models import Goods, SaleDay

CAP = "queue.goods"
# Units a volunteer picks from (and may type another).
UNITS = (
    gettext_lazy("jin"),
    gettext_lazy("kg"),
    gettext_lazy("piece"),
    gettext_lazy("bag"),
    gettext_lazy("box"),
    gettext_lazy("bottle"),
    gettext_lazy("bundle"),
    gettext_lazy("portion"),
)


class GoodsForm(DomainErrors, forms.Form):
    """Renders and collects; the rules (and the photo checks) are in goods.goods_save."""

    name = forms.CharField(label=pgettext_lazy("goods", "Name"), max_length=100)
    price = forms.CharField(
        label=gettext_lazy("Price (yuan)"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    unit = forms.CharField(
        label=pgettext_lazy("goods", "Unit"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"list": "goods-units", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. 2 per household")}),
    )
    photo = forms.FileField(
        label=gettext_lazy("Photo"),
        required=False,
        # capture: a phone opens its back camera at once; a PC shows the file chooser.
        widget=forms.FileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    remove_photo = forms.BooleanField(label=gettext_lazy("Remove the photo"), required=False)


def _day(request, pk) -> SaleDay:
    return get_scoped(request.user, SaleDay.objects.select_related("point"), pk)


def _goods(request, pk) -> Goods:
    return get_scoped(
        request.user, Goods.objects.defer("photo", "thumb").select_related("day__point"), pk
    )


def _back(goods_or_day) -> HttpResponse:
    if isinstance(goods_or_day, Goods):
        url = reverse("queues:goods", args=[goods_or_day.day_id]) + f"#goods-{goods_or_day.pk}"
    else:
        url = reverse("queues:goods", args=[goods_or_day.pk])
    return redirect(url)


def _save(request, form: GoodsForm, day: SaleDay, goods: Goods | None) -> Goods | None:
    if not form.is_valid():
        return None
    d = form.cleaned_data
    try:
        return goods_services.goods_save(
            actor=request.user,
            day=day,
            goods=goods,
            name=d["name"],
            price=d["price"],
            unit=d["unit"],
            note=d["note"],
            photo_file=d["photo"] or None,
            remove_photo=d["remove_photo"],
        )
    except DomainError as e:
        form.add_domain_errors(e)
        return None


def _context(day: SaleDay, **extra) -> dict:
    return {
        "day": day,
        "units": UNITS,
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        **extra,
    }


@require_http_methods(["GET", "POST"])
@capability_required(CAP)
def goods_list(request, pk: int):
    day = _day(request, pk)
    form = GoodsForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        g = _save(request, form, day, None)
        if g is not None:
            messages.success(request, _("%(name)s is on the board.") % {"name": g.name})
            return _back(day)
    items = list(goods_services.goods_for_day(day))
    for g in items:
        g.thumb_url = goods_services.photo_url(g, thumb=True)
    return render(
        request,
        "queues/goods/list.html",
        _context(
            day,
            form=form,
            items=items,
            sold_out=sum(1 for g in items if g.sold_out_at),
        ),
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@capability_required(CAP)
def goods_edit(request, pk: int):
    g = _goods(request, pk)
    day = g.day
    if request.method == "POST" and request.POST.get("move") in ("up", "down"):
        goods_services.goods_move(actor=request.user, goods=g, up=request.POST["move"] == "up")
        return _back(g)
    initial = {"name": g.name, "price": g.price if g.price is not None else "", "unit": g.unit}
    initial["note"] = g.note
    form = GoodsForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        saved = _save(request, form, day, g)
        if saved is not None:
            messages.success(request, _("%(name)s is saved.") % {"name": saved.name})
            return _back(saved)
    return render(
        request,
        "queues/goods/edit.html",
        _context(
            day,
            form=form,
            goods=g,
            photo_url=goods_services.photo_url(g),
            thumb_url=goods_services.photo_url(g, thumb=True),
        ),
        status=400 if form.errors else 200,
    )


@require_POST
@capability_required(CAP)
def goods_sold_out(request, pk: int):
    """`sold_out=1` marks the item sold out, `sold_out=0` back in stock: stating the wanted state
    (not toggling) makes a double tap harmless."""
    g = _goods(request, pk)
    sold_out = request.POST.get("sold_out", "1") != "0"
    goods_services.goods_sold_out(actor=request.user, goods=g, sold_out=sold_out)
    if sold_out:
        messages.success(request, _("%(name)s: sold out.") % {"name": g.name})
    else:
        messages.success(request, _("%(name)s: back in stock.") % {"name": g.name})
    return _back(g)


@require_POST
@capability_required(CAP)
def goods_delete(request, pk: int):
    g = _goods(request, pk)
    goods_services.goods_delete(actor=request.user, goods=g)
    messages.success(request, _("%(name)s is off the board.") % {"name": g.name})
    return _back(g.day)


@require_safe
def photo(request, pk: int, digest: str):
    """Public (the goods board has no login): the photo bytes for its current hash only, so an
    old or guessed address is a 404 and a current one may be cached for a year."""
    thumb = request.GET.get("thumb") == "1"
    etag = f'"{digest}{"-t" if thumb else ""}"'
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "ETag": etag}
    current = Goods.objects.filter(pk=pk, photo_hash=digest) if digest else Goods.objects.none()
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        if not current.exists():
            raise Http404("no such photo")
        response = HttpResponseNotModified()
    else:
        data = current.values_list("thumb" if thumb else "photo", flat=True).first()
        if not data:
            raise Http404("no such photo")
        response = HttpResponse(bytes(data), content_type="image/jpeg")
    for k, v in headers.items():
        response[k] = v
    return response
