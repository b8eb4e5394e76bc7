"""Forms of the queue's staff pages. They render and collect; the rules are in services.py
(day_check, point_save, ticket_take) and come back as DomainError fields."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.core.forms import DomainErrors, area_checks
from shouwang.queues import services
from shouwang.queues.models import Notify, QueuePoint, SaleDay

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _when(label, *, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )


class PointForm(DomainErrors, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=QueuePoint.Kind.choices)
    location = forms.CharField(
        label=_("Where (printed on tickets and the poster)"), max_length=200, required=False
    )
    compounds = area_checks(_("Compounds served"))
    buildings = area_checks(_("Buildings served"))
    grids = area_checks(_("Grids served"))
    active = forms.BooleanField(label=_("Open (hands out numbers)"), required=False, initial=True)

    def __init__(self, *args, compounds, buildings, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compounds"].queryset = compounds
        self.fields["buildings"].queryset = buildings
        self.fields["buildings"].label_from_instance = lambda b: f"{b.compound.name} {b.name}"
        self.fields["grids"].queryset = grids

    @staticmethod
    def initial_for(point: QueuePoint) -> dict:
        return {
            "name": point.name,
            "kind": point.kind,
            "location": point.location,
            "compounds": list(point.compounds.all()),
            "buildings": list(point.buildings.all()),
            "grids": list(point.grids.all()),
            "active": point.active,
        }


# The day's settings the form edits, in the order it shows them (the date is not asked: it is
# the sale's local date).
DAY_FORM_FIELDS = services.DAY_FIELDS


class DayForm(DomainErrors, forms.Form):
    point = forms.ModelChoiceField(label=_("Point"), queryset=None)
    title = forms.CharField(label=_("What is on sale"), max_length=100, required=False)
    take_opens_at = _when(_("Tickets from"))
    take_closes_at = _when(_("Tickets until"))
    sale_starts_at = _when(_("Sale starts"))
    sale_ends_at = _when(_("Sale ends"))
    tickets_total = forms.IntegerField(label=_("Number of tickets"), min_value=1, max_value=100_000)
    per_household = forms.IntegerField(
        label=_("Tickets per household"), min_value=1, max_value=10, initial=1
    )
    come_when = forms.IntegerField(
        label=_("Tell them to come when this many are ahead"),
        min_value=1,
        max_value=200,
        initial=10,
    )
    mode = forms.ChoiceField(
        label=_("Order"),
        choices=SaleDay.Mode.choices,
        initial=SaleDay.Mode.FIRST_COME,
        widget=forms.RadioSelect,
    )
    draw_at = _when(_("Draw at (registration closes)"), required=False)
    skip_policy = forms.ChoiceField(
        label=_("No-shows"),
        choices=SaleDay.SkipPolicy.choices,
        initial=SaleDay.SkipPolicy.REQUEUE,
        widget=forms.RadioSelect,
    )
    grace_seconds = forms.IntegerField(
        label=_("Grace time before a no-show (seconds)"),
        min_value=0,
        max_value=3600,
        initial=180,
    )
    expected_service_seconds = forms.IntegerField(
        label=_("Expected seconds per customer"), min_value=5, max_value=3600, initial=60
    )

    def __init__(self, *args, points, day: SaleDay | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].queryset = points
        if day is not None:
            # A day stays at its point; what changes is its settings.
            del self.fields["point"]
            if day.started:
                # services.day_update refuses these once people have asked for tickets.
                self.fields["mode"].disabled = True
                self.fields["draw_at"].disabled = True

    def service_fields(self) -> dict:
        d = self.cleaned_data
        return {k: d[k] for k in DAY_FORM_FIELDS if k in d and not self.fields[k].disabled}

    @staticmethod
    def initial_for(day: SaleDay) -> dict:
        return {k: getattr(day, k) for k in DAY_FORM_FIELDS}

    @staticmethod
    def defaults(now=None) -> dict:
        """Tickets from now until the sale ends; the sale today 09:00–11:00, or tomorrow once
        today's 09:00 has passed."""
        now = timezone.localtime(now or timezone.now()).replace(second=0, microsecond=0)
        start = now.replace(hour=9, minute=0)
        if now >= start:
            start += dt.timedelta(days=1)
        end = start + dt.timedelta(hours=2)
        # A draw the evening before, or halfway to the sale when that evening has passed.
        draw = start.replace(hour=20) - dt.timedelta(days=1)
        if draw <= now:
            draw = now + (start - now) / 2
            draw = draw.replace(second=0, microsecond=0)
        return {
            "take_opens_at": now,
            "take_closes_at": end,
            "sale_starts_at": start,
            "sale_ends_at": end,
            "draw_at": draw,
            # What one counter serves in the sale hours at the expected pace.
            "tickets_total": int((end - start).total_seconds() // 60),
            "per_household": 1,
            "come_when": 10,
            "grace_seconds": 180,
            "expected_service_seconds": 60,
            "mode": SaleDay.Mode.FIRST_COME,
            "skip_policy": SaleDay.SkipPolicy.REQUEUE,
        }


class FindHouseholdForm(forms.Form):
    """Phone-in: find the household by building and door, or by name / last four digits."""

    building = forms.ModelChoiceField(label=_("Building"), queryset=None, required=False)
    door = forms.CharField(label=_("Door"), max_length=50, required=False)
    q = forms.CharField(
        label=_("or name, last 4 digits of ID or phone"), max_length=50, required=False
    )

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings
        self.fields["building"].label_from_instance = lambda b: f"{b.compound.name} {b.name}"
        self.fields["building"].empty_label = "—"

    def searched(self) -> bool:
        d = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return bool(d.get("building") or d.get("door") or d.get("q"))


class IssueForm(DomainErrors, forms.Form):
    """How to tell the household to come. Staff-facing labels for services' Notify choices."""

    NOTIFY_CHOICES = [
        (Notify.SMS, _("Text message to a mobile phone")),
        (Notify.KNOCK, _("The grid leader rings or knocks")),
        (Notify.PAGE, _("They watch the ticket page themselves")),
    ]

    household = forms.IntegerField(widget=forms.HiddenInput)
    notify = forms.ChoiceField(
        label=_("How do we tell them to come?"),
        choices=NOTIFY_CHOICES,
        initial=Notify.KNOCK,
        widget=forms.RadioSelect,
    )
    sms_phone = forms.CharField(
        label=_("Mobile number for the text message"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
