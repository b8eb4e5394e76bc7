"""Typed-in values every module cleans the same way: a price in yuan and a short line of text.

Each refusal is a DomainError("invalid") naming the field, in the user's language."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from shouwang.core.errors import invalid

MAX_PRICE = Decimal("999999.99")


def price(value, *, required: bool = False) -> Decimal | None:
    """Yuan to the fen ("¥3.5" -> 3.50); None for an empty optional price."""
    if value is None or value == "":
        if not required:
            return None
        value = ""
    try:
        amount = Decimal(str(value).strip().replace("¥", "").replace("￥", ""))
    except InvalidOperation:
        raise invalid("price", _("Type the price in yuan as a number, e.g. 3.50.")) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_PRICE:
        raise invalid("price", _("The price must be between 0 and 999,999.99 yuan."))
    return amount.quantize(Decimal("0.01"))


def line(value, field: str, limit: int) -> str:
    """One line of text with its spaces collapsed, at most `limit` characters."""
    text = " ".join(str(value or "").split())
    if len(text) > limit:
        raise invalid(
            field,
            _("At most %(n)d characters here (this has %(m)d).") % {"n": limit, "m": len(text)},
        )
    return text
