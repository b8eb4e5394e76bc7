"""The volunteer's own pages, on the phone: home (status, today's declaration, my places and
their check-in state, a few tasks to grab, my hours and rank), check-in by scanning or typing a
place's code, the poster QR's page, my service record and certificate, hiding from the board.
The rules are in checkin.py and stats.py."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouwang.core.errors import DomainError, Forbidden, NotFound
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required
from shouwang.volunteers import checkin, stats
from shouwang.volunteers.models import Declaration, Signup, SignupStatus, Task, VolunteerStatus
from shouwang.volunteers.selectors import active_volunteer, clean_code, volunteer_of


class CodeForm(DomainErrors, forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code under the QR"),
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "ABCD2345",
                "class": "vol-code-input",
            }
        ),
    )


def _camera_strings() -> dict:
    return {
        "camera_starting": _("Starting the camera …"),
        "camera_ready": _("Hold the QR at the place in the frame."),
        "camera_denied": _("The camera is not allowed: allow it in the browser, or type the code."),
        "camera_missing": _("No camera found: type the code under the QR."),
        "camera_failed": _("The camera did not start: type the code under the QR."),
        "camera_insecure": _("The camera needs a secure (https) connection: type the code."),
        "sending": _("Code read: sending …"),
    }


def duration(minutes: int | None) -> str:
    """120 → "2 h", 105 → "1 h 45 min", 40 → "40 min"."""
    if minutes is None:
        return ""
    h, m = divmod(int(minutes), 60)
    if h and m:
        return _("%(h)s h %(m)s min") % {"h": h, "m": m}
    if h:
        return _("%(h)s h") % {"h": h}
    return _("%(m)s min") % {"m": m}


def done_message(signup: Signup, what: str) -> str:
    at = timezone.localtime(
        signup.checked_in_at if what == "in" else signup.checked_out_at
    ).strftime("%H:%M")
    if what == "in":
        return _("Checked in at %(at)s: “%(task)s”. Scan again when you leave.") % {
            "at": at,
            "task": signup.task.title,
        }
    return _("Checked out at %(at)s: %(d)s credited for “%(task)s”. Thank you!") % {
        "at": at,
        "d": duration(signup.minutes),
        "task": signup.task.title,
    }


def _state(s: Signup, now) -> str:
    if s.status == SignupStatus.WAITING:
        return "waiting"
    if s.checked_out_at:
        return "out"
    if s.checked_in_at:
        return "in"
    if s.task.ends_at <= now:
        return "missed"
    return "now" if s.task.starts_at <= now else "ahead"


def _my_places(v, now) -> list[Signup]:
    from shouwang.volunteers import tasks

    rows = list(tasks.my_signups(v, now=now))
    # Today's places stay on the list after they end, with their check-out and hours.
    today = timezone.localdate(now)
    start = timezone.make_aware(dt.datetime.combine(today, dt.time(0)))
    ended = (
        Signup.objects.filter(
            volunteer=v,
            status=SignupStatus.TAKEN,
            task__starts_at__gte=start,
            task__ends_at__lte=now,
        )
        .exclude(pk__in=[s.pk for s in rows])
        .select_related("task", "task__team")
    )
    rows = sorted([*ended, *rows], key=lambda s: (s.task.starts_at, s.pk))
    for s in rows:
        s.state = _state(s, now)
        s.today = timezone.localtime(s.task.starts_at).date() == today
        s.duration = duration(s.minutes)
    return rows


@never_cache
@capability_required("volunteers.serve")
def me(request):
    now = timezone.now()
    v = volunteer_of(request.user)
    ctx: dict = {"v": v}
    if v is not None and v.status == VolunteerStatus.ACTIVE:
        from shouwang.volunteers import tasks

        ctx["declaration"] = Declaration.objects.filter(
            volunteer=v, date=timezone.localdate(now)
        ).first()
        ctx["places"] = _my_places(v, now)
        # A few tasks still to grab: the ones already mine are on "My places" above.
        ctx["open_tasks"] = [tv for tv in tasks.open_tasks(v, now=now) if tv.mine is None][:3]
        ctx["standing"] = stats.standing(v)
        ctx["hours_text"] = duration(ctx["standing"].minutes)
    elif v is not None:
        ctx["standing"] = stats.standing(v)
    return render(request, "volunteers/me.html", ctx)


def _check_page(request, form, *, status=200, declare_link=""):
    v = volunteer_of(request.user)
    now = timezone.now()
    places = []
    if v is not None:
        places = [s for s in _my_places(v, now) if s.today]
    return render(
        request,
        "volunteers/check.html",
        {
            "form": form,
            "v": v,
            "places": places,
            "declare_link": declare_link,
            "strings": _camera_strings(),
        },
        status=status,
    )


@never_cache
@capability_required("volunteers.serve")
def check(request):
    """Scan the place's QR (camera) or type the code under it: in, and again: out."""
    if request.method != "POST":
        return _check_page(request, CodeForm())
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _check_page(request, form)
    v = active_volunteer(request.user)
    try:
        signup, what = checkin.check_by_code(volunteer=v, code=form.cleaned_data["code"])
    except DomainError as e:
        if isinstance(e, Forbidden):
            raise
        form.add_error("code", str(e.message))
        return _check_page(
            request,
            form,
            declare_link=e.fields.get("link", "") if e.code in ("declare", "unwell") else "",
        )
    messages.success(request, done_message(signup, what))
    return redirect("volunteers:me")


@never_cache
@capability_required("volunteers.serve")
def check_code(request, code: str):
    """The poster QR's URL: the task, and one big button to check in (or out)."""
    bare = clean_code(code)
    task = (
        Task.objects.filter(community_id=request.user.community_id, code=bare)
        .select_related("team")
        .first()
        if bare
        else None
    )
    if task is None:
        raise NotFound("not_found", _("No task of your community has this code."))
    v = volunteer_of(request.user)
    if request.method == "POST":
        v = active_volunteer(request.user)
        try:
            signup, what = checkin.check_by_code(volunteer=v, code=task.code)
        except DomainError as e:
            if isinstance(e, Forbidden):
                raise
            messages.error(request, str(e.message))
        else:
            messages.success(request, done_message(signup, what))
        return redirect("volunteers:check_code", code=task.code)
    now = timezone.now()
    mine = None
    if v is not None:
        mine = (
            Signup.objects.filter(task=task, volunteer=v, status__in=SignupStatus.values)
            .order_by("-created_at", "-pk")
            .first()
        )
        if mine is not None:
            mine.state = _state(mine, now) if mine.status == SignupStatus.TAKEN else mine.status
            mine.duration = duration(mine.minutes)
    from shouwang.volunteers.selectors import policy_for

    early = dt.timedelta(minutes=policy_for(task.community_id).check_in_early_minutes)
    return render(
        request,
        "volunteers/check_code.html",
        {
            "task": task,
            "v": v,
            "mine": mine,
            "opens_at": task.starts_at - early,
            "is_open": task.starts_at - early <= now < task.ends_at,
        },
    )


def _own(request):
    v = volunteer_of(request.user)
    if v is None:
        raise Forbidden(
            "not_volunteer", _("You have not signed up as a volunteer yet: sign up first.")
        )
    return v


@never_cache
@capability_required("volunteers.serve")
def record(request):
    v = _own(request)
    rec = stats.record(v)
    for r in rec.rows:
        r.duration = duration(r.minutes)
    return render(request, "volunteers/record.html", {"record": rec, "v": v})


@capability_required("volunteers.serve")
def certificate(request):
    v = _own(request)
    return render(
        request, "volunteers/certificate.html", {"cert": stats.certificate(v), "own": True}
    )


@require_POST
@capability_required("volunteers.serve")
def hide(request):
    v = _own(request)
    hidden = request.POST.get("hide") == "1"
    stats.set_hidden(actor=request.user, volunteer=v, hidden=hidden)
    messages.success(
        request,
        _("You are hidden from the leaderboard.")
        if hidden
        else _("You are on the leaderboard again."),
    )
    nxt = request.POST.get("next")
    return redirect("volunteers:me" if nxt == "me" else "volunteers:leaderboard")


urlpatterns = [
    path("volunteers/me/", me, name="me"),
    path("volunteers/me/record/", record, name="record"),
    path("volunteers/me/certificate/", certificate, name="certificate"),
    path("volunteers/me/hide/", hide, name="hide"),
    path("volunteers/check/", check, name="check"),
    path("volunteers/c/<str:code>/", check_code, name="check_code"),
]
