"""Forms of the area-control pages. They render and collect; the rules are in services.py and
come back as DomainError fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from shouwang.control.models import Level
from shouwang.core.forms import DomainErrors

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProposalForm(DomainErrors, forms.Form):
    place = forms.ChoiceField(label=pgettext_lazy("area", "Place"))
    level = forms.ChoiceField(label=_("Level"), choices=Level.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_(
            "What happened and who decided, e.g. “2 positives in 3单元, street notice 11-20”."
        ),
    )
    evidence = forms.CharField(
        label=_("Evidence"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Notice numbers, results, calls: what the approver should check."),
    )
    starts_at = forms.DateTimeField(
        label=_("From"), required=False, widget=DATETIME, help_text=_("Empty: when approved.")
    )
    planned_end = forms.DateTimeField(
        label=_("Planned end"),
        required=False,
        widget=DATETIME,
        help_text=_(
            "Empty: 14 days for sealed, close-contact and controlled; none for precaution."
        ),
    )
    expires_at = forms.DateTimeField(
        label=_("Proposal expires"),
        required=False,
        widget=DATETIME,
        help_text=_("Empty: in 24 hours. An expired proposal can no longer be approved."),
    )

    # The service's field names for errors on the "place" select.
    def __init__(self, *args, place_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [("", "—")] + place_choices


class DecisionForm(DomainErrors, forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class HistoryFilter(forms.Form):
    place = forms.ChoiceField(label=pgettext_lazy("area", "Place"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("Until"), required=False, widget=DATE)

    def __init__(self, *args, place_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [("", _("All places"))] + place_choices
