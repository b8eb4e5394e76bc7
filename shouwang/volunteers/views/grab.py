"""The volunteer's list of tasks to grab, on the phone: big buttons, the places left, why a task
cannot be grabbed; grabbing and cancelling a place (back to where the button was, with a
message). The rules are in tasks.py."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shouwang.core.errors import DomainError, Forbidden
from shouwang.core.views import capability_required
from shouwang.volunteers import tasks
from shouwang.volunteers.selectors import active_volunteer, signup_for, task_for, volunteer_of


def _back(request, default="volunteers:open"):
    nxt = request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, request.is_secure()):
        return redirect(nxt)
    return redirect(default)


@capability_required("volunteers.serve")
def open_list(request):
    """Upcoming tasks the volunteer may grab, and their own places. Someone without an active
    profile is told why, with the way to sign up."""
    now = timezone.now()
    volunteer, refusal, views, mine = volunteer_of(request.user), "", [], []
    try:
        volunteer = active_volunteer(request.user)
    except Forbidden as e:
        refusal = e.message
    else:
        views = tasks.open_tasks(volunteer, now)
        mine = tasks.my_signups(volunteer, now)
        for s in mine:
            s.position = tasks.waiting_position(s)
            s.can_cancel = s.status == "waiting" or now <= s.task.cancel_until
    return render(
        request,
        "volunteers/open.html",
        {
            "volunteer": volunteer,
            "refusal": refusal,
            "views": views,
            "mine": mine,
            "grab_block": tasks.grab_block(volunteer, now) if volunteer and not refusal else None,
            "now": now,
        },
    )


@require_POST
@capability_required("volunteers.serve")
def grab(request, pk: int):
    volunteer = active_volunteer(request.user)
    task = task_for(request.user, pk)
    try:
        s = tasks.grab(volunteer=volunteer, task=task)
    except DomainError as e:
        messages.error(request, e.message)
        return _back(request)
    if s.status == "taken":
        messages.success(
            request,
            _("You have a place on “%(task)s”, %(when)s. Come on time!")
            % {
                "task": task.title,
                "when": timezone.localtime(task.starts_at).strftime("%m-%d %H:%M"),
            },
        )
    else:
        messages.warning(
            request,
            _(
                "All places are taken: you are number %(n)s on the waiting list. You get a place "
                "when someone cancels."
            )
            % {"n": tasks.waiting_position(s)},
        )
    return _back(request)


@require_POST
@capability_required("volunteers.serve")
def cancel_signup(request, pk: int):
    signup = signup_for(request.user, pk)
    try:
        tasks.cancel(actor=request.user, signup=signup, reason=request.POST.get("reason", ""))
    except Forbidden:
        raise
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request, _("Cancelled: “%(task)s” is no longer yours.") % {"task": signup.task.title}
        )
    return _back(request)


urlpatterns = [
    path("volunteers/tasks/open/", open_list, name="open"),
    path("volunteers/tasks/<int:pk>/grab/", grab, name="grab"),
    path("volunteers/signups/<int:pk>/cancel/", cancel_signup, name="cancel_signup"),
]
