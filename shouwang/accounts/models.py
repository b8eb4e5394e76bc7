"""Users, roles and the scope each role works in."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Community admin")
    GRID_LEADER = "grid_leader", _("Grid leader")
    STAFF = "staff", _("Staff operator")
    GUARD = "guard", _("Checkpoint guard")
    SAMPLER = "sampler", _("Sampler")
    VOLUNTEER = "volunteer", _("Volunteer")
    MERCHANT = "merchant", _("Merchant")
    RESIDENT = "resident", _("Resident")
    DISTRICT = "district", _("District viewer")


class User(AbstractUser):
    """Every user belongs to one community; a grid leader also to a grid; a district viewer to a
    district (and sees only roll-ups of its communities)."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.STAFF)
    community = models.ForeignKey(
        "registry.Community",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("community"),
    )
    grid = models.ForeignKey(
        "grids.Grid",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        verbose_name=_("grid"),
    )
    district = models.ForeignKey(
        "registry.District",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("district"),
    )
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    # Staff users' own phone, for the printed directory; not a resident's personal data.
    work_phone = models.CharField(_("work phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="district")
                | models.Q(community__isnull=False)
                | models.Q(is_superuser=True),
                name="user_has_community",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="grid_leader") | models.Q(grid__isnull=False),
                name="grid_leader_has_grid",
            ),
        ]

    def __str__(self):
        return self.display_name or self.username

    @property
    def label(self) -> str:
        return self.display_name or self.username


class LoginFailure(models.Model):
    """Failed sign-ins, counted before the password hash is computed (guessing protection)."""

    username = models.CharField(max_length=150)
    address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"], name="loginfail_user_at"),
        ]

    def __str__(self):
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token for scripts. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self):
        return f"{self.user} {self.prefix}…"

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
