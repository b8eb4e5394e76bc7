"""Forms of the residents' side kept by staff: the service directory."""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shouwang.residents.cards import MAX_BACK_ENTRIES
from shouwang.residents.models import DirectoryEntry

# Digits with the usual separators and an optional leading +: 021-5555 0101, (021) 55550101,
# +86 139 1234 5678, 12345, 120.
_PHONE = re.compile(r"^\+?[0-9()\- ]+$")
PHONE_MIN_DIGITS = 3  # 110, 120, 119
PHONE_MAX_DIGITS = 20
MAX_DISTANCE_M = 5000


class DirectoryEntryForm(forms.ModelForm):
    class Meta:
        model = DirectoryEntry
        fields = ["kind", "name", "phone", "address", "distance_m", "hours", "on_card", "sort"]
        labels = {
            "kind": _("Kind"),
            "name": _("Name"),
            "phone": _("Phone number"),
            "address": _("Address"),
            "distance_m": _("Distance (metres)"),
            "hours": _("Opening hours"),
            "on_card": _("Print on the cards"),
            "sort": _("Order"),
        }
        help_texts = {
            "distance_m": _(
                "Walking distance from the committee; the card is for places within 1 km (1000 m)."
            ),
            "sort": _("Smaller numbers come first on the card; the committee is always first."),
        }
        widgets = {
            "phone": forms.TextInput(
                attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}
            ),
            "distance_m": forms.NumberInput(
                attrs={"inputmode": "numeric", "min": 0, "max": MAX_DISTANCE_M}
            ),
            "sort": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 999}),
            "name": forms.TextInput(attrs={"autocomplete": "off"}),
            "address": forms.TextInput(attrs={"autocomplete": "off"}),
            "hours": forms.TextInput(attrs={"placeholder": _("e.g. 8:00–20:00")}),
        }
        error_messages = {
            "name": {"required": _("Give the name people will look for (e.g. the pharmacy's).")},
            "phone": {"required": _("Give a phone number: it is what the card is for.")},
            "kind": {"required": _("Choose what kind of place this is.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sort"].required = False
        self.fields["on_card"].help_text = gettext(
            "Only the first %(n)s entries fit on the back of a card."
        ) % {"n": MAX_BACK_ENTRIES}

    @staticmethod
    def _text(value) -> str:
        # Full-width digits, brackets and dashes from a Chinese input method become plain ones.
        return " ".join(unicodedata.normalize("NFKC", value or "").split())

    def clean_name(self):
        name = self._text(self.cleaned_data.get("name"))
        if not name:
            raise forms.ValidationError(self.fields["name"].error_messages["required"])
        return name

    def clean_phone(self):
        phone = self._text(self.cleaned_data.get("phone")).replace("–", "-").replace("—", "-")
        if not phone:
            raise forms.ValidationError(self.fields["phone"].error_messages["required"])
        digits = sum(ch.isdigit() for ch in phone)
        if not _PHONE.match(phone) or "+" in phone[1:]:
            raise forms.ValidationError(
                _(
                    "Type the phone number with digits only, optionally with spaces, dashes, "
                    "brackets and a leading +, e.g. 021-5555 0101."
                )
            )
        if not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS:
            raise forms.ValidationError(
                _("This does not look like a phone number: it has %(n)s digits.") % {"n": digits}
            )
        return phone

    def clean_distance_m(self):
        value = self.cleaned_data.get("distance_m")
        if value is not None and not 0 <= value <= MAX_DISTANCE_M:
            raise forms.ValidationError(
                _("Give the distance in metres, from 0 to %(max)s.") % {"max": MAX_DISTANCE_M}
            )
        return value

    def clean_address(self):
        return self._text(self.cleaned_data.get("address"))

    def clean_hours(self):
        return self._text(self.cleaned_data.get("hours"))

    def clean_sort(self):
        value = self.cleaned_data.get("sort")
        return 0 if value is None else value
