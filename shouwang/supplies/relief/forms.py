"""Forms of relief's pages. They render and collect; the rules are in services.py and come back
as DomainError fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shouwang.control import levels
from shouwang.control.models import ACTIVE_LEVELS
from shouwang.core.forms import DomainErrors, area_checks
from shouwang.registry.models import CareTag
from shouwang.supplies.relief.models import ReliefAllocation, ReliefBatch, Scope

# Care tags offered for extra portions first; every tag can carry extras.
EXTRA_TAGS_FIRST = (CareTag.INFANT, CareTag.AGE_80, CareTag.PREGNANT, CareTag.BEDRIDDEN)


class BatchForm(DomainErrors, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    contents = forms.CharField(
        label=_("Contents of one portion (one item per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    portions_available = forms.IntegerField(label=_("Portions available"), min_value=0)
    per_household = forms.IntegerField(
        label=_("Portions per household"), min_value=1, max_value=20, initial=1
    )
    large_threshold = forms.IntegerField(
        label=_("Large household from (people)"), min_value=1, max_value=50
    )
    large_portions = forms.IntegerField(
        label=_("Portions for a large household"), min_value=1, max_value=20, initial=2
    )
    scope = forms.ChoiceField(
        label=_("Who gets it"), choices=Scope.choices, widget=forms.RadioSelect
    )
    compounds = area_checks(_("Compounds"))
    grids = area_checks(_("Grids"))
    control_levels = forms.MultipleChoiceField(
        label=_("Control levels"),
        choices=[(level.value, level.label) for level in ACTIVE_LEVELS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, compounds, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compounds"].queryset = compounds
        self.fields["grids"].queryset = grids
        ordered = list(EXTRA_TAGS_FIRST) + [t for t in CareTag if t not in EXTRA_TAGS_FIRST]
        for tag in ordered:
            self.fields[f"extra_{tag.value}"] = forms.IntegerField(
                label=tag.label, min_value=0, max_value=20, initial=0, required=False
            )

    @property
    def extra_fields(self):
        return [self[name] for name in self.fields if name.startswith("extra_")]

    @staticmethod
    def initial_for(batch: ReliefBatch) -> dict:
        data = {
            "title": batch.title,
            "contents": batch.contents,
            "portions_available": batch.portions_available,
            "per_household": batch.per_household,
            "large_threshold": batch.large_threshold,
            "large_portions": batch.large_portions,
            "scope": batch.scope,
            "compounds": list(batch.compounds.all()),
            "grids": list(batch.grids.all()),
            "control_levels": list(levels.parse(batch.control_levels)),
        }
        for tag, extra in batch.extras().items():
            data[f"extra_{tag}"] = extra
        return data

    def service_fields(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "contents": d["contents"],
            "portions_available": d["portions_available"],
            "per_household": d["per_household"],
            "large_threshold": d["large_threshold"],
            "large_portions": d["large_portions"],
            "scope": d["scope"],
            "compounds": d["compounds"] or [],
            "grids": d["grids"] or [],
            "control_levels": d["control_levels"] or [],
            "tag_extras": {
                name.removeprefix("extra_"): d[name]
                for name in self.fields
                if name.startswith("extra_") and d.get(name)
            },
        }


class RecordForm(forms.Form):
    status = forms.ChoiceField(choices=ReliefAllocation.Status.choices)
    note = forms.CharField(max_length=200, required=False)


class FollowUpForm(forms.Form):
    follow_up = forms.CharField(label=_("Follow-up"), max_length=300, required=False)
