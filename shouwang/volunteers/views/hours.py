"""Hours and recognition pages: the leaderboard (by hours, volunteers may hide themselves), the
staff's stats (the seeds' four figures, per team, per day, the export), a volunteer's printable
certificate for staff, and the leaders' check-in, check-out and correction buttons of the task
page. The rules are in checkin.py and stats.py."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouwang.core.charts import nice_max, tick_label
from shouwang.core.errors import DomainError, Forbidden
from shouwang.core.views import capability_required
from shouwang.volunteers import checkin, stats
from shouwang.volunteers.selectors import signup_for, teams_for, volunteer_for, volunteer_of

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The per-day chart draws at most this many days (a longer period is still counted).
CHART_DAYS = 92


class PeriodForm(forms.Form):
    first = forms.DateField(label=gettext_lazy("From"), required=False, widget=DATE)
    last = forms.DateField(label=gettext_lazy("Until"), required=False, widget=DATE)
    team = forms.TypedChoiceField(
        label=gettext_lazy("Team"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [
            ("", _("All teams")),
            *[(t.pk, t.name) for t in teams],
            (0, _("Open to all")),
        ]

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first and last and last < first:
            self.add_error("last", _("“Until” must be on or after “From”."))
        return data


def _period(request, community_id):
    teams = list(teams_for(community_id, active_only=False))
    form = PeriodForm(request.GET or None, teams=teams)
    first = last = team_id = None
    if form.is_bound and form.is_valid():
        first, last, team_id = (form.cleaned_data[k] for k in ("first", "last", "team"))
    return form, first, last, team_id


def _chart(days: list) -> dict | None:
    if not days:
        return None
    days = days[-CHART_DAYS:]
    # A narrow drawing: on a 360 px phone its 12 px labels stay readable.
    width, height, pad_l, pad_b, pad_t = 400, 190, 30, 22, 8
    top = nice_max(float(max(d.hours for d in days)) or 1)
    inner_w, inner_h = width - pad_l - 4, height - pad_b - pad_t
    step = inner_w / len(days)
    bar_w = max(2.0, step * 0.7)
    bars = []
    label_every = max(1, -(-len(days) // 6))
    for i, d in enumerate(days):
        h = float(d.hours) / top * inner_h
        bars.append(
            {
                "x": round(pad_l + i * step + (step - bar_w) / 2, 1),
                "y": round(pad_t + inner_h - h, 1),
                "w": round(bar_w, 1),
                "h": round(h, 1),
                "day": d.day,
                "hours": d.hours,
                "volunteers": d.volunteers,
                "label": d.day.strftime("%m-%d") if i % label_every == 0 else "",
                "lx": round(pad_l + i * step + step / 2, 1),
            }
        )
    ticks = [
        {"y": round(pad_t + inner_h - inner_h * k / 4, 1), "label": tick_label(top * k / 4)}
        for k in range(5)
    ]
    return {
        "w": width,
        "h": height,
        "bars": bars,
        "ticks": ticks,
        "left": pad_l,
        "right": width - 4,
        "base": pad_t + inner_h,
        "label_y": height - 6,
    }


@never_cache
@capability_required("volunteers.serve")
def leaderboard(request):
    """By hours, not by shift count (shifts differ in length); hidden volunteers left out."""
    cid = request.user.community_id
    v = volunteer_of(request.user)
    rows = stats.leaderboard(cid)
    return render(
        request,
        "volunteers/leaderboard.html",
        {
            "rows": rows,
            "v": v,
            "standing": stats.standing(v) if v else None,
            "summary": stats.summary(cid),
        },
    )


@never_cache
@capability_required("volunteers.view")
def stats_page(request):
    cid = request.user.community_id
    form, first, last, team_id = _period(request, cid)
    summary = stats.summary(cid, first=first, last=last, team_id=team_id)
    days = stats.by_day(cid, first=first, last=last, team_id=team_id)
    teams = stats.by_team(cid, first=first, last=last)
    if team_id is not None:
        teams = [t for t in teams if t.team_id == (team_id or None)]
    board = stats.ranking(cid, first=first, last=last, include_hidden=True)
    if team_id is not None:
        board = None  # the ranking is across teams; a team's own is its row above
    return render(
        request,
        "volunteers/stats.html",
        {
            "form": form,
            "summary": summary,
            "teams": teams,
            "chart": _chart(days),
            "days_shown": min(len(days), CHART_DAYS),
            "days_total": len(days),
            "board": board[:100] if board else board,
            "query": request.GET.urlencode(),
        },
    )


@capability_required("volunteers.view")
def stats_xlsx(request):
    cid = request.user.community_id
    _form, first, last, team_id = _period(request, cid)
    body = stats.xlsx(cid, first=first, last=last, team_id=team_id)
    resp = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    resp["Content-Disposition"] = f'attachment; filename="volunteer-hours-{stamp}.xlsx"'
    return resp


@capability_required("volunteers.view")
def person_certificate(request, pk: int):
    v = volunteer_for(request.user, pk)
    return render(
        request, "volunteers/certificate.html", {"cert": stats.certificate(v), "own": False}
    )


# --- the leaders' buttons on the task page ---------------------------------------------------


def _back(request, signup):
    nxt = request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(nxt)
    return redirect("volunteers:task", pk=signup.task_id)


def _local(value: str, day: dt.date):
    """ "HH:MM" (the task's day) or "YYYY-MM-DDTHH:MM" as an aware local datetime."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        if "T" in value or " " in value:
            naive = dt.datetime.fromisoformat(value.replace(" ", "T"))
        else:
            naive = dt.datetime.combine(day, dt.time.fromisoformat(value))
    except ValueError:
        raise DomainError(
            "invalid", _("Give times as HH:MM (e.g. 09:30): “%(v)s” is not one.") % {"v": value}
        ) from None
    return timezone.make_aware(naive)


@require_POST
@capability_required("volunteers.serve")
def signup_in(request, pk: int):
    s = signup_for(request.user, pk)
    try:
        checkin.check_in(actor=request.user, signup=s)
    except Forbidden:
        raise
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("%(name)s checked in.") % {"name": s.volunteer.name})
    return _back(request, s)


@require_POST
@capability_required("volunteers.serve")
def signup_out(request, pk: int):
    s = signup_for(request.user, pk)
    try:
        s = checkin.check_out(actor=request.user, signup=s)
    except Forbidden:
        raise
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(
            request,
            _("%(name)s checked out: %(n)s minutes.") % {"name": s.volunteer.name, "n": s.minutes},
        )
    return _back(request, s)


@require_POST
@capability_required("volunteers.serve")
def signup_correct(request, pk: int):
    """Fields: checked_in_at, checked_out_at ("HH:MM" on the task's day, or a full local
    "YYYY-MM-DDTHH:MM"), minutes, reason."""
    s = signup_for(request.user, pk)
    day = timezone.localtime(s.task.starts_at).date()
    try:
        minutes = request.POST.get("minutes", "").strip()
        if minutes and not minutes.isdigit():
            raise DomainError("invalid", _("Minutes are a whole number, e.g. 120."))
        s = checkin.correct(
            actor=request.user,
            signup=s,
            checked_in_at=_local(request.POST.get("checked_in_at"), day),
            checked_out_at=_local(request.POST.get("checked_out_at"), day),
            minutes=int(minutes) if minutes else None,
            reason=request.POST.get("reason", ""),
        )
    except Forbidden:
        raise
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(
            request,
            _("Hours of %(name)s corrected: %(n)s minutes.")
            % {"name": s.volunteer.name, "n": s.minutes},
        )
    return _back(request, s)


urlpatterns = [
    path("volunteers/leaderboard/", leaderboard, name="leaderboard"),
    path("volunteers/stats/", stats_page, name="stats"),
    path("volunteers/stats.xlsx", stats_xlsx, name="stats_xlsx"),
    path("volunteers/people/<int:pk>/certificate/", person_certificate, name="person_certificate"),
    path("volunteers/signups/<int:pk>/in/", signup_in, name="signup_in"),
    path("volunteers/signups/<int:pk>/out/", signup_out, name="signup_out"),
    path("volunteers/signups/<int:pk>/correct/", signup_correct, name="signup_correct"),
]
