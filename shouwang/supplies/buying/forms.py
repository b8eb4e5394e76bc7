"""Forms of group buying's staff pages. They render and collect; the rules are in services.py
and come back as DomainError fields."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.core.forms import DomainErrors, area_checks
from shouwang.supplies.buying.models import Order

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _when(label) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )


class MerchantForm(DomainErrors, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    contact_name = forms.CharField(label=_("Contact person"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    vetted = forms.BooleanField(
        label=_("Vetted by the committee (licence, health certificates, prices)"), required=False
    )
    active = forms.BooleanField(label=_("Active (takes orders)"), required=False, initial=True)
    compounds = area_checks(_("Compounds served"))
    grids = area_checks(_("Grids served"))
    buildings = area_checks(_("Buildings served"))
    every_days = forms.IntegerField(
        label=_("A window every N days (0: no schedule)"), min_value=0, max_value=30, initial=2
    )
    opens_time = forms.TimeField(
        label=_("Windows open at"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        initial=dt.time(8, 0),
    )
    closes_time = forms.TimeField(
        label=_("Windows close at"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        initial=dt.time(20, 0),
    )
    delivery_days = forms.IntegerField(
        label=_("Delivered N days after the window"), min_value=0, max_value=7, initial=1
    )
    rest_minutes = forms.IntegerField(
        label=_("Rest after disinfection, minutes (Hohhot: 2 hours)"),
        min_value=0,
        max_value=24 * 60,
        initial=120,
    )

    def __init__(self, *args, compounds, buildings, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compounds"].queryset = compounds
        self.fields["buildings"].queryset = buildings
        self.fields["buildings"].label_from_instance = lambda b: f"{b.compound.name} {b.name}"
        self.fields["grids"].queryset = grids

    @staticmethod
    def initial_for(m) -> dict:
        areas = ("compounds", "buildings", "grids")
        return {
            # Every other field of the form is the merchant's field of the same name.
            **{k: getattr(m, k) for k in MerchantForm.base_fields if k not in areas},
            "compounds": list(m.compounds.all()),
            "buildings": list(m.buildings.all()),
            "grids": list(m.grids.all()),
        }


class MemberForm(forms.Form):
    user = forms.ModelChoiceField(label=_("User with the merchant role"), queryset=None)

    def __init__(self, *args, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users


class ProductForm(DomainErrors, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    specification = forms.CharField(
        label=_("Specification (e.g. 500 g, 30 eggs a box)"), max_length=100, required=False
    )
    unit = forms.CharField(label=_("Unit (jin, box, bag …)"), max_length=20, required=False)
    price = forms.CharField(label=_("Unit price (yuan)"), max_length=20)
    stock = forms.IntegerField(label=_("Stock"), min_value=0, max_value=1_000_000, initial=0)
    stock_add = forms.IntegerField(
        label=_("Add to the stock (negative to take off)"), required=False, initial=0
    )
    limit = forms.IntegerField(
        label=_("Limit per household (0: none)"), min_value=0, max_value=999, initial=0
    )
    is_bundle = forms.BooleanField(label=_("A bundle (e.g. a vegetable box)"), required=False)
    bundle_contents = forms.CharField(
        label=_("What is in the bundle"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    active = forms.BooleanField(label=_("On sale"), required=False, initial=True)
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    remove_photo = forms.BooleanField(label=_("Remove the photo"), required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["stock"]
        else:
            del self.fields["stock_add"]
            del self.fields["remove_photo"]


class WindowForm(DomainErrors, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100, required=False)
    opens_at = _when(_("Orders from"))
    closes_at = _when(_("Orders until"))
    delivery_date = forms.DateField(
        label=_("Expected delivery"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    @staticmethod
    def defaults() -> dict:
        now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        return {
            "opens_at": now,
            "closes_at": now + dt.timedelta(hours=12),
            "delivery_date": now.date() + dt.timedelta(days=1),
        }


class PaymentForm(forms.Form):
    payment_status = forms.ChoiceField(label=_("Paid?"), choices=Order.Payment.choices)
    payment_method = forms.ChoiceField(label=_("How"), choices=Order.Method.choices)


def quantities(data, products=None) -> dict[int, str]:
    """{product id: the quantity typed} from fields named q_<product id> (of `products`, or
    every such field: the service checks that each product is the window's)."""
    if products is None:
        keys = [k[2:] for k in data if k.startswith("q_") and k[2:].isdigit()]
        return {int(k): (data.get(f"q_{k}") or "0").strip() or "0" for k in keys[:200]}
    return {p.pk: (data.get(f"q_{p.pk}") or "0").strip() or "0" for p in products}
