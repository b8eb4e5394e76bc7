"""Shared look-ups of the volunteers app: the community's policy and teams, the signed-in user's
volunteer profile, rows scoped to the user's community, and check-in codes. Every part of the app
reads these instead of writing its own."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.permissions import can
from shouwang.accounts.scope import get_scoped
from shouwang.core.errors import Forbidden
from shouwang.volunteers.models import (
    Policy,
    Signup,
    Task,
    Team,
    TeamKind,
    Volunteer,
    VolunteerStatus,
)

# The six teams of the seeds, made for a community the first time its teams are asked for.
DEFAULT_TEAMS = (
    (TeamKind.TESTING, _("Testing team")),
    (TeamKind.SUPPLIES, _("Supplies team")),
    (TeamKind.ASSISTANCE, _("Targeted assistance team")),
    (TeamKind.DISINFECTION, _("Disinfection team")),
    (TeamKind.TRANSPORT, _("Transport team")),
    (TeamKind.CHECKPOINT, _("Checkpoint team")),
)

# Check-in codes: no 0/O, 1/I/L — read aloud and typed from a poster.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def policy_for(community_id: int) -> Policy:
    """The community's volunteer policy, made with the defaults the first time."""
    policy, _created = Policy.objects.get_or_create(community_id=community_id)
    return policy


def rest_rules(community_id: int) -> tuple[int, int]:
    """(at most hours per person per day, at least hours of rest between two blocks): the
    community's roster rules, kept on the checkpoints policy."""
    from shouwang.checkpoints.services import policy_for as roster_policy

    p = roster_policy(community_id)
    return p.max_hours_per_day, p.min_rest_hours


def teams_for(community_id: int, *, active_only: bool = True):
    """The community's teams, the six defaults made the first time."""
    qs = Team.objects.filter(community_id=community_id)
    if not qs.exists():
        # Named in the community's language (zh-Hans), whoever asked first and in which.
        with translation.override(settings.LANGUAGE_CODE):
            Team.objects.bulk_create(
                [
                    Team(community_id=community_id, kind=kind, name=str(name), position=i)
                    for i, (kind, name) in enumerate(DEFAULT_TEAMS)
                ],
                ignore_conflicts=True,
            )
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("position", "pk")


def volunteer_of(user) -> Volunteer | None:
    """The signed-in user's own volunteer profile, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Volunteer.objects.filter(user=user).select_related("team").first()


def active_volunteer(user) -> Volunteer:
    """The user's profile when it may grab and check in; a clear refusal otherwise."""
    v = volunteer_of(user)
    if v is None:
        raise Forbidden(
            "not_volunteer", _("You have not signed up as a volunteer yet: sign up first.")
        )
    if v.status == VolunteerStatus.PENDING:
        raise Forbidden(
            "not_approved",
            _(
                "Your sign-up is waiting for the committee's approval; you can grab tasks once "
                "it is approved."
            ),
        )
    if v.status != VolunteerStatus.ACTIVE:
        raise Forbidden(
            "not_active",
            _("Your volunteer profile is paused: ask the committee to make it active again."),
        )
    return v


def task_for(user, pk) -> Task:
    """A task or shift of the user's community (404 otherwise)."""
    return get_scoped(user, Task.objects.select_related("team"), pk)


def volunteer_for(user, pk) -> Volunteer:
    """A volunteer of the user's community (404 otherwise)."""
    return get_scoped(user, Volunteer.objects.select_related("team", "user"), pk)


def signup_for(user, pk) -> Signup:
    return get_scoped(user, Signup.objects.select_related("task", "volunteer"), pk)


def leads(user, task: Task) -> bool:
    """May `user` check people in, mark no-shows and correct hours on `task`? Staff with
    volunteers.manage, and the leader of the task's team (a volunteer themselves)."""
    if task.community_id != getattr(user, "community_id", None):
        return False
    if can(user, "volunteers.manage"):
        return True
    if task.team_id is None or not getattr(user, "is_authenticated", False):
        return False
    return Team.objects.filter(pk=task.team_id, leader__user=user).exists()


def require_lead(user, task: Task) -> None:
    if not leads(user, task):
        raise Forbidden("not_leader", _("Only the committee or this team's leader can do that."))


def new_code() -> str:
    """A fresh check-in code (unique in practice: 31^8; the column is unique in any case)."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
        if not Task.objects.filter(code=code).exists():
            return code


def clean_code(text: str) -> str:
    """What a volunteer typed or scanned — the code, the code with dashes or spaces, or the
    poster's whole URL — as a bare code; '' when nothing like one is there."""
    text = (text or "").strip()
    if "/" in text:
        text = [p for p in text.split("/") if p][-1] if text.strip("/") else ""
    code = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return ""
    return code
