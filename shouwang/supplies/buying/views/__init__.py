"""Group buying's pages. What the staff's and the merchant's pages share is here."""

from django.contrib import messages
from django.utils.translation import gettext as _

from shouwang.core.errors import DomainError
from shouwang.supplies.buying import services
from shouwang.supplies.buying.forms import PaymentForm


def payment_from_post(request, order) -> None:
    """Record the order's payment from the posted form (the office's order list and the
    merchant's, same form, same rule), with the message to show."""
    form = PaymentForm(request.POST)
    if not form.is_valid():
        return
    try:
        services.payment_record(
            actor=request.user,
            order=order,
            status=form.cleaned_data["payment_status"],
            method=form.cleaned_data["payment_method"],
        )
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Payment recorded for %(c)s.") % {"c": order.pickup_code})
