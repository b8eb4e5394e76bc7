"""Builders for the buying tests (plain functions, as shouwang/core/testing.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shouwang.supplies.buying.models import Merchant, MerchantMember, OrderWindow, Product

HOUR = dt.timedelta(hours=1)


def make_merchant(community, *, name="松林超市", compounds=(), buildings=(), grids=(), **kw):
    m = Merchant.objects.create(
        community=community, name=name, vetted=True, vetted_on=timezone.localdate(), **kw
    )
    m.compounds.set(compounds)
    m.buildings.set(buildings)
    m.grids.set(grids)
    return m


def make_product(merchant, *, name="白菜", price="2.50", stock=100, limit=0, **kw) -> Product:
    n = Product.objects.filter(merchant=merchant).count()
    return Product.objects.create(
        community_id=merchant.community_id,
        merchant=merchant,
        name=name,
        price=price,
        stock=stock,
        limit=limit,
        unit=kw.pop("unit", "份"),
        position=n,
        **kw,
    )


def make_window(merchant, *, now=None, opened=HOUR, closes=4 * HOUR, **kw) -> OrderWindow:
    """A window open now (opened an hour ago, closes in four hours) unless told otherwise."""
    now = now or timezone.now()
    return OrderWindow.objects.create(
        community_id=merchant.community_id,
        merchant=merchant,
        title=kw.pop("title", f"{merchant.name} 团购"),
        opens_at=now - opened,
        closes_at=now + closes,
        delivery_date=timezone.localdate(now) + dt.timedelta(days=1),
        **kw,
    )


def link(user, merchant) -> MerchantMember:
    return MerchantMember.objects.create(user=user, merchant=merchant)


def close(window) -> OrderWindow:
    """Put the window's close in the past (as time passing does)."""
    now = timezone.now()
    OrderWindow.objects.filter(pk=window.pk).update(opens_at=now - 5 * HOUR, closes_at=now - HOUR)
    window.refresh_from_db()
    return window
