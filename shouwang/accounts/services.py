"""Sign-in guarding, users and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.models import ApiToken, LoginFailure, Role, User
from shouwang.core.audit import audit
from shouwang.core.errors import DomainError


class LoginLocked(DomainError):
    status = 429


def login_check_lock(*, username: str, address: str | None) -> None:
    """Refuse before any password hash is computed.

    Locks on account + address (a guesser cannot lock a colleague out from another desk by
    typing their name) and caps every account per hour (a botnet spread over many addresses
    still cannot guess faster than that).
    """
    now = timezone.now()
    username = username.strip().lower()
    recent = LoginFailure.objects.filter(
        username=username, at__gte=now - timedelta(seconds=settings.LOGIN_LOCK_SECONDS)
    )
    if recent.filter(address=address).count() >= settings.LOGIN_LOCK_FAILURES:
        raise LoginLocked(
            "login_locked",
            _("Too many wrong passwords from this device. Wait 15 minutes and try again."),
        )
    hourly = LoginFailure.objects.filter(username=username, at__gte=now - timedelta(hours=1))
    if hourly.count() >= settings.LOGIN_ACCOUNT_HOURLY_CAP:
        raise LoginLocked(
            "login_locked",
            _(
                "This account has had too many failed sign-ins in the last hour. Try again later "
                "or ask the community admin."
            ),
        )


def login_authenticate(*, request, username: str, password: str) -> User:
    address = request.META.get("REMOTE_ADDR")
    login_check_lock(username=username, address=address)
    user = authenticate(request, username=username.strip(), password=password)
    if user is None:
        name = username.strip().lower()
        LoginFailure.objects.create(username=name, address=address)
        # Keep the table small: only the last day matters to either limit.
        LoginFailure.objects.filter(
            username=name, at__lt=timezone.now() - timedelta(days=1)
        ).delete()
        raise DomainError(
            "login_failed", _("Wrong user name or password. Check both and try again.")
        )
    LoginFailure.objects.filter(username=username.strip().lower(), address=address).delete()
    return user


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str,
    role: str,
    community=None,
    grid=None,
    district=None,
    display_name: str = "",
) -> User:
    if role not in Role.values:
        raise DomainError("role_unknown", _("Unknown role."), fields={"role": role})
    if role == Role.GRID_LEADER and grid is None:
        raise DomainError("grid_required", _("A grid leader needs a grid."))
    if role != Role.DISTRICT and community is None:
        raise DomainError("community_required", _("Every user belongs to a community."))
    if User.objects.filter(username=username).exists():
        raise DomainError("username_taken", _("That user name is taken."))
    user = User(
        username=username,
        role=role,
        community=community,
        grid=grid,
        district=district,
        display_name=display_name,
        is_staff=False,
    )
    user.set_password(password)
    user.save()
    audit(
        actor=actor,
        action="user.create",
        community=community,
        target=user,
        summary=f"{username} ({role})",
    )
    return user


@transaction.atomic
def token_create(*, user: User, label: str = "") -> str:
    """Returns the token once; only its digest is kept."""
    token = "sw_" + secrets.token_urlsafe(30)
    ApiToken.objects.create(
        user=user, digest=ApiToken.digest_of(token), prefix=token[3:11], label=label
    )
    audit(actor=user, action="token.create", community=user.community_id, target=user)
    return token


def token_user(token: str) -> User | None:
    row = (
        ApiToken.objects.active()
        .select_related("user")
        .filter(digest=ApiToken.digest_of(token))
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    # Touch at most once a minute: a script making many calls should not write on every call.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
