"""Checkpoint pages: the index. Users with checkpoints.dashboard see the dashboard (passages per
checkpoint per hour today, denials by reason, parcels waiting, who is on duty now); guards and
volunteers see their hub of links. (URL patterns in `urlpatterns`.)"""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from shouwang.accounts.permissions import can
from shouwang.checkpoints import dashboard as figures_svc
from shouwang.checkpoints import visitors as desk
from shouwang.core.charts import nice_max
from shouwang.core.views import capability_required


def _links(user) -> dict:
    links = {
        "guard": reverse("checkpoints:guard"),
        "my_duty": reverse("checkpoints:my_duty"),
        "visitors": reverse("checkpoints:visitors"),
        "parcels": reverse("checkpoints:parcels"),
        "parcels_mine": reverse("checkpoints:parcels_mine"),
    }
    if can(user, "checkpoints.paper"):
        links["paper"] = reverse("checkpoints:paper")
    if can(user, "checkpoints.manage"):
        links["gates"] = reverse("checkpoints:gates")
    if can(user, "checkpoints.roster"):
        links["roster"] = reverse("checkpoints:roster")
    return links


CHART_H = 60


def _heat(value: int, peak: int) -> int:
    """0–5: the shade of a cell of the hour table."""
    if not value or not peak:
        return 0
    return min(5, 1 + (value * 5 - 1) // peak)


@never_cache
@capability_required("checkpoints.guard")
def index(request):
    user = request.user
    links = _links(user)
    if not can(user, "checkpoints.dashboard"):
        return render(
            request,
            "checkpoints/index.html",
            {
                "links": links,
                "duty": desk.duty_checkpoint(user),
                "checkpoints": desk.checkpoints_for(user),
            },
        )
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    f = figures_svc.figures(user.community_id, day=day)
    hourly = f["hourly"]
    peak = hourly["max"]
    for r in hourly["rows"]:
        r["cells"] = [(n, _heat(n, peak)) for n in r["counts"]]
    top = nice_max(max(hourly["totals"] or [0]))
    bars = []
    for h, n in enumerate(hourly["totals"]):
        height = round(CHART_H * n / top, 1) if top else 0
        bars.append({"hour": h, "n": n, "x": h * 10 + 1, "y": CHART_H - height, "h": height})
    return render(
        request,
        "checkpoints/dashboard.html",
        {
            "f": f,
            "hourly": hourly,
            "bars": bars,
            "top": top,
            "chart_h": CHART_H,
            "links": links,
            "today": timezone.localdate(),
            "checkpoints": desk.checkpoints_for(user),
        },
    )


urlpatterns = [path("checkpoints/", index, name="index")]
