"""The day's goods board: volunteers post items with a photo, price and unit, and mark them sold
out; residents see the board before they come.

Every change is one transaction with its audit row and a bump of the day's version, so the
public pages and streams pick it up with the next snapshot.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core import cleaning
from shouwang.core.audit import audit, signed_in
from shouwang.core.errors import DomainError, invalid
from shouwang.queues import services
from shouwang.queues.images import photo_process
from shouwang.queues.models import Goods, SaleDay

MAX_GOODS_PER_DAY = 100


def photo_url(goods: Goods, *, thumb: bool = False) -> str:
    """The photo's public address; it changes with the photo, so browsers cache it for good."""
    if not goods.photo_hash:
        return ""
    url = reverse("queues:photo", args=[goods.pk, goods.photo_hash])
    return url + "?thumb=1" if thumb else url


def goods_save(
    *,
    actor,
    day: SaleDay,
    goods: Goods | None = None,
    name: str,
    price=None,
    unit: str = "",
    note: str = "",
    photo_file=None,
    remove_photo: bool = False,
) -> Goods:
    """Add an item to the day's board, or change one. A new photo replaces the old one."""
    if goods is not None and goods.day_id != day.pk:
        raise DomainError("wrong_day", _("This item belongs to another sale day."))
    name = cleaning.line(name, "name", 100)
    if not name:
        raise invalid("name", _("Give the item a name, e.g. Chinese cabbage."))
    fields = {
        "name": name,
        "price": cleaning.price(price),
        "unit": cleaning.line(unit, "unit", 20),
        "note": cleaning.line(note, "note", 200),
    }
    # The image work (a second or so for a big phone photo) happens before the transaction, so
    # it holds no lock.
    photo = photo_process(photo_file) if photo_file is not None else None
    created = goods is None
    with transaction.atomic():
        d = SaleDay.objects.select_for_update().get(pk=day.pk)
        if created:
            count = Goods.objects.filter(day=d).count()
            if count >= MAX_GOODS_PER_DAY:
                raise DomainError(
                    "too_many_goods",
                    _("A day's board holds at most %(n)d items. Remove some first.")
                    % {"n": MAX_GOODS_PER_DAY},
                )
            top = Goods.objects.filter(day=d).aggregate(m=Max("position"))["m"]
            goods = Goods(
                community_id=d.community_id,
                day=d,
                created_by=signed_in(actor),
                position=0 if top is None else top + 1,
            )
        for k, v in fields.items():
            setattr(goods, k, v)
        if photo is not None:
            goods.photo, goods.thumb, goods.photo_hash = photo.photo, photo.thumb, photo.photo_hash
        elif remove_photo:
            goods.photo, goods.thumb, goods.photo_hash = None, None, ""
        if created:
            goods.save()
        else:
            update = [*fields]
            if photo is not None or remove_photo:
                update += ["photo", "thumb", "photo_hash"]
            goods.save(update_fields=update)
        summary = name
        if photo is not None:
            summary += f" (photo {photo.photo_hash})"
        elif remove_photo:
            summary += " (photo removed)"
        audit(
            actor=actor,
            action="queue.goods." + ("create" if created else "update"),
            community=d.community_id,
            target=goods,
            summary=summary,
        )
        services.bump(d)
    return goods


def goods_sold_out(*, actor, goods: Goods, sold_out: bool = True) -> Goods:
    """Mark an item sold out (the time is kept for the report) or back in stock. Pressing twice
    changes nothing the second time."""
    now = timezone.now()
    with transaction.atomic():
        d = SaleDay.objects.select_for_update().get(pk=goods.day_id)
        if sold_out:
            changed = Goods.objects.filter(pk=goods.pk, sold_out_at__isnull=True).update(
                sold_out_at=now
            )
        else:
            changed = Goods.objects.filter(pk=goods.pk, sold_out_at__isnull=False).update(
                sold_out_at=None
            )
        if changed:
            audit(
                actor=actor,
                action="queue.goods." + ("sold_out" if sold_out else "in_stock"),
                community=d.community_id,
                target=goods,
                summary=goods.name,
            )
            services.bump(d)
    goods.refresh_from_db(fields=["sold_out_at"])
    return goods


def goods_delete(*, actor, goods: Goods) -> None:
    with transaction.atomic():
        d = SaleDay.objects.select_for_update().get(pk=goods.day_id)
        audit(
            actor=actor,
            action="queue.goods.delete",
            community=d.community_id,
            target=goods,
            summary=goods.name,
        )
        Goods.objects.filter(pk=goods.pk).delete()
        services.bump(d)


def goods_move(*, actor, goods: Goods, up: bool) -> Goods:
    """Move an item one place up or down the board."""
    with transaction.atomic():
        d = SaleDay.objects.select_for_update().get(pk=goods.day_id)
        items = list(Goods.objects.filter(day=d).order_by("position", "pk").only("pk", "position"))
        i = next((n for n, g in enumerate(items) if g.pk == goods.pk), None)
        j = None if i is None else (i - 1 if up else i + 1)
        if i is None or j is None or not 0 <= j < len(items):
            return goods
        items[i], items[j] = items[j], items[i]
        for n, g in enumerate(items):
            g.position = n
        Goods.objects.bulk_update(items, ["position"])
        audit(
            actor=actor,
            action="queue.goods.move",
            community=d.community_id,
            target=goods,
            summary=f"{goods.name} {'up' if up else 'down'}",
        )
        services.bump(d)
    goods.refresh_from_db(fields=["position"])
    return goods


def goods_for_day(day: SaleDay):
    """The board in order, without the photo bytes (the pages link to the photo URL)."""
    return Goods.objects.filter(day=day).defer("photo", "thumb").order_by("position", "pk")
