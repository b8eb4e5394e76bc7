"""Care for vulnerable residents (重点人群帮扶).

Dongtian followed up its vulnerable residents every day, by visit, phone or video; Xi'an paired
each with a committee member or a party member. The list comes from the ledger's care tags (the
tags that count are the community's Policy); a Pairing says who looks after whom and how often;
a FollowUp records each contact — how, how the person was, what they need — and a need found
becomes a help-line request in one step (FollowUp.request).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class Policy(models.Model):
    """Which care tags put a resident on the list, and how often they are followed up."""

    community = models.OneToOneField(
        "registry.Community", on_delete=models.CASCADE, related_name="+"
    )
    # registry.CareTag bits; 0 means the default (selectors.DEFAULT_TAGS).
    tags = models.PositiveIntegerField(default=0)
    every_days = models.PositiveSmallIntegerField(_("follow up every (days)"), default=1)

    class Meta:
        verbose_name = _("care policy")

    def __str__(self):
        return f"care policy {self.community_id}"


class Pairing(models.Model):
    """Who looks after a resident: a staff member (a user) or a party member from the ledger who
    may have no account. One live pairing per resident; ending one keeps it in the history."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey(
        "registry.Resident",
        on_delete=models.CASCADE,
        related_name="care_pairings",
        verbose_name=_("resident"),
    )
    carer = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff member"),
    )
    carer_resident = models.ForeignKey(
        "registry.Resident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("party member"),
    )
    # This person's own rhythm in days, overriding the policy's (e.g. every 2 days for someone
    # steadier); empty: the policy's.
    every_days = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("care pairing")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=models.Q(ended_at__isnull=True),
                name="care_pairing_live",
            ),
            models.CheckConstraint(
                condition=models.Q(carer__isnull=False) | models.Q(carer_resident__isnull=False),
                name="care_pairing_has_carer",
            ),
        ]

    def __str__(self):
        return f"{self.resident_id} ← {self.carer_name}"

    @property
    def carer_name(self) -> str:
        if self.carer_id:
            return self.carer.label
        return self.carer_resident.name if self.carer_resident_id else ""


class Mode(models.TextChoices):
    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone")
    VIDEO = "video", _("Video")


class Outcome(models.TextChoices):
    """As WHO Go.Data records follow-ups."""

    WELL = "well", _("Seen, well")
    CONCERN = "concern", _("Seen, with concerns")
    MISSED = "missed", _("Not reached")


class FollowUp(models.Model):
    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey(
        "registry.Resident", on_delete=models.CASCADE, related_name="care_follow_ups"
    )
    # Denormalised from the resident for the household page and grid scope.
    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, related_name="care_follow_ups"
    )
    pairing = models.ForeignKey(
        Pairing, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    at = models.DateTimeField(_("when"))
    mode = models.CharField(_("how"), max_length=8, choices=Mode.choices)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    # Health information: shown to the roles with care.view only.
    condition = models.TextField(_("condition"), blank=True, default="")
    needs = models.TextField(_("needs"), blank=True, default="")
    # The help-line request a need turned into.
    request = models.ForeignKey(
        "helpline.HelpRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="care_follow_ups",
    )
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Who made the contact, when it was a party member without an account.
    by_name = models.CharField(_("by"), max_length=50, blank=True, default="")
    client_key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("follow-up")
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "client_key"],
                condition=~models.Q(client_key=""),
                name="care_followup_client_key",
            )
        ]
        indexes = [models.Index(fields=["resident", "at"], name="care_followup_resident")]

    def __str__(self):
        return f"{self.resident_id} {self.at:%Y-%m-%d} {self.mode}"
