"""Forms over the roster's own rows, shared by the checkpoint pages and the volunteers' profile
(one availability list for gate duty and volunteering)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from shouwang.core.forms import DomainErrors

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
WEEKDAYS = [
    ("", gettext_lazy("— one date instead —")),
    ("0", gettext_lazy("Every Monday")),
    ("1", gettext_lazy("Every Tuesday")),
    ("2", gettext_lazy("Every Wednesday")),
    ("3", gettext_lazy("Every Thursday")),
    ("4", gettext_lazy("Every Friday")),
    ("5", gettext_lazy("Every Saturday")),
    ("6", gettext_lazy("Every Sunday")),
]
WEEKDAY_NAMES = dict(WEEKDAYS)


class AvailabilityForm(DomainErrors, forms.Form):
    """When I can serve: a weekday or one date, from and until."""

    weekday = forms.TypedChoiceField(
        label=gettext_lazy("When"), choices=WEEKDAYS, required=False, coerce=int, empty_value=None
    )
    date = forms.DateField(label=gettext_lazy("Or on"), required=False, widget=DATE)
    starts_at = forms.TimeField(label=gettext_lazy("From"), widget=TIME)
    ends_at = forms.TimeField(
        label=gettext_lazy("Until"),
        widget=TIME,
        help_text=gettext_lazy(
            "Until before from: through midnight (22:00–06:00). The same: all day."
        ),
    )


def weekday_label(a) -> str:
    """An availability row's "when": its weekday's name, or its date."""
    return str(WEEKDAY_NAMES[str(a.weekday)]) if a.date is None else a.date.isoformat()
