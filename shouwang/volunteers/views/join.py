"""Joining and the volunteer's own forms, on a phone: the public sign-up page a poster's QR opens
(few fields, big controls), the sign-up for someone already signed in, the printable poster, my
profile (skills, wishes, when I can serve, hiding from the board) and the daily health
declaration. The rules are in people.py. (URL patterns in `urlpatterns`.)"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouwang.accounts.middleware import mark_session_start
from shouwang.checkpoints.forms import AvailabilityForm, weekday_label
from shouwang.core.errors import DomainError, Forbidden
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required
from shouwang.volunteers import people
from shouwang.volunteers.models import Origin, Skill, Team, Volunteer, VolunteerStatus
from shouwang.volunteers.selectors import teams_for, volunteer_of

ORIGIN_CHOICES = [
    (Origin.RESIDENT, gettext_lazy("I live in this community")),
    (Origin.OUTSIDE, gettext_lazy("I live elsewhere")),
    (Origin.CADRE, gettext_lazy("Cadre sent down (下沉干部)")),
    (Origin.STAFF, gettext_lazy("Committee or property staff")),
]


class TeamChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class JoinForm(DomainErrors, forms.Form):
    """What a volunteer gives at the start: the rest can wait for the profile page. Every field
    is checked by the service, so its messages show on the field."""

    name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "139 1234 5678"}
        ),
    )
    password = forms.CharField(
        label=gettext_lazy("Choose a password (at least 8 characters)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    origin = forms.ChoiceField(
        label=pgettext_lazy("volunteers", "Who are you?"),
        choices=ORIGIN_CHOICES,
        initial=Origin.RESIDENT,
        widget=forms.RadioSelect,
    )
    organisation = forms.CharField(
        label=gettext_lazy("Your unit or organisation (cadres and outside volunteers)"),
        max_length=100,
        required=False,
    )
    skills = forms.MultipleChoiceField(
        label=gettext_lazy("What can you do? (tick any)"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    skills_note = forms.CharField(
        label=gettext_lazy("Anything else you can do"), max_length=200, required=False
    )
    wishes = TeamChoices(
        label=gettext_lazy("Teams you would like to join"),
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, community_id, with_password=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wishes"].queryset = teams_for(community_id)
        if not with_password:
            del self.fields["password"]


def _community(code: str):
    from shouwang.registry.models import Community

    c = Community.objects.filter(code=code).first()
    if c is None:
        raise Http404("no such community")
    return c


def _sign_up(request, form, community, user=None):
    d = form.cleaned_data
    try:
        return people.sign_up(
            community=community,
            name=d["name"],
            phone=d["phone"],
            origin=d["origin"],
            organisation=d["organisation"],
            skills=d["skills"],
            skills_note=d["skills_note"],
            wishes=list(d["wishes"]),
            user=user,
            password=d.get("password"),
        )
    except DomainError as e:
        form.add_domain_errors(e)
        return None


def _welcome(request, v: Volunteer):
    messages.success(
        request,
        _(
            "Thank you, %(name)s! Your sign-up is in: the committee will approve it soon. "
            "Declare your health each day you serve."
        )
        % {"name": v.name},
    )
    return redirect("volunteers:me")


@never_cache
def join(request, community_code: str):
    """The public sign-up page (anyone; the poster's QR opens it). A signed-in user is sent to
    the sign-up for their own account."""
    community = _community(community_code)
    if request.user.is_authenticated:
        return redirect("volunteers:join_me")
    if request.method == "POST":
        form = JoinForm(request.POST, community_id=community.pk)
        if form.is_valid():
            v = _sign_up(request, form, community)
            if v is not None:
                login(request, v.user, backend="django.contrib.auth.backends.ModelBackend")
                mark_session_start(request)
                return _welcome(request, v)
    else:
        form = JoinForm(community_id=community.pk)
    return render(
        request,
        "volunteers/join.html",
        {"form": form, "community": community, "public": True},
    )


@never_cache
@capability_required("volunteers.serve")
def join_me(request):
    user = request.user
    if volunteer_of(user) is not None:
        messages.info(request, _("You have signed up already: here is your profile."))
        return redirect("volunteers:profile")
    community = user.community
    if request.method == "POST":
        form = JoinForm(request.POST, community_id=community.pk, with_password=False)
        if form.is_valid():
            v = _sign_up(request, form, community, user=user)
            if v is not None:
                return _welcome(request, v)
    else:
        form = JoinForm(
            community_id=community.pk,
            with_password=False,
            initial={"name": user.display_name, "origin": Origin.RESIDENT},
        )
    return render(
        request,
        "volunteers/join.html",
        {"form": form, "community": community, "public": False},
    )


def _absolute(path_: str, request) -> str:
    base = getattr(settings, "PUBLIC_URL", "")
    return base + path_ if base else request.build_absolute_uri(path_)


@never_cache
@capability_required("volunteers.manage")
def join_poster(request):
    from shouwang.residents.qr import qr_svg

    community = request.user.community
    url = _absolute(reverse("volunteers:join", args=[community.code]), request)
    return render(
        request,
        "volunteers/join_poster.html",
        {
            "community": community,
            "url": url,
            "qr": qr_svg(url, title=_("Scan to sign up as a volunteer")),
            "teams": teams_for(community.pk),
        },
    )


# --- my profile ------------------------------------------------------------------------------


class ProfileFields(DomainErrors, forms.Form):
    """The profile fields the volunteer's own page and the staff's person form share (the
    sign-up form asks the same in friendlier words)."""

    organisation = forms.CharField(
        label=gettext_lazy("Unit or organisation"), max_length=100, required=False
    )
    skills = forms.MultipleChoiceField(
        label=gettext_lazy("Skills"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    skills_note = forms.CharField(
        label=gettext_lazy("Other skills"), max_length=200, required=False
    )
    wishes = TeamChoices(
        label=gettext_lazy("Teams you would like to join"),
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, community_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wishes"].queryset = teams_for(community_id)


class ProfileForm(ProfileFields):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50, required=False)
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    origin = forms.ChoiceField(
        label=pgettext_lazy("volunteers", "Who are you?"),
        choices=ORIGIN_CHOICES,
        widget=forms.RadioSelect,
    )
    hide_from_board = forms.BooleanField(
        label=gettext_lazy("Hide me from the leaderboard"), required=False
    )


def profile_initial(v: Volunteer) -> dict:
    return {
        "name": v.name,
        "phone": people.national(v.phone),
        "origin": v.origin,
        "organisation": v.organisation,
        "skills": v.skills,
        "skills_note": v.skills_note,
        "wishes": list(v.wishes.all()),
        "hide_from_board": v.hide_from_board,
    }


def _my_profile(request) -> Volunteer | None:
    return volunteer_of(request.user)


def _profile_page(request, v, form=None, avail_form=None, status=200):
    from shouwang.checkpoints import roster

    rows = list(roster.availability_of(request.user)) if v.user_id else []
    for a in rows:
        a.when = weekday_label(a)
        a.through_midnight = a.ends_at <= a.starts_at
    return render(
        request,
        "volunteers/profile.html",
        {
            "v": v,
            "form": form or ProfileForm(initial=profile_initial(v), community_id=v.community_id),
            "avail_form": avail_form or AvailabilityForm(),
            "availability": rows,
            "declaration": people.declaration_today(v),
        },
        status=status,
    )


@never_cache
@capability_required("volunteers.serve")
def profile(request):
    v = _my_profile(request)
    if v is None:
        return redirect("volunteers:join_me")
    if request.method == "POST":
        form = ProfileForm(request.POST, community_id=v.community_id)
        if form.is_valid():
            try:
                people.update_profile(
                    actor=request.user,
                    volunteer=v,
                    **{k: form.cleaned_data[k] for k in form.fields},
                )
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                messages.success(request, _("Your profile is saved."))
                return redirect("volunteers:profile")
        return _profile_page(request, v, form=form)
    return _profile_page(request, v)


@require_POST
@capability_required("volunteers.serve")
def profile_availability_add(request):
    from shouwang.checkpoints import roster

    v = _my_profile(request)
    if v is None:
        return redirect("volunteers:join_me")
    form = AvailabilityForm(request.POST)
    if form.is_valid():
        try:
            roster.availability_add(actor=request.user, user=request.user, **form.cleaned_data)
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("Your availability is saved."))
            return redirect(reverse("volunteers:profile") + "#availability")
    return _profile_page(request, v, avail_form=form, status=400)


@require_POST
@capability_required("volunteers.serve")
def profile_availability_remove(request, pk: int):
    from shouwang.checkpoints import roster

    row = roster.availability_get_for(request.user, pk)
    if row.user_id != request.user.pk:
        raise Forbidden("forbidden", _("This is someone else's availability."))
    roster.availability_remove(actor=request.user, availability=row)
    messages.success(request, _("Removed."))
    return redirect(reverse("volunteers:profile") + "#availability")


# --- the daily health declaration ----------------------------------------------------------------

YES_NO = [("no", pgettext_lazy("volunteers", "No")), ("yes", pgettext_lazy("volunteers", "Yes"))]


class DeclareForm(DomainErrors, forms.Form):
    temperature = forms.CharField(
        label=gettext_lazy("Temperature (°C), if you took it"),
        max_length=6,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "36.5"}
        ),
    )
    symptoms = forms.ChoiceField(
        label=gettext_lazy("Fever, cough, sore throat or other symptoms today?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Answer yes or no.")},
    )
    contact = forms.ChoiceField(
        label=gettext_lazy("Contact with a case, or been in a risk area, in the last 14 days?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Answer yes or no.")},
    )


@never_cache
@capability_required("volunteers.serve")
def declare(request):
    v = _my_profile(request)
    if v is None:
        return redirect("volunteers:join_me")
    today = people.declaration_today(v)
    if request.method == "POST":
        form = DeclareForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                decl = people.declare(
                    volunteer=v,
                    temperature=d["temperature"],
                    symptoms=d["symptoms"] == "yes",
                    contact=d["contact"] == "yes",
                )
            except DomainError as e:
                form.add_domain_errors(e)
            else:
                if decl.well:
                    messages.success(request, _("Thank you: you are declared well for today."))
                else:
                    messages.warning(
                        request,
                        _(
                            "Please stay at home today and rest: you cannot check in. Tell your "
                            "team leader, and call the committee if you feel worse."
                        ),
                    )
                return redirect("volunteers:me")
    else:
        initial = {}
        if today is not None:
            initial = {
                "temperature": today.temperature or "",
                "symptoms": "yes" if today.symptoms else "no",
                "contact": "yes" if today.contact else "no",
            }
        form = DeclareForm(initial=initial)
    return render(
        request,
        "volunteers/declare.html",
        {
            "v": v,
            "form": form,
            "today": today,
            "fever_at": people.fever_at(v.community_id),
            "left": v.status == VolunteerStatus.LEFT,
        },
    )


urlpatterns = [
    path("volunteers/join/", join_me, name="join_me"),
    # Before <community_code>: "poster" is not a community.
    path("volunteers/join/poster/", join_poster, name="join_poster"),
    path("volunteers/join/<str:community_code>/", join, name="join"),
    path("volunteers/me/profile/", profile, name="profile"),
    path(
        "volunteers/me/profile/availability/",
        profile_availability_add,
        name="profile_availability_add",
    ),
    path(
        "volunteers/me/profile/availability/<int:pk>/remove/",
        profile_availability_remove,
        name="profile_availability_remove",
    ),
    path("volunteers/me/declare/", declare, name="declare"),
]
