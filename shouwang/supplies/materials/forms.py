"""Forms of the materials pages. They render and collect; the rules are in services.py and come
back as DomainError fields."""

from __future__ import annotations

import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

from shouwang.core.forms import DomainErrors
from shouwang.supplies.materials.models import Item, Location, Movement, RecipientKind

NUMBER = {"inputmode": "numeric", "pattern": "[0-9]*", "min": "1", "autocomplete": "off"}


class ItemForm(DomainErrors, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    unit = forms.CharField(
        label=_("Unit"), max_length=20, help_text=_("What you count in: pcs, box, bottle …")
    )
    category = forms.ChoiceField(label=_("Category"), choices=Item.Category.choices)
    low_stock_threshold = forms.IntegerField(
        label=_("Alert when the total is at or below"),
        min_value=0,
        initial=0,
        widget=forms.NumberInput(attrs={**NUMBER, "min": "0"}),
    )
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.location_fields = []
        for loc in locations:
            name = f"at_{loc.pk}"
            self.fields[name] = forms.IntegerField(
                label=loc.name,
                min_value=0,
                required=False,
                widget=forms.NumberInput(attrs={**NUMBER, "min": "0"}),
            )
            self.location_fields.append((loc, name))

    def location_thresholds(self) -> dict[int, int | None]:
        return {loc.pk: self.cleaned_data.get(name) for loc, name in self.location_fields}


class LocationForm(DomainErrors, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=Location.Kind.choices)
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)


class MovementForm(DomainErrors, forms.Form):
    """Receipt, issue or transfer. The hidden request key is made when the form is shown, so a
    second press or a resubmitted page posts the same key and counts once."""

    item = forms.ModelChoiceField(label=_("Item"), queryset=Item.objects.none())
    from_location = forms.ModelChoiceField(label=_("From"), queryset=Location.objects.none())
    to_location = forms.ModelChoiceField(label=_("To"), queryset=Location.objects.none())
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        widget=forms.NumberInput(attrs={**NUMBER, "class": "mat-qty"}),
    )
    recipient_kind = forms.ChoiceField(
        label=_("Issued to"), choices=RecipientKind.choices, widget=forms.RadioSelect
    )
    recipient_text = forms.CharField(
        label=_("Who (team, checkpoint or name)"), max_length=100, required=False
    )
    recipient_user = forms.ModelChoiceField(
        label=_("Or a volunteer with an account"), queryset=None, required=False
    )
    reference = forms.CharField(
        label=_("Supplier or donation note"), max_length=200, required=False
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    FIELDS = {
        Movement.Kind.RECEIPT: ("item", "to_location", "quantity", "reference", "note"),
        Movement.Kind.ISSUE: (
            "item",
            "from_location",
            "quantity",
            "recipient_kind",
            "recipient_text",
            "recipient_user",
            "note",
        ),
        Movement.Kind.TRANSFER: ("item", "from_location", "to_location", "quantity", "note"),
    }

    def __init__(self, *args, kind: str, items, locations, users, **kwargs):
        super().__init__(*args, **kwargs)
        keep = set(self.FIELDS[kind]) | {"request_key"}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        self.kind = kind
        self.fields["item"].queryset = items
        self.fields["item"].label_from_instance = lambda i: f"{i.name} ({i.unit})"
        for name in ("from_location", "to_location"):
            if name in self.fields:
                self.fields[name].queryset = locations
        if kind == Movement.Kind.RECEIPT:
            self.fields["to_location"].label = _("Into")
        if kind == Movement.Kind.ISSUE:
            self.fields["from_location"].label = _("Out of")
            self.fields["recipient_user"].queryset = users
            self.fields["recipient_user"].label_from_instance = lambda u: u.label
        if not self.is_bound:
            self.initial.setdefault("request_key", secrets.token_urlsafe(16))


class StockTakeStartForm(forms.Form):
    location = forms.ModelChoiceField(label=_("Place to count"), queryset=Location.objects.none())

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations


class MovementFilterForm(forms.Form):
    item = forms.ModelChoiceField(label=_("Item"), queryset=None, required=False)
    location = forms.ModelChoiceField(label=_("Place"), queryset=None, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("all kinds")), *Movement.Kind.choices], required=False
    )
    recipient_kind = forms.ChoiceField(
        label=_("Issued to"),
        choices=[("", _("anyone")), *RecipientKind.choices],
        required=False,
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(label=_("Recipient, reference or note"), required=False, max_length=100)

    def __init__(self, *args, items, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = items
        self.fields["item"].empty_label = _("all items")
        self.fields["location"].queryset = locations
        self.fields["location"].empty_label = _("all places")
