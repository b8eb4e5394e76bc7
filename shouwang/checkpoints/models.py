"""Checkpoints (卡口): gates and the checkpoints they were merged into, the community's gate
policy, duty rosters, every passage through a checkpoint, visitors and couriers, and parcels
left at the gate shelf.

Qianjinxiang merged 17 gates of 11 compounds into 8 checkpoints; Dongtian staffed its gates in
three shifts round the clock with at least one committee member on each and volunteers rotating
every two hours, and asked everyone for identity, temperature, information and a mask (身份必问、
体温必测、信息必录、口罩必戴). When Xi'an's health-code platform went down in December 2021 the
gates had only paper: Shouwang decides from its own data (the ledger, area control, test rounds).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

USER = settings.AUTH_USER_MODEL


class Checkpoint(models.Model):
    """A staffed checkpoint (卡口): one or more gates merged into it."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    # Where it stands (optional: a checkpoint on a road between compounds has none).
    compound = models.ForeignKey(
        "registry.Compound",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("compound"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("checkpoint")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="checkpoints_cp_name"),
        ]

    def __str__(self):
        return self.name


class Gate(models.Model):
    """A gate of a compound: open or closed, with hours, and the checkpoint it was merged into."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    compound = models.ForeignKey(
        "registry.Compound",
        on_delete=models.CASCADE,
        related_name="gates",
        verbose_name=_("compound"),
    )
    name = models.CharField(_("name"), max_length=100)
    is_open = models.BooleanField(pgettext_lazy("gate", "open"), default=True)
    # Both empty: round the clock.
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    checkpoint = models.ForeignKey(
        Checkpoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gates",
        verbose_name=_("checkpoint"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("gate")
        ordering = ["compound__name", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "name"], name="checkpoints_gate_name"),
        ]

    def __str__(self):
        return self.name


class Policy(models.Model):
    """The community's rules at the gate and for its rosters. One row per community, made with
    the defaults the seeds report when first needed (services.policy_for)."""

    community = models.OneToOneField(
        "registry.Community", on_delete=models.CASCADE, related_name="+"
    )
    # --- the pass decision
    fever_at = models.DecimalField(
        _("fever from (°C)"), max_digits=3, decimal_places=1, default=Decimal("37.3")
    )
    # A negative test taken within this many hours (0: no test asked for).
    test_hours = models.PositiveSmallIntegerField(_("negative test within (hours)"), default=48)
    antigen_counts = models.BooleanField(_("a negative antigen self-test counts"), default=False)
    # A positive result within this many days stops the person.
    positive_days = models.PositiveSmallIntegerField(_("positive within (days)"), default=14)
    ask_health_code = models.BooleanField(_("guards record the health-code colour"), default=False)
    # --- rosters
    shift_hours = models.PositiveSmallIntegerField(_("shift length (hours)"), default=8)
    first_shift_at = models.TimeField(_("first shift starts"), default="08:00")
    committee_per_shift = models.PositiveSmallIntegerField(
        _("committee members per shift"), default=1
    )
    rotation_hours = models.PositiveSmallIntegerField(_("volunteer rotation (hours)"), default=2)
    guards_per_rotation = models.PositiveSmallIntegerField(
        _("volunteers or guards per rotation"), default=1
    )
    max_hours_per_day = models.PositiveSmallIntegerField(
        _("at most hours per person per day"), default=8
    )
    min_rest_hours = models.PositiveSmallIntegerField(
        _("at least hours of rest between duties"), default=8
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("checkpoint policy")
        verbose_name_plural = _("checkpoint policies")

    def __str__(self):
        return f"policy of {self.community_id}"


class Availability(models.Model):
    """When a person can be on duty: every week on a weekday, or on one date; from–until (until
    before from: through midnight)."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("weekday"), null=True, blank=True)  # 0 Monday
    date = models.DateField(_("date"), null=True, blank=True)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")
        ordering = ["user_id", "weekday", "date", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__isnull=False, date__isnull=True)
                | models.Q(weekday__isnull=True, date__isnull=False),
                name="checkpoints_avail_weekday_or_date",
            ),
        ]

    def __str__(self):
        return f"{self.user_id} {self.weekday if self.date is None else self.date}"


class Shift(models.Model):
    """One shift at one checkpoint (by default three of eight hours a day)."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))

    class Meta:
        verbose_name = _("shift")
        ordering = ["starts_at", "checkpoint_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "starts_at"], name="checkpoints_shift_start"
            ),
        ]
        indexes = [models.Index(fields=["community", "starts_at"], name="checkpoints_shift_at")]

    def __str__(self):
        return f"{self.checkpoint_id} {self.starts_at:%Y-%m-%d %H:%M}"


class DutyKind(models.TextChoices):
    COMMITTEE = "committee", _("committee member")  # 居委干部: one on every shift
    ROTATION = "rotation", _("volunteer or guard")  # rotating every two hours


class Duty(models.Model):
    """A person on duty at a checkpoint for part (or all) of a shift."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="duties")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("as"), max_length=10, choices=DutyKind.choices)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    # Made by the generator (False: put in by hand).
    generated = models.BooleanField(default=False)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("duty")
        verbose_name_plural = _("duties")
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["user", "starts_at"], name="checkpoints_duty_user"),
            models.Index(fields=["community", "starts_at"], name="checkpoints_duty_at"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.starts_at:%Y-%m-%d %H:%M}"


class Direction(models.TextChoices):
    IN = "in", _("in")
    OUT = "out", _("out")


class Decision(models.TextChoices):
    ALLOW = "allow", _("Allow")
    DENY = "deny", _("Deny")
    CHECK = "check", _("Check further")


class CodeColour(models.TextChoices):
    GREEN = "green", _("green")
    YELLOW = "yellow", _("yellow")
    RED = "red", _("red")


class Visitor(models.Model):
    """A visitor or courier registered at a checkpoint."""

    class Kind(models.TextChoices):
        VISITOR = "visitor", _("visitor")
        COURIER = "courier", _("courier")

    class Proof(models.TextChoices):
        NONE = "none", _("none shown")
        NEGATIVE = "negative", _("negative test seen")
        ANTIGEN = "antigen", _("negative antigen test seen")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    checkpoint = models.ForeignKey(
        Checkpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="visitors"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.VISITOR)
    name = models.CharField(_("name"), max_length=50)
    phone_enc = models.TextField(blank=True, default="")
    phone_masked = models.CharField(_("mobile phone"), max_length=20, blank=True, default="")
    company = models.CharField(_("company"), max_length=100, blank=True, default="")
    purpose = models.CharField(_("purpose"), max_length=200, blank=True, default="")
    host = models.ForeignKey(
        "registry.Household",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("host household"),
    )
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    proof = models.CharField(
        _("test proof"), max_length=8, choices=Proof.choices, default=Proof.NONE
    )
    proof_note = models.CharField(_("proof note"), max_length=100, blank=True, default="")
    decision = models.CharField(
        _("decision"), max_length=5, choices=Decision.choices, default=Decision.ALLOW
    )
    reasons = models.CharField(max_length=100, blank=True, default="")
    arrived_at = models.DateTimeField(_("arrived"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    registered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("visitor")
        ordering = ["-arrived_at", "-pk"]
        indexes = [models.Index(fields=["community", "arrived_at"], name="checkpoints_vis_at")]

    def __str__(self):
        return self.name


class PaperBatch(models.Model):
    """A paper tick-sheet typed in afterwards: its passages point here, so the same sheet is not
    entered twice unnoticed."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey(
        "registry.Building", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    date = models.DateField(_("date on the sheet"))
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    entered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now_add=True)
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("paper sheet")
        ordering = ["-entered_at", "-pk"]

    def __str__(self):
        return f"{self.checkpoint_id} {self.date}"


class Passage(models.Model):
    """One passage through a checkpoint, and the decision given. `uid` is made by the guard's
    page, so a retried send is one row."""

    class Via(models.TextChoices):
        PASS = "pass", _("pass scanned")
        SEARCH = "search", _("found by name, ID or phone")
        VISITOR = "visitor", _("visitor or courier")
        PAPER = "paper", _("typed in from a paper sheet")

    uid = models.UUIDField(unique=True, default=uuid.uuid4)
    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    checkpoint = models.ForeignKey(
        Checkpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="passages"
    )
    gate = models.ForeignKey(
        Gate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    resident = models.ForeignKey(
        "registry.Resident", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    visitor = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.CASCADE, related_name="passages"
    )
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.PASS)
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    code_colour = models.CharField(
        _("health code seen"), max_length=6, choices=CodeColour.choices, blank=True, default=""
    )
    decision = models.CharField(_("decision"), max_length=5, choices=Decision.choices)
    # The reasons' codes, comma-separated (decision.py names them).
    reasons = models.CharField(_("reasons"), max_length=200, blank=True, default="")
    # The control level of the person's home at that moment ("" for none).
    level = models.CharField(max_length=16, blank=True, default="")
    guard = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("time"))
    recorded_at = models.DateTimeField()
    paper = models.ForeignKey(
        PaperBatch, null=True, blank=True, on_delete=models.CASCADE, related_name="passages"
    )

    class Meta:
        verbose_name = _("passage")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["checkpoint", "at"], name="checkpoints_pass_cp_at"),
            models.Index(fields=["community", "at"], name="checkpoints_pass_comm_at"),
            models.Index(fields=["resident", "at"], name="checkpoints_pass_res_at"),
        ]

    def __str__(self):
        return f"{self.uid} {self.decision}"


class ParcelStatus(models.TextChoices):
    LOGGED = "logged", _("on the gate shelf")
    DISINFECTED = "disinfected", _("disinfected, held")
    HANDED = "handed", _("with the building volunteer")
    DELIVERED = "delivered", _("delivered")


class Parcel(models.Model):
    """A parcel left at the gate shelf (置物架): logged for a household, disinfected, held, handed
    to the building's volunteer and confirmed at the door. The household sees it on its page and
    gets an SMS when it is logged."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    checkpoint = models.ForeignKey(
        Checkpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="parcels"
    )
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+")
    courier = models.CharField(_("courier or company"), max_length=100, blank=True, default="")
    description = models.CharField(_("what"), max_length=200, blank=True, default="")
    shelf = models.CharField(_("shelf place"), max_length=20, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=12, choices=ParcelStatus.choices, default=ParcelStatus.LOGGED
    )
    logged_at = models.DateTimeField(_("logged"))
    logged_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    disinfected_at = models.DateTimeField(_("disinfected"), null=True, blank=True)
    disinfected_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Held until (disinfected goods rest before they go in).
    held_until = models.DateTimeField(_("held until"), null=True, blank=True)
    handed_at = models.DateTimeField(_("handed over"), null=True, blank=True)
    handed_to = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    # Who confirmed the delivery: the volunteer (a user) or the household on its page.
    delivered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by_household = models.BooleanField(default=False)
    sms_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("parcel")
        ordering = ["-logged_at", "-pk"]
        indexes = [
            models.Index(fields=["community", "status"], name="checkpoints_parcel_status"),
            models.Index(fields=["household", "logged_at"], name="checkpoints_parcel_hh"),
        ]

    def __str__(self):
        return f"{self.household_id} {self.status}"
