"""The intake page: a call logged in under 30 seconds.

The operator types the caller's number; the household it belongs to opens (its members listed to
pick whom the request is for); a category button of its group, the urgency, a line of summary,
the owner (the operator by default) and save. Keyboard-first; the page measures how long the
intake took (`intake_seconds`) and carries a `client_key`, so a double submit makes one request.
Without JavaScript the "Find" button reloads the page with the household open; with it, the
household opens as the number is typed (helpline-intake.js and the `lookup` fragment).

Opened from the staff household page with `?household=<id>`: that household is already picked.
"""

from __future__ import annotations

import secrets
import time

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from shouwang.core.errors import DomainError
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required
from shouwang.helpline import intake, selectors
from shouwang.helpline.models import Channel, Group, Urgency
from shouwang.registry.selectors import households_for, residents_for

# Longer than this between opening the form and saving it is not a measured intake.
MAX_INTAKE_SECONDS = 3600


class IntakeForm(DomainErrors, forms.Form):
    caller_phone = forms.CharField(label=gettext_lazy("Caller's phone"), required=False)
    caller_name = forms.CharField(label=gettext_lazy("Caller"), max_length=50, required=False)
    household = forms.IntegerField(required=False)
    resident = forms.IntegerField(required=False)
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"),
        queryset=None,
        error_messages={"required": gettext_lazy("Choose a category.")},
    )
    urgency = forms.TypedChoiceField(
        label=gettext_lazy("Urgency"), choices=Urgency.choices, coerce=int, initial=Urgency.NONE
    )
    summary = forms.CharField(label=gettext_lazy("What they need"), max_length=200)
    details = forms.CharField(
        label=gettext_lazy("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Came in by"), choices=Channel.choices, initial=Channel.PHONE
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("Nobody yet (the shift takes it)"),
    )
    client_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    opened = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, community_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.categories_for(community_id)
        self.fields["owner"].queryset = selectors.duty_users(community_id)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _lookup(user, phone: str, household_id: int | None):
    """(matches, error): the households the number opens, with the one picked by id (from the
    household page, or picked before a refused save) first when it is not among them."""
    matches, error = [], ""
    if phone:
        try:
            matches = intake.households_by_phone(user, phone)
        except DomainError as e:
            error = str(e.message)
    if household_id and household_id not in {m.household.pk for m in matches}:
        picked = intake.household_match(user, household_id)
        if picked is not None:
            matches.insert(0, picked)
    return matches, error


def _groups(form):
    """The categories as buttons under their group's heading."""
    out: dict[str, dict] = {}
    labels = dict(Group.choices)
    for c in form.fields["category"].queryset:
        out.setdefault(c.group, {"key": c.group, "label": labels.get(c.group), "items": []})
        out[c.group]["items"].append(c)
    return list(out.values())


def _picked(matches, household_id, resident_id):
    """What the pick shows checked: the household asked for, else the only one; the resident
    asked for, else the owner of the number."""
    if household_id is None and len(matches) == 1:
        household_id = matches[0].household.pk
    if resident_id is None:
        for m in matches:
            if m.household.pk == household_id and m.resident is not None:
                resident_id = m.resident.pk
    return household_id, resident_id


@require_http_methods(["GET", "POST"])
@capability_required("helpline.take")
def intake_page(request):
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    # "Find" (the page without JavaScript) posts the form to open the household, not to save.
    data = request.POST if request.method == "POST" and not request.POST.get("find") else None
    if data is None:
        on_duty = selectors.duty_users(user.community_id).filter(pk=user.pk).exists()
        initial = {
            "owner": user.pk if on_duty else None,
            "urgency": Urgency.NONE,
            "channel": Channel.PHONE,
            "client_key": secrets.token_urlsafe(18),
            "opened": int(time.time()),
        }
        for key in ("caller_phone", "caller_name", "summary", "details", "channel", "client_key"):
            if source.get(key):
                initial[key] = source[key]
        for key in ("category", "owner", "urgency", "opened"):
            if _int(source.get(key)) is not None:
                initial[key] = _int(source[key])
        form = IntakeForm(initial=initial, community_id=user.community_id)
    else:
        form = IntakeForm(data, community_id=user.community_id)
    household_id = _int(source.get("household"))
    resident_id = _int(source.get("resident"))
    if data is not None and form.is_valid():
        d = form.cleaned_data
        try:
            req = _save(user, d, household_id, resident_id)
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(
                request,
                _("Logged %(ref)s. Read the reference to the caller.") % {"ref": req.reference},
            )
            return redirect(reverse("helpline:request", args=[req.pk]))
    phone = (source.get("caller_phone") or "").strip()
    matches, phone_error = _lookup(user, phone, household_id)
    household_id, resident_id = _picked(matches, household_id, resident_id)
    return render(
        request,
        "helpline/intake.html",
        {
            "form": form,
            "groups": _groups(form),
            "urgencies": Urgency.choices,
            "matches": matches,
            "phone": phone,
            "phone_error": phone_error,
            "picked_household": household_id,
            "picked_resident": resident_id,
            "looked_up": bool(phone),
            "category_value": _int(form["category"].value()),
            "urgency_value": _int(form["urgency"].value()) or Urgency.NONE,
        },
    )


def _save(user, d, household_id, resident_id):
    household = resident = None
    if resident_id:
        resident = residents_for(user).filter(pk=resident_id).select_related("household").first()
        if resident is None:
            raise DomainError("invalid", _("Pick the person again."), fields={"resident": ""})
    if household_id:
        household = households_for(user).filter(pk=household_id).first()
        if household is None:
            raise DomainError("invalid", _("Pick the household again."), fields={"household": ""})
    if resident is not None and household is not None and resident.household_id != household.pk:
        household = resident.household
    opened = d.get("opened")
    seconds = None
    if opened:
        seconds = int(time.time()) - int(opened)
        seconds = seconds if 0 <= seconds <= MAX_INTAKE_SECONDS else None
    return intake.log_request(
        user,
        community_id=user.community_id,
        category=d["category"],
        summary=d["summary"],
        urgency=d["urgency"],
        channel=d["channel"],
        household=household,
        resident=resident,
        caller_name=d.get("caller_name") or "",
        caller_phone=d.get("caller_phone") or "",
        details=d.get("details") or "",
        owner=d.get("owner"),
        client_key=(d.get("client_key") or "")[:64],
        intake_seconds=seconds,
    )


@capability_required("helpline.take")
def lookup(request):
    """The household pick for a number, as the fragment the intake page puts under the phone
    field while the operator types."""
    phone = (request.GET.get("phone") or "").strip()
    matches, error = _lookup(request.user, phone, None)
    household_id, resident_id = _picked(matches, None, None)
    return render(
        request,
        "helpline/_household_pick.html",
        {
            "matches": matches,
            "phone": phone,
            "phone_error": error,
            "picked_household": household_id,
            "picked_resident": resident_id,
            "looked_up": bool(phone),
        },
    )


urlpatterns = [
    path("helpline/new/", intake_page, name="intake"),
    path("helpline/new/lookup/", lookup, name="lookup"),
]
