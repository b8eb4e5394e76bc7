"""Staff pages for tasks: the list by day, publish and edit, one task's page (the people with
their check-in state and the rules they break, the waiting list, the leader's buttons), putting
someone on with the rule breaks shown before confirming, and the poster with the check-in QR.

Team leaders (volunteers themselves) open their team's task pages to check people in; the rules
of who may do what live in tasks.py, checkin.py and selectors.leads — the views only show the
buttons that will work.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.db.models import Count, F, Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.permissions import can
from shouwang.accounts.scope import scope_queryset
from shouwang.core.errors import DomainError, Forbidden, NotFound
from shouwang.core.forms import DomainErrors
from shouwang.core.masking import mask_phone
from shouwang.core.views import back_to, capability_required, press
from shouwang.volunteers import selectors
from shouwang.volunteers.models import (
    LIVE,
    Signup,
    SignupStatus,
    Skill,
    Task,
    TaskKind,
    Volunteer,
    VolunteerStatus,
)

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
LIST_DAYS = 7


# --- shared helpers ---------------------------------------------------------------------------


def may_see_task(user, task: Task) -> bool:
    """Viewers (volunteers.view) see every task of the community; a team leader their team's."""
    return can(user, "volunteers.view") or selectors.leads(user, task)


def shown_phone(user, phone: str) -> str:
    return phone if can(user, "volunteers.manage") else mask_phone(phone)


# --- forms ------------------------------------------------------------------------------------


class TaskForm(DomainErrors, forms.Form):
    title = forms.CharField(label=gettext_lazy("What"), max_length=100)
    place = forms.CharField(label=gettext_lazy("Where"), max_length=100)
    starts_at = forms.DateTimeField(label=gettext_lazy("From"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=gettext_lazy("Until"), widget=DATETIME)
    places = forms.IntegerField(label=gettext_lazy("People needed"), min_value=1, max_value=500)
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("Open to every active volunteer"),
    )
    skills = forms.MultipleChoiceField(
        label=gettext_lazy("Skills needed"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(
        label=gettext_lazy("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    cancel_until = forms.DateTimeField(
        label=gettext_lazy("Volunteers may cancel until"),
        widget=DATETIME,
        required=False,
        help_text=gettext_lazy("Empty: the policy's hours before the start."),
    )
    grabbable = forms.BooleanField(
        label=gettext_lazy("Volunteers grab places themselves"), required=False, initial=True
    )

    def __init__(self, *args, community_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = selectors.teams_for(community_id)

    def clean(self):
        data = super().clean()
        a, b = data.get("starts_at"), data.get("ends_at")
        if a and b and b <= a:
            self.add_error("ends_at", _("The end must be after the start."))
        return data


class FilterForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("From"), widget=DATE, required=False)
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("All teams"),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[("", gettext_lazy("Tasks and shifts")), *TaskKind.choices],
        required=False,
    )
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        choices=[
            ("", gettext_lazy("All")),
            ("short", gettext_lazy("Places free")),
            ("full", gettext_lazy("Full")),
            ("cancelled", pgettext_lazy("volunteers", "Cancelled")),
        ],
        required=False,
    )

    def __init__(self, *args, community_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = selectors.teams_for(community_id, active_only=False)


class AssignForm(DomainErrors, forms.Form):
    volunteer = forms.IntegerField(widget=forms.HiddenInput)
    override_reason = forms.CharField(
        label=gettext_lazy("Reason for putting them on although a rest rule breaks"),
        max_length=200,
        required=False,
    )


# --- the list ---------------------------------------------------------------------------------


def tasks_between(user, first: dt.date, last: dt.date):
    """The community's tasks and shifts starting on local days first..last, with the counts a
    list needs (waiting, checked in) in the same query."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(first, dt.time(0), tzinfo=tz)
    hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return (
        scope_queryset(user, Task.objects.select_related("team", "plan"))
        .filter(starts_at__gte=lo, starts_at__lt=hi)
        .annotate(
            n_waiting=Count("signups", filter=Q(signups__status=SignupStatus.WAITING)),
            n_in=Count(
                "signups",
                filter=Q(signups__status=SignupStatus.TAKEN, signups__checked_in_at__isnull=False),
            ),
        )
        .order_by("starts_at", "pk")
    )


@capability_required("volunteers.view")
def task_list(request):
    user = request.user
    form = FilterForm(request.GET or None, community_id=user.community_id)
    data = form.cleaned_data if form.is_valid() else {}
    first = data.get("day") or timezone.localdate()
    last = first + dt.timedelta(days=LIST_DAYS - 1)
    qs = tasks_between(user, first, last)
    if data.get("team"):
        qs = qs.filter(team=data["team"])
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    state = data.get("state")
    if state == "cancelled":
        qs = qs.filter(cancelled_at__isnull=False)
    elif state == "full":
        qs = qs.filter(cancelled_at__isnull=True, taken__gte=F("places"))
    elif state == "short":
        qs = qs.filter(cancelled_at__isnull=True, taken__lt=F("places"))
    days: dict[dt.date, list] = {}
    for t in qs:
        days.setdefault(timezone.localtime(t.starts_at).date(), []).append(t)
    return render(
        request,
        "volunteers/tasks.html",
        {
            "form": form,
            "days": sorted(days.items()),
            "first": first,
            "last": last,
            "prev": first - dt.timedelta(days=LIST_DAYS),
            "next": last + dt.timedelta(days=1),
            "can_manage": can(user, "volunteers.manage"),
            "query": request.GET.copy(),
            "now": timezone.now(),
        },
    )


# --- publish and edit -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("volunteers.manage")
def task_new(request):
    from shouwang.volunteers import tasks

    user = request.user
    start = (timezone.localtime() + dt.timedelta(days=1)).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    form = TaskForm(
        request.POST or None,
        community_id=user.community_id,
        initial={
            "starts_at": start,
            "ends_at": start + dt.timedelta(hours=2),
            "places": 2,
            "grabbable": True,
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            task = tasks.publish(
                actor=user,
                community=user.community,
                title=d["title"],
                place=d["place"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                places=d["places"],
                team=d["team"],
                skills=tuple(d["skills"]),
                description=d["description"],
                cancel_until=d["cancel_until"],
                grabbable=d["grabbable"],
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("The task is published."))
            return redirect("volunteers:task", pk=task.pk)
    return render(request, "volunteers/task_form.html", {"form": form, "task": None})


EDITABLE = (
    "title",
    "place",
    "starts_at",
    "ends_at",
    "places",
    "team",
    "skills",
    "description",
    "cancel_until",
    "grabbable",
)


@require_http_methods(["GET", "POST"])
@capability_required("volunteers.manage")
def task_edit(request, pk: int):
    from shouwang.volunteers import tasks

    user = request.user
    task = selectors.task_for(user, pk)
    initial = {f: getattr(task, f) for f in EDITABLE}
    initial["starts_at"] = timezone.localtime(task.starts_at)
    initial["ends_at"] = timezone.localtime(task.ends_at)
    initial["cancel_until"] = timezone.localtime(task.cancel_until)
    form = TaskForm(request.POST or None, community_id=user.community_id, initial=initial)
    if task.cancelled_at is not None and request.method == "POST":
        messages.error(request, _("This task is cancelled and can no longer be changed."))
        return redirect("volunteers:task", pk=task.pk)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        changed = {f: d[f] for f in EDITABLE if f in form.changed_data}
        if "skills" in changed:
            changed["skills"] = list(changed["skills"])
        if "cancel_until" in changed and changed["cancel_until"] is None:
            changed.pop("cancel_until")
        try:
            if changed:
                tasks.update(actor=user, task=task, **changed)
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("The task is saved."))
            return redirect("volunteers:task", pk=task.pk)
    return render(request, "volunteers/task_form.html", {"form": form, "task": task})


# --- one task ---------------------------------------------------------------------------------


def task_people(task: Task, user) -> dict:
    """Everyone on the task: places taken (with the rules each breaks), the waiting list in its
    order, and the history (cancelled, missed)."""
    from shouwang.volunteers import rules

    signups = list(
        Signup.objects.filter(task=task)
        .select_related("volunteer", "volunteer__team", "task")
        .order_by("created_at", "pk")
    )
    taken = [s for s in signups if s.status == SignupStatus.TAKEN]
    breaks = rules.signup_breaks(taken) if taken else {}
    for s in signups:
        s.breaks = breaks.get(s.pk, [])
        s.phone_shown = shown_phone(user, s.volunteer.phone)
    waiting = [s for s in signups if s.status == SignupStatus.WAITING]
    for i, s in enumerate(waiting, 1):
        s.position = i
    return {
        "taken": taken,
        "waiting": waiting,
        "history": [s for s in signups if s.status not in LIVE],
        "n_in": sum(1 for s in taken if s.checked_in_at),
        "n_out": sum(1 for s in taken if s.checked_out_at),
        "n_breaks": sum(1 for s in taken if s.breaks),
    }


@capability_required("volunteers.serve")
def task_detail(request, pk: int):
    user = request.user
    task = selectors.task_for(user, pk)
    if not may_see_task(user, task):
        raise Forbidden("not_leader", _("Only the committee or this team's leader can see this."))
    now = timezone.now()
    here = reverse("volunteers:task", args=[task.pk])
    return render(
        request,
        "volunteers/task.html",
        {
            "task": task,
            **task_people(task, user),
            "can_manage": can(user, "volunteers.manage"),
            "can_lead": selectors.leads(user, task),
            "started": now >= task.starts_at,
            "over": now >= task.ends_at,
            "now": now,
            "here": here,
            "free": max(task.places - task.taken, 0),
            "skills": skill_labels(task.skills),
        },
    )


def skill_labels(values) -> list[str]:
    names = dict(Skill.choices)
    return [str(names.get(v, v)) for v in values or ()]


@require_POST
@capability_required("volunteers.manage")
def task_cancel(request, pk: int):
    from shouwang.volunteers import tasks

    task = selectors.task_for(request.user, pk)
    reason = (request.POST.get("reason") or "").strip()
    if not reason:
        messages.error(request, _("Say why the task is cancelled: the people on it are told."))
    else:
        press(
            request,
            tasks.cancel_task,
            _("The task is cancelled."),
            actor=request.user,
            task=task,
            reason=reason,
        )
    return redirect(back_to(request, reverse("volunteers:task", args=[task.pk])))


def candidates(task: Task, *, everyone: bool = False) -> list[Volunteer]:
    """Who may be put on the task: active volunteers of its team (every active volunteer for a
    task open to all, or when staff ask for everyone), those with the skills needed first,
    leaving out who is on it already."""
    qs = Volunteer.objects.filter(
        community_id=task.community_id, status=VolunteerStatus.ACTIVE
    ).select_related("team")
    if task.team_id and not everyone:
        qs = qs.filter(team_id=task.team_id)
    on = Signup.objects.filter(task=task, status__in=LIVE).values("volunteer_id")
    people = list(qs.exclude(pk__in=on).order_by("name", "pk")[:300])
    need = set(task.skills or [])
    for v in people:
        v.missing = skill_labels(sorted(need - set(v.skills or [])))
    people.sort(key=lambda v: (len(v.missing), v.name))
    return people


@require_http_methods(["GET", "POST"])
@capability_required("volunteers.manage")
def task_assign(request, pk: int):
    """Put someone on: the picker lists each candidate with the rules they would break (before
    anything is saved); breaking one needs a reason, kept on the place."""
    from shouwang.volunteers import rules, tasks

    user = request.user
    task = selectors.task_for(user, pk)
    here = reverse("volunteers:task", args=[task.pk])
    back = back_to(request, here)
    everyone = request.GET.get("all") == "1" or request.POST.get("all") == "1"
    form = AssignForm(request.POST or None)
    chosen = None
    if request.method == "POST" and form.is_valid():
        try:
            chosen = selectors.volunteer_for(user, form.cleaned_data["volunteer"])
        except NotFound:
            form.add_error(None, _("Choose a volunteer of your community."))
        if chosen is not None:
            try:
                signup = tasks.assign(
                    actor=user,
                    task=task,
                    volunteer=chosen,
                    override_reason=form.cleaned_data["override_reason"].strip(),
                )
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                if signup.override_reason:
                    messages.warning(
                        request,
                        _("%(name)s is on, against the rest rules: %(reason)s")
                        % {"name": chosen.name, "reason": signup.override_reason},
                    )
                else:
                    messages.success(request, _("%(name)s is on.") % {"name": chosen.name})
                return redirect(back)
    people = candidates(task, everyone=everyone)
    if chosen is not None and all(v.pk != chosen.pk for v in people):
        chosen.missing = skill_labels(sorted(set(task.skills or []) - set(chosen.skills or [])))
        people.insert(0, chosen)
    # Each candidate's breaks as if they were on it, for the whole list in two queries: unsaved
    # places with stand-in keys (rules.signup_breaks checks each against the volunteer's other
    # commitments, which these are not among).
    probes = [
        Signup(
            pk=-v.pk,
            community_id=task.community_id,
            task=task,
            volunteer=v,
            status=SignupStatus.TAKEN,
        )
        for v in people
    ]
    found = rules.signup_breaks(probes) if probes else {}
    for v in people:
        v.breaks = found.get(-v.pk, [])
        v.phone_shown = shown_phone(user, v.phone)
    return render(
        request,
        "volunteers/task_assign.html",
        {
            "task": task,
            "form": form,
            "people": people,
            "chosen": chosen,
            "everyone": everyone,
            "back": back,
            "free": max(task.places - task.taken, 0),
        },
    )


def _signup_action(request, pk: int, action: str):
    from shouwang.volunteers import tasks

    user = request.user
    signup = selectors.signup_for(user, pk)
    default = (
        reverse("volunteers:task", args=[signup.task_id])
        if may_see_task(user, signup.task)
        else "/"
    )
    name = signup.volunteer.name
    if action == "no_show":
        press(
            request,
            tasks.mark_no_show,
            _("%(name)s is marked as not come.") % {"name": name},
            actor=user,
            signup=signup,
        )
    elif action == "excuse":
        press(
            request,
            tasks.excuse,
            _("%(name)s is excused: the missed place no longer counts.") % {"name": name},
            actor=user,
            signup=signup,
        )
    else:
        press(
            request,
            tasks.remove,
            _("%(name)s is taken off.") % {"name": name},
            actor=user,
            signup=signup,
            reason=(request.POST.get("reason") or "").strip(),
        )
    return redirect(back_to(request, default))


@require_POST
@capability_required("volunteers.serve")
def signup_no_show(request, pk: int):
    return _signup_action(request, pk, "no_show")


@require_POST
@capability_required("volunteers.serve")
def signup_excuse(request, pk: int):
    return _signup_action(request, pk, "excuse")


@require_POST
@capability_required("volunteers.manage")
def signup_remove(request, pk: int):
    return _signup_action(request, pk, "remove")


# --- the poster -------------------------------------------------------------------------------


@capability_required("volunteers.serve")
def task_poster(request, pk: int):
    """A4 to print and put up at the place: the big QR opens the check-in page for this task's
    code; the code in large letters for those who type it."""
    from shouwang.residents.qr import qr_svg

    user = request.user
    task = selectors.task_for(user, pk)
    if not may_see_task(user, task):
        raise Forbidden("not_leader", _("Only the committee or this team's leader can see this."))
    url = request.build_absolute_uri(reverse("volunteers:check_code", args=[task.code]))
    code = task.code
    return render(
        request,
        "volunteers/task_poster.html",
        {
            "task": task,
            "url": url,
            "qr": qr_svg(url, title=code, css_class="poster-qr"),
            "code_spaced": f"{code[:4]} {code[4:]}",
            "skills": skill_labels(task.skills),
        },
    )


urlpatterns = [
    path("volunteers/tasks/", task_list, name="tasks"),
    path("volunteers/tasks/new/", task_new, name="task_new"),
    path("volunteers/tasks/<int:pk>/", task_detail, name="task"),
    path("volunteers/tasks/<int:pk>/edit/", task_edit, name="task_edit"),
    path("volunteers/tasks/<int:pk>/assign/", task_assign, name="task_assign"),
    path("volunteers/tasks/<int:pk>/cancel/", task_cancel, name="task_cancel"),
    path("volunteers/tasks/<int:pk>/poster/", task_poster, name="task_poster"),
    path("volunteers/signups/<int:pk>/no-show/", signup_no_show, name="signup_no_show"),
    path("volunteers/signups/<int:pk>/excuse/", signup_excuse, name="signup_excuse"),
    path("volunteers/signups/<int:pk>/remove/", signup_remove, name="signup_remove"),
]
