"""Relief batches (救助物资发放): what one portion holds, how many portions there are, the rule
that says how many portions each household gets, and the allocations made when a batch is issued.

Huamei gave one parcel per door until it found rented homestead buildings with five or six
families behind one door: the rule counts households (families), never doors, and gives a second
portion from a size threshold (Huamei: 6 people).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    COMMUNITY = "community", _("the whole community")
    COMPOUNDS = "compounds", _("selected compounds")
    GRIDS = "grids", _("selected grids")
    # The households in places under the chosen control levels (sealed buildings get their
    # relief at the door): shouwang/control/levels.py.
    CONTROL = "control", _("places under control levels")


class ReliefBatch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ISSUED = "issued", _("issued")
        CLOSED = "closed", _("closed")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=100)
    # One item per line ("大米 5 kg"): printed on the distribution list as is.
    contents = models.TextField(_("contents of one portion"), blank=True, default="")
    portions_available = models.PositiveIntegerField(_("portions available"))
    per_household = models.PositiveSmallIntegerField(_("portions per household"), default=1)
    # Copied from Community.large_household_threshold when the batch is made.
    large_threshold = models.PositiveSmallIntegerField(_("large household from (people)"))
    large_portions = models.PositiveSmallIntegerField(
        _("portions for a large household"), default=2
    )
    # {"<CareTag value>": extra portions per member living here with that tag}, e.g.
    # {"128": 1, "2": 1}: +1 per infant, +1 per person aged 80 or more.
    tag_extras = models.JSONField(_("extra portions per care tag"), default=dict, blank=True)
    scope = models.CharField(
        _("who"), max_length=12, choices=Scope.choices, default=Scope.COMMUNITY
    )
    compounds = models.ManyToManyField(
        "registry.Compound", blank=True, related_name="+", verbose_name=_("compounds")
    )
    grids = models.ManyToManyField(
        "grids.Grid", blank=True, related_name="+", verbose_name=_("grids")
    )
    # Scope CONTROL: the levels, comma-separated ("sealed,controlled").
    control_levels = models.CharField(_("control levels"), max_length=100, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    # The admin confirmed issuing fewer portions than the rule asks (some households left out).
    partial = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("relief batch")
        verbose_name_plural = _("relief batches")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(large_portions__gte=models.F("per_household")),
                name="relief_large_not_less",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def content_lines(self) -> list[str]:
        return [line.strip() for line in self.contents.splitlines() if line.strip()]

    def extras(self) -> dict[int, int]:
        """tag_extras with integer keys, zero entries dropped."""
        out = {}
        for k, v in (self.tag_extras or {}).items():
            try:
                tag, extra = int(k), int(v)
            except (TypeError, ValueError):
                continue
            if extra > 0:
                out[tag] = extra
        return out


class ReliefAllocation(models.Model):
    """One household's share of an issued batch, with a snapshot of where it is delivered (the
    list stays as printed when a building moves grids or the head changes)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("to deliver")
        DELIVERED = "delivered", _("delivered")
        NOT_HOME = "not_home", _("not at home")
        REFUSED = "refused", _("refused")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(ReliefBatch, on_delete=models.CASCADE, related_name="allocations")
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="relief_allocations"
    )
    grid = models.ForeignKey(
        "grids.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    building = models.ForeignKey("registry.Building", on_delete=models.PROTECT, related_name="+")
    door = models.CharField(_("door"), max_length=110)
    head_masked = models.CharField(_("head of household"), max_length=60, blank=True, default="")
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, default="")
    people = models.PositiveSmallIntegerField(_("people"))
    portions = models.PositiveSmallIntegerField(_("portions"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    follow_up = models.CharField(_("follow-up"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("relief allocation")
        ordering = ["batch_id", "building_id", "door", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "household"], name="relief_alloc_unique"),
        ]
        indexes = [
            models.Index(fields=["batch", "grid", "status"], name="relief_alloc_grid"),
        ]

    def __str__(self):
        return f"{self.batch_id}/{self.household_id}"
