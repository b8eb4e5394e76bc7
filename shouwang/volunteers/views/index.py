"""/volunteers/: the staff's overview of today (sign-ups waiting for approval, today's tasks and
shifts with filled/needed and checked-in, who is checked in now, the four figures the seeds
report); everyone else goes to their own volunteer page."""

from __future__ import annotations

from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from shouwang.accounts.permissions import can
from shouwang.core.views import capability_required
from shouwang.volunteers.models import Signup, SignupStatus, Volunteer, VolunteerStatus
from shouwang.volunteers.views.tasks import tasks_between


@capability_required("volunteers.serve")
def index(request):
    user = request.user
    if not can(user, "volunteers.view"):
        return redirect("volunteers:me")
    from shouwang.volunteers import stats

    today = timezone.localdate()
    community_id = user.community_id
    todays = list(tasks_between(user, today, today))
    live = [t for t in todays if t.cancelled_at is None]
    checked_in = list(
        Signup.objects.filter(
            community_id=community_id,
            status=SignupStatus.TAKEN,
            checked_in_at__isnull=False,
            checked_out_at__isnull=True,
        )
        .select_related("volunteer", "task")
        .order_by("checked_in_at", "pk")[:100]
    )
    counts = {
        row["status"]: row["n"]
        for row in Volunteer.objects.filter(community_id=community_id)
        .values("status")
        .annotate(n=Count("pk"))
    }
    return render(
        request,
        "volunteers/index.html",
        {
            "today": today,
            "now": timezone.now(),
            "tasks": todays,
            "needed": sum(t.places for t in live),
            "filled": sum(t.taken for t in live),
            "arrived": sum(t.n_in for t in live),
            "short": sum(1 for t in live if t.taken < t.places),
            "checked_in": checked_in,
            "pending": counts.get(VolunteerStatus.PENDING, 0),
            "active": counts.get(VolunteerStatus.ACTIVE, 0),
            "summary": stats.summary(community_id),
            "can_manage": can(user, "volunteers.manage"),
        },
    )


urlpatterns = [path("volunteers/", index, name="index")]
