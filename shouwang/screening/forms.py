"""Forms of the rounds, points, results and visit-list pages. They render and collect; the rules
are in services.py, results.py and visits.py and come back as DomainError fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shouwang.control import levels
from shouwang.control.models import ACTIVE_LEVELS
from shouwang.core.forms import DomainErrors, area_checks
from shouwang.screening.models import (
    PointKind,
    PriorityLane,
    RoundKind,
    TubeResult,
    Visit,
    VisitReason,
)
from shouwang.screening.visits import MADE_BY_HAND

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _people_checks(label):
    return forms.ModelMultipleChoiceField(
        label=label, queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )


class RoundForm(DomainErrors, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RoundKind.choices)
    number = forms.IntegerField(label=_("Round number"), min_value=1)
    date = forms.DateField(label=_("Date"), widget=DATE)
    starts_at = forms.TimeField(label=_("From"), widget=TIME)
    ends_at = forms.TimeField(label=_("Until"), widget=TIME)
    pool_size = forms.IntegerField(
        label=_("People per pooled tube"), min_value=1, max_value=50, initial=10
    )
    compounds = area_checks(_("Compounds"))
    grids = area_checks(_("Grids"))
    buildings = area_checks(_("Buildings"))
    control_levels = forms.MultipleChoiceField(
        label=_("Only places under these control levels"),
        choices=[(level.value, level.label) for level in ACTIVE_LEVELS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    points = area_checks(_("Sampling points"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, compounds, buildings, grids, points, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compounds"].queryset = compounds
        self.fields["buildings"].queryset = buildings
        self.fields["buildings"].label_from_instance = lambda b: f"{b.compound.name} {b.name}"
        self.fields["grids"].queryset = grids
        self.fields["points"].queryset = points

    @staticmethod
    def initial_for(rnd) -> dict:
        return {
            "kind": rnd.kind,
            "number": rnd.number,
            "date": rnd.date,
            "starts_at": rnd.starts_at,
            "ends_at": rnd.ends_at,
            "pool_size": rnd.pool_size,
            "compounds": list(rnd.compounds.all()),
            "buildings": list(rnd.buildings.all()),
            "grids": list(rnd.grids.all()),
            "control_levels": list(levels.parse(rnd.control_levels)),
            "points": list(rnd.points.all()),
            "note": rnd.note,
        }

    def service_fields(self) -> dict:
        d = self.cleaned_data
        return {
            k: (d[k] or [])
            if k in ("compounds", "buildings", "grids", "control_levels", "points")
            else d[k]
            for k in (
                "kind",
                "number",
                "date",
                "starts_at",
                "ends_at",
                "pool_size",
                "compounds",
                "buildings",
                "grids",
                "control_levels",
                "points",
                "note",
            )
        }


class PointForm(DomainErrors, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=PointKind.choices)
    place = forms.CharField(label=_("Where"), max_length=200, required=False)
    opens_at = forms.TimeField(label=_("Opens"), widget=TIME)
    closes_at = forms.TimeField(label=_("Closes"), widget=TIME)
    staff = _people_checks(_("Staff"))
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff
        self.fields["staff"].label_from_instance = lambda u: u.display_name or u.username

    @staticmethod
    def initial_for(p) -> dict:
        return {
            "name": p.name,
            "kind": p.kind,
            "place": p.place,
            "opens_at": p.opens_at,
            "closes_at": p.closes_at,
            "staff": list(p.staff.all()),
            "active": p.active,
            "note": p.note,
        }


class LaneForm(DomainErrors, forms.Form):
    kind = forms.ChoiceField(label=_("For"), choices=PriorityLane.Kind.choices)
    starts_at = forms.TimeField(label=_("From"), widget=TIME)
    ends_at = forms.TimeField(label=_("Until"), widget=TIME)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("The lab's file (.xlsx or .csv)"))


class TubeResultForm(DomainErrors, forms.Form):
    result = forms.ChoiceField(
        label=_("Result"),
        choices=[c for c in TubeResult.choices if c[0] != TubeResult.PENDING],
        widget=forms.RadioSelect,
    )
    ct_value = forms.DecimalField(
        label=_("Ct value"), required=False, min_value=0, max_value=99.99, decimal_places=2
    )


class VisitListForm(DomainErrors, forms.Form):
    reason = forms.ChoiceField(
        label=_("Who to visit"),
        choices=[(r.value, r.label) for r in VisitReason if r in MADE_BY_HAND],
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("Name of the list"), max_length=100, required=False)
    team = forms.CharField(label=_("Team"), max_length=100, required=False)
    assignees = _people_checks(_("Assigned to"))
    households = forms.CharField(
        label=_("Households that asked (one per line: building and door, e.g. 3号楼 301)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignees"].queryset = people
        self.fields["assignees"].label_from_instance = lambda u: u.display_name or u.username


class AssignForm(DomainErrors, forms.Form):
    team = forms.CharField(label=_("Team"), max_length=100, required=False)
    assignees = _people_checks(_("Assigned to"))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignees"].queryset = people
        self.fields["assignees"].label_from_instance = lambda u: u.display_name or u.username


class VisitRecordForm(forms.Form):
    status = forms.ChoiceField(choices=Visit.Status.choices)
    note = forms.CharField(max_length=200, required=False)
