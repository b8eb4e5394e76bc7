from django import forms
from django.utils.translation import gettext_lazy as _

from shouwang.core.forms import DomainErrors
from shouwang.registry.models import CareTag, Presence, Relation, Residency
from shouwang.registry.validation import IdType


class PersonForm(DomainErrors, forms.Form):
    """Renders and collects the fields; the rules live in services._clean_person."""

    name = forms.CharField(label=_("Name"), max_length=50)
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices)
    id_number = forms.CharField(label=_("ID number"), max_length=40)
    phone = forms.CharField(label=_("Mobile phone"), max_length=30, required=False)
    relation = forms.ChoiceField(label=_("Relation to head"), choices=Relation.choices)
    residency = forms.ChoiceField(label=_("Residency"), choices=Residency.choices)
    presence = forms.ChoiceField(label=_("Presence"), choices=Presence.choices)
    tags = forms.TypedMultipleChoiceField(
        label=_("Care tags"),
        choices=CareTag.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    medicines = forms.CharField(label=_("Medicines"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["tags"] = sum(set(data.get("tags") or []))
        return data


class PersonEditForm(PersonForm):
    """The ID number is not edited here: a wrong ID is corrected by re-import or a new person."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["id_type"]
        del self.fields["id_number"]


class HouseholdForm(PersonForm):
    """A new household at a door, with its head."""

    building = forms.ModelChoiceField(label=_("Building"), queryset=None)
    unit = forms.CharField(label=_("Unit"), max_length=50, required=False)
    door = forms.CharField(label=_("Door"), max_length=50)

    field_order = ["building", "unit", "door"]

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["relation"]
        self.fields["building"].queryset = buildings
        self.fields["building"].label_from_instance = lambda b: f"{b.compound.name} {b.name}"
        self.order_fields(self.field_order)

    def head_data(self) -> dict:
        data = self.service_data()
        for key in ("building", "unit", "door"):
            data.pop(key, None)
        return data
