"""My duty, on the phone: my current and next duties with a check-in (and check-out) button, and
my availability (a weekday every week, or one date). A leader checks someone else in from the
roster. The rules are in roster.py."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shouwang.checkpoints import roster
from shouwang.checkpoints.forms import AvailabilityForm, weekday_label
from shouwang.checkpoints.views.roster import _back as roster_back
from shouwang.core.errors import DomainError, Forbidden
from shouwang.core.views import capability_required


def _page(request, form=None):
    user = request.user
    now = timezone.now()
    duties = list(roster.my_duties(user, now=now))
    for d in duties:
        d.can_check_in = roster.can_check_in_now(d, now)
        d.can_check_out = d.checked_in_at is not None and d.checked_out_at is None
        d.now = d.starts_at <= now < d.ends_at
    rows = list(roster.availability_of(user))
    for a in rows:
        a.when = weekday_label(a)
        a.through_midnight = a.ends_at <= a.starts_at
    return render(
        request,
        "checkpoints/duty_mine.html",
        {
            "duties": duties,
            "availability": rows,
            "form": form or AvailabilityForm(),
            "week_hours": roster.hours_this_week(user, now),
            "policy": roster.policy_for(user.community_id),
        },
    )


@capability_required("checkpoints.duty")
def my_duty(request):
    return _page(request)


@require_POST
@capability_required("checkpoints.duty")
def availability_add(request):
    form = AvailabilityForm(request.POST)
    if form.is_valid():
        try:
            roster.availability_add(actor=request.user, user=request.user, **form.cleaned_data)
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("Your availability is saved."))
            return redirect("checkpoints:my_duty")
    return _page(request, form)


@require_POST
@capability_required("checkpoints.duty")
def availability_remove(request, pk: int):
    row = roster.availability_get_for(request.user, pk)
    if row.user_id != request.user.pk:
        raise Forbidden("forbidden", _("This is someone else's availability."))
    roster.availability_remove(actor=request.user, availability=row)
    messages.success(request, _("Removed."))
    return redirect("checkpoints:my_duty")


def _next(request, duty):
    # A leader checking someone in comes from the roster and goes back there.
    if request.POST.get("next") == "roster":
        return redirect(roster_back(duty.shift))
    return redirect("checkpoints:my_duty")


@require_POST
@capability_required("checkpoints.duty")
def check_in(request, pk: int):
    duty = roster.duty_get_for(request.user, pk)
    was = duty.checked_in_at
    try:
        roster.check_in(actor=request.user, duty=duty)
    except Forbidden:
        raise
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        if was is None:
            at = timezone.localtime(duty.checked_in_at).strftime("%H:%M")
            messages.success(request, _("Checked in at %(at)s.") % {"at": at})
    return _next(request, duty)


@require_POST
@capability_required("checkpoints.duty")
def check_out(request, pk: int):
    duty = roster.duty_get_for(request.user, pk)
    try:
        roster.check_out(actor=request.user, duty=duty)
    except Forbidden:
        raise
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("Checked out. Thank you."))
    return _next(request, duty)


urlpatterns = [
    path("checkpoints/my-duty/", my_duty, name="my_duty"),
    path("checkpoints/my-duty/availability/", availability_add, name="availability_add"),
    path(
        "checkpoints/my-duty/availability/<int:pk>/remove/",
        availability_remove,
        name="availability_remove",
    ),
    path("checkpoints/duties/<int:pk>/check-in/", check_in, name="duty_check_in"),
    path("checkpoints/duties/<int:pk>/check-out/", check_out, name="duty_check_out"),
]
