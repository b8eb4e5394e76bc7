"""Staff pages about people: the volunteers list (pending first, with approve buttons), one
volunteer's page (profile, team history, service record and the actions), adding one without a
login, the teams with their board for emergency moves, and the volunteer policy. The rules are in
people.py. (URL patterns in `urlpatterns`.)"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouwang.accounts.permissions import can
from shouwang.core.errors import DomainError
from shouwang.core.forms import DomainErrors
from shouwang.core.masking import mask_phone
from shouwang.core.views import capability_required
from shouwang.volunteers import people
from shouwang.volunteers.models import (
    Origin,
    Skill,
    Team,
    TeamKind,
    Volunteer,
    VolunteerStatus,
)
from shouwang.volunteers.selectors import policy_for, teams_for, volunteer_for
from shouwang.volunteers.views.join import ProfileFields

PAGE_LIMIT = 300


class TeamChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class LeaderChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {mask_phone(obj.phone)}"


def _phone_for(user, v: Volunteer) -> str:
    """The full number for the office (it calls them), masked for everyone else."""
    if can(user, "volunteers.manage"):
        return people.national(v.phone)
    return mask_phone(v.phone)


def _back(request, default: str):
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}):
        return redirect(nxt)
    return redirect(default)


# --- the list ----------------------------------------------------------------------------------


@never_cache
@capability_required("volunteers.view")
def people_list(request):
    user = request.user
    g = request.GET
    status = g.get("status", "") if g.get("status", "") in VolunteerStatus.values else ""
    skill = g.get("skill", "") if g.get("skill", "") in Skill.values else ""
    team_id = g.get("team", "")
    team_id = int(team_id) if team_id.isdigit() else None
    q = g.get("q", "").strip()
    qs = people.people_for(user, status=status, team_id=team_id, skill=skill, q=q)
    total = qs.count()
    rows = list(qs.prefetch_related("wishes")[:PAGE_LIMIT])
    skill_names = dict(Skill.choices)
    for v in rows:
        v.phone_shown = _phone_for(user, v)
        v.skill_labels = [skill_names.get(s, s) for s in v.skills]
        wishes = list(v.wishes.all())
        v.wish_names = [t.name for t in wishes]
        v.first_wish = wishes[0].pk if wishes else None
    teams = list(teams_for(user.community_id))
    return render(
        request,
        "volunteers/people.html",
        {
            "rows": rows,
            "total": total,
            "limit": PAGE_LIMIT,
            "teams": teams,
            "statuses": VolunteerStatus.choices,
            "skills": Skill.choices,
            "f": {"status": status, "team": team_id, "skill": skill, "q": q},
            "manage": can(user, "volunteers.manage"),
            "pending": people.pending_count(user.community_id),
        },
    )


# --- one volunteer -------------------------------------------------------------------------------


def _record(v: Volunteer):
    """H3's service record and its partial, when they are there."""
    try:
        get_template("volunteers/_record.html")
        from shouwang.volunteers import stats

        return stats.record(v)
    except (TemplateDoesNotExist, ImportError, AttributeError):
        return None


@never_cache
@capability_required("volunteers.view")
def person(request, pk: int):
    user = request.user
    v = volunteer_for(user, pk)
    manage = can(user, "volunteers.manage")
    moves = list(v.moves.select_related("from_team", "to_team", "by").order_by("-at", "-pk"))
    skill_names = dict(Skill.choices)
    return render(
        request,
        "volunteers/person.html",
        {
            "v": v,
            "phone": _phone_for(user, v),
            "skill_labels": [skill_names.get(s, s) for s in v.skills],
            "wishes": list(v.wishes.all()),
            "moves": moves,
            "teams": list(teams_for(user.community_id)),
            "manage": manage,
            "matches": people.resident_matches(v) if manage and v.resident_id is None else [],
            "declaration": people.declaration_today(v),
            "record": _record(v),
            "leads": list(Team.objects.filter(leader=v)),
        },
    )


def _act(request, pk: int, action) -> object:
    v = volunteer_for(request.user, pk)
    try:
        done = action(v)
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        if done:
            messages.success(request, done)
    return _back(request, reverse("volunteers:person", args=[v.pk]))


def _team_from_post(request):
    raw = request.POST.get("team", "")
    if not raw:
        return None
    return raw  # people._clean_team checks it belongs to the community


@require_POST
@capability_required("volunteers.manage")
def person_approve(request, pk: int):
    def run(v):
        v = people.approve(actor=request.user, volunteer=v, team=_team_from_post(request))
        return _("%(name)s is approved.") % {"name": v.name}

    return _act(request, pk, run)


@require_POST
@capability_required("volunteers.manage")
def person_pause(request, pk: int):
    def run(v):
        v = people.pause(actor=request.user, volunteer=v, reason=request.POST.get("reason", ""))
        freed = getattr(v, "freed", 0)
        return _("%(name)s is paused; %(n)d places freed.") % {"name": v.name, "n": freed}

    return _act(request, pk, run)


@require_POST
@capability_required("volunteers.manage")
def person_activate(request, pk: int):
    def run(v):
        v = people.activate(actor=request.user, volunteer=v)
        return _("%(name)s is active.") % {"name": v.name}

    return _act(request, pk, run)


@require_POST
@capability_required("volunteers.manage")
def person_leave(request, pk: int):
    def run(v):
        v = people.leave(actor=request.user, volunteer=v, reason=request.POST.get("reason", ""))
        freed = getattr(v, "freed", 0)
        return _("%(name)s has left; %(n)d places freed.") % {"name": v.name, "n": freed}

    return _act(request, pk, run)


@require_POST
@capability_required("volunteers.manage")
def person_move(request, pk: int):
    def run(v):
        m = people.move(
            actor=request.user,
            volunteer=v,
            team=_team_from_post(request),
            emergency=bool(request.POST.get("emergency")),
            reason=request.POST.get("reason", ""),
        )
        return _("%(name)s moved to %(team)s.") % {
            "name": v.name,
            "team": m.to_team.name if m.to_team else _("no team"),
        }

    return _act(request, pk, run)


@require_POST
@capability_required("volunteers.manage")
def person_link(request, pk: int):
    from shouwang.registry.models import Resident

    def run(v):
        raw = request.POST.get("resident", "")
        resident = None
        if raw:
            resident = Resident.objects.filter(community_id=v.community_id, pk=raw).first()
            if resident is None:
                raise DomainError("invalid", _("Pick a resident of this community."))
        people.link_resident(actor=request.user, volunteer=v, resident=resident)
        if resident is None:
            return _("The resident record is unlinked.")
        return _("Linked to the resident record of %(name)s.") % {"name": resident.name}

    return _act(request, pk, run)


# --- adding and editing ------------------------------------------------------------------------


class PersonForm(ProfileFields):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50, required=False)
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    origin = forms.ChoiceField(
        label=pgettext_lazy("volunteers", "Who"),
        choices=Origin.choices,
        initial=Origin.RESIDENT,
        widget=forms.RadioSelect,
    )
    team = TeamChoice(
        label=pgettext_lazy("volunteers", "Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=gettext_lazy("— no team yet —"),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args, community_id, editing=False, **kwargs):
        super().__init__(*args, community_id=community_id, **kwargs)
        self.fields["wishes"].label = gettext_lazy("Teams wished for")
        self.fields["team"].queryset = teams_for(community_id)
        if editing:
            del self.fields["team"]  # a move has its own form (and history)


@never_cache
@capability_required("volunteers.manage")
def person_new(request):
    user = request.user
    if request.method == "POST":
        form = PersonForm(request.POST, community_id=user.community_id)
        if form.is_valid():
            try:
                v = people.add(actor=user, community=user.community, **form.cleaned_data)
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("%(name)s is added and active.") % {"name": v.name})
                return redirect("volunteers:person", pk=v.pk)
    else:
        form = PersonForm(community_id=user.community_id)
    return render(request, "volunteers/person_form.html", {"form": form, "v": None})


@never_cache
@capability_required("volunteers.manage")
def person_edit(request, pk: int):
    user = request.user
    v = volunteer_for(user, pk)
    if request.method == "POST":
        form = PersonForm(request.POST, community_id=user.community_id, editing=True)
        if form.is_valid():
            try:
                people.update_profile(actor=user, volunteer=v, **form.cleaned_data)
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("Saved."))
                return redirect("volunteers:person", pk=v.pk)
    else:
        form = PersonForm(
            community_id=user.community_id,
            editing=True,
            initial={
                "name": v.name,
                "phone": people.national(v.phone),
                "origin": v.origin,
                "organisation": v.organisation,
                "skills": v.skills,
                "skills_note": v.skills_note,
                "wishes": list(v.wishes.all()),
                "note": v.note,
            },
        )
    return render(request, "volunteers/person_form.html", {"form": form, "v": v})


# --- teams -------------------------------------------------------------------------------------


@never_cache
@capability_required("volunteers.view")
def teams(request):
    user = request.user
    members = Prefetch(
        "members",
        queryset=Volunteer.objects.exclude(status=VolunteerStatus.LEFT).order_by("name", "pk"),
        to_attr="board",
    )
    rows = list(
        people.teams_with_counts(user.community_id)
        .prefetch_related(members)
        .order_by("-is_active", "position", "pk")
    )
    no_team = list(
        Volunteer.objects.filter(
            community_id=user.community_id, team__isnull=True, status=VolunteerStatus.ACTIVE
        ).order_by("name", "pk")
    )
    return render(
        request,
        "volunteers/teams.html",
        {
            "teams": rows,
            "active_teams": [t for t in rows if t.is_active],
            "no_team": no_team,
            "manage": can(user, "volunteers.manage"),
        },
    )


class TeamForm(DomainErrors, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=TeamKind.choices)
    description = forms.CharField(
        label=gettext_lazy("What the team does"), max_length=200, required=False
    )
    leader = LeaderChoice(
        label=gettext_lazy("Team leader"),
        queryset=Volunteer.objects.none(),
        required=False,
        empty_label=gettext_lazy("— no leader —"),
    )
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False, initial=True)

    def __init__(self, *args, community_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = Volunteer.objects.filter(
            community_id=community_id, status=VolunteerStatus.ACTIVE
        ).order_by("name", "pk")


def _team_page(request, team=None):
    from shouwang.accounts.scope import get_scoped

    user = request.user
    if team is not None:
        team = get_scoped(user, Team.objects.all(), team)
    if request.method == "POST":
        form = TeamForm(request.POST, community_id=user.community_id)
        if form.is_valid():
            try:
                t = people.team_save(
                    actor=user, community=user.community, team=team, **form.cleaned_data
                )
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("Team “%(name)s” is saved.") % {"name": t.name})
                return redirect("volunteers:teams")
    elif team is not None:
        form = TeamForm(
            community_id=user.community_id,
            initial={
                "name": team.name,
                "kind": team.kind,
                "description": team.description,
                "leader": team.leader_id,
                "is_active": team.is_active,
            },
        )
    else:
        form = TeamForm(community_id=user.community_id)
    return render(request, "volunteers/team_form.html", {"form": form, "team": team})


@never_cache
@capability_required("volunteers.manage")
def team_new(request):
    return _team_page(request)


@never_cache
@capability_required("volunteers.manage")
def team_edit(request, pk: int):
    return _team_page(request, pk)


# --- the policy --------------------------------------------------------------------------------


class PolicyForm(DomainErrors, forms.Form):
    no_show_limit = forms.IntegerField(
        label=gettext_lazy("Missed places before grabbing stops"), min_value=1, max_value=20
    )
    no_show_days = forms.IntegerField(
        label=gettext_lazy("Counting missed places over (days)"), min_value=1, max_value=365
    )
    cancel_hours = forms.IntegerField(
        label=gettext_lazy("Volunteers may cancel until (hours before the start)"),
        min_value=0,
        max_value=72,
    )
    check_in_early_minutes = forms.IntegerField(
        label=gettext_lazy("Check-in opens (minutes before the start)"),
        min_value=0,
        max_value=240,
    )


@never_cache
@capability_required("volunteers.manage")
def policy(request):
    user = request.user
    p = policy_for(user.community_id)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                people.policy_save(actor=user, community=user.community, **form.cleaned_data)
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("The volunteer rules are saved."))
                return redirect("volunteers:policy")
    else:
        form = PolicyForm(initial={k: getattr(p, k) for k in people.POLICY_FIELDS})
    from shouwang.volunteers.selectors import rest_rules

    cap, rest = rest_rules(user.community_id)
    return render(
        request,
        "volunteers/policy.html",
        {"form": form, "policy": p, "cap": cap, "rest": rest},
    )


urlpatterns = [
    path("volunteers/people/", people_list, name="people"),
    path("volunteers/people/new/", person_new, name="person_new"),
    path("volunteers/people/<int:pk>/", person, name="person"),
    path("volunteers/people/<int:pk>/edit/", person_edit, name="person_edit"),
    path("volunteers/people/<int:pk>/approve/", person_approve, name="person_approve"),
    path("volunteers/people/<int:pk>/pause/", person_pause, name="person_pause"),
    path("volunteers/people/<int:pk>/activate/", person_activate, name="person_activate"),
    path("volunteers/people/<int:pk>/leave/", person_leave, name="person_leave"),
    path("volunteers/people/<int:pk>/move/", person_move, name="person_move"),
    path("volunteers/people/<int:pk>/link/", person_link, name="person_link"),
    path("volunteers/teams/", teams, name="teams"),
    path("volunteers/teams/new/", team_new, name="team_new"),
    path("volunteers/teams/<int:pk>/edit/", team_edit, name="team_edit"),
    path("volunteers/policy/", policy, name="policy"),
]
