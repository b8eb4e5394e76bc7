"""The residents' side: personal passes, household links, SMS sign-in codes, consent to act on
someone's behalf (and the record of what was done), the community's service directory and
notices."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Pass(models.Model):
    """A resident's personal QR pass. The code is random: it says nothing about the person, and a
    leaked image is revoked and replaced by a new code. At most one active pass per resident."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        REVOKED = "revoked", _("revoked")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey(
        "registry.Resident", on_delete=models.CASCADE, related_name="passes"
    )
    # The random part of the token (8 Crockford base-32 characters); the printed token adds a
    # keyed check so that a typo or a forgery is refused without a database lookup.
    code = models.CharField(max_length=16, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.CharField(max_length=200, blank=True, default="")
    # When a card with this pass was last put on a print sheet, and how many times.
    printed_at = models.DateTimeField(null=True, blank=True)
    print_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("pass")
        verbose_name_plural = _("passes")
        constraints = [
            models.UniqueConstraint(
                fields=["resident"], condition=Q(status="active"), name="pass_one_active"
            )
        ]
        indexes = [models.Index(fields=["community", "status"], name="pass_comm_status")]

    def __str__(self):
        return self.code


class HouseholdLink(models.Model):
    """A password-free link to one household's page (a QR on the card, or an SMS).

    Only a hash finds the link; the token is also kept encrypted so that a card can be
    reprinted with the same link. Revoking it ends every session opened through it."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, related_name="links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    token_enc = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)
    sent_to_masked = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        verbose_name = _("household link")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(revoked_at__isnull=True), name="link_one_active"
            )
        ]

    def __str__(self):
        return f"link #{self.pk} of household {self.household_id}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class OtpCode(models.Model):
    """One SMS sign-in code. Neither the phone nor the code is stored: the phone as its blind
    index, the code as a keyed hash. Rows are also the record of sends for the rate limits."""

    phone_index = models.CharField(max_length=32, db_index=True)
    code_hash = models.CharField(max_length=64)
    address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    # False when the number is not in the ledger: nothing was sent, but the row still counts
    # against the limits so that probing numbers costs the same as signing in.
    sent = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["address", "created_at"], name="otp_addr_time")]

    def __str__(self):
        return f"code #{self.pk}"


class OtpFailure(models.Model):
    """A wrong code, for the guessing limits per phone and per address."""

    phone_index = models.CharField(max_length=32)
    address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["phone_index", "at"], name="otpfail_phone_time"),
            models.Index(fields=["address", "at"], name="otpfail_addr_time"),
        ]

    def __str__(self):
        return f"failure #{self.pk}"


class SmsMessage(models.Model):
    """What went out through the gateway: to whom (masked), what kind, whether it went. Never
    the text of a sign-in code."""

    community = models.ForeignKey(
        "registry.Community", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to_masked = models.CharField(max_length=20)
    kind = models.CharField(max_length=20)
    gateway = models.CharField(max_length=40)
    ok = models.BooleanField(default=True)
    error = models.CharField(max_length=200, blank=True, default="")
    provider_id = models.CharField(max_length=100, blank=True, default="")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.kind} to {self.to_masked}"


class ProxyRelation(models.TextChoices):
    FAMILY = "family", _("family member")
    NEIGHBOUR = "neighbour", _("neighbour")
    BUILDING_VOLUNTEER = "building_volunteer", _("building volunteer")
    PARTY_MEMBER = "party_member", _("party member")
    OTHER = "other", _("other")


class Consent(models.Model):
    """A household lets a person act for it (or for one of its members), recorded by staff on
    the household page with the date the household agreed.

    The person is either a user of Shouwang (a building volunteer or party member with an
    account) or someone known by a phone number — a daughter in another district need not be in
    this ledger; she signs in with that phone and an SMS code."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, related_name="consents"
    )
    # Empty: for the whole household.
    resident = models.ForeignKey(
        "registry.Resident", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    proxy_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    proxy_name = models.CharField(_("name"), max_length=50)
    proxy_phone_index = models.CharField(max_length=32, blank=True, default="", db_index=True)
    proxy_phone_enc = models.TextField(blank=True, default="")
    proxy_phone_masked = models.CharField(max_length=20, blank=True, default="")
    relation = models.CharField(_("relation"), max_length=20, choices=ProxyRelation.choices)
    note = models.CharField(_("note"), max_length=100, blank=True, default="")
    granted_on = models.DateField(_("agreed on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("consent")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(proxy_user__isnull=False, proxy_phone_index="")
                | (Q(proxy_user__isnull=True) & ~Q(proxy_phone_index="")),
                name="consent_one_proxy",
            )
        ]

    def __str__(self):
        return f"{self.proxy_name} for household {self.household_id}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class BehalfAction(models.Model):
    """ "Done by X on behalf of Y": written by every module when someone acts under a consent,
    and shown to the household on its page."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey(
        "registry.Household", on_delete=models.CASCADE, related_name="behalf_actions"
    )
    resident = models.ForeignKey(
        "registry.Resident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="actions")
    actor_name = models.CharField(max_length=60)
    action = models.CharField(max_length=40)
    summary = models.CharField(max_length=200)
    target_type = models.CharField(max_length=60, blank=True, default="")
    target_id = models.CharField(max_length=40, blank=True, default="")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["household", "at"], name="behalf_hh_time")]

    def __str__(self):
        return f"{self.actor_name}: {self.summary}"


class DirectoryKind(models.TextChoices):
    COMMITTEE = "committee", _("residents' committee")
    PHARMACY = "pharmacy", _("pharmacy")
    SUPERMARKET = "supermarket", _("supermarket")
    CLINIC = "clinic", _("clinic")
    HOSPITAL = "hospital", _("hospital")
    HOTLINE = "hotline", _("hotline")
    OTHER = "other", _("other")


class DirectoryEntry(models.Model):
    """One line of the service directory printed on the back of the cards (seed 001: the
    pharmacies, supermarkets and clinics within 1 km, with their phone numbers)."""

    community = models.ForeignKey(
        "registry.Community", on_delete=models.CASCADE, related_name="directory"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DirectoryKind.choices)
    name = models.CharField(_("name"), max_length=60)
    phone = models.CharField(_("phone"), max_length=30)
    address = models.CharField(_("address"), max_length=100, blank=True, default="")
    distance_m = models.PositiveIntegerField(_("distance (m)"), null=True, blank=True)
    hours = models.CharField(_("opening hours"), max_length=40, blank=True, default="")
    on_card = models.BooleanField(_("print on cards"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("directory entry")
        ordering = ["sort", "kind", "distance_m", "name"]

    def __str__(self):
        return f"{self.name} {self.phone}"


class Notice(models.Model):
    """An announcement to residents: the whole community, or one compound, building or grid."""

    community = models.ForeignKey(
        "registry.Community", on_delete=models.CASCADE, related_name="notices"
    )
    title = models.CharField(_("title"), max_length=80)
    body = models.TextField(_("text"), max_length=2000)
    compound = models.ForeignKey(
        "registry.Compound", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    building = models.ForeignKey(
        "registry.Building", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    grid = models.ForeignKey(
        "grids.Grid", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("shown until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["community", "published_at"], name="notice_comm_time")]

    def __str__(self):
        return self.title
