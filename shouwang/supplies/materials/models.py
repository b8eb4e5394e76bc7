"""The materials store (防疫物资): items, places that hold them, stock per (item, place), the
movement ledger and stock-takes.

`Stock.quantity` is the book figure. It only changes in the same transaction as a `Movement`
that explains it, through a conditional `UPDATE … WHERE quantity >= n` (services.py); the
CHECK constraint is the last line of defence. Movements are never edited: a wrong entry is
corrected by another movement (a stock-take adjustment or a transfer back).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Item(models.Model):
    class Category(models.TextChoices):
        MASK = "mask", _("mask")
        SUIT = "suit", _("protective suit")
        GLOVES = "gloves", _("gloves")
        THERMOMETER = "thermometer", _("thermometer")
        DISINFECTANT = "disinfectant", _("disinfectant")
        ANTIGEN = "antigen", _("antigen test kit")
        OTHER = "other", _("other")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=20)
    category = models.CharField(
        _("category"), max_length=16, choices=Category.choices, default=Category.OTHER
    )
    # Alert when the community's total is at or below this (0: only when none is left).
    low_stock_threshold = models.PositiveIntegerField(_("low-stock threshold"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["category", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="mat_item_name_unique")
        ]

    def __str__(self):
        return self.name


class Location(models.Model):
    """A place that holds stock. A checkpoint here is only a named place (the checkpoints
    module, issue 7, will have its own records)."""

    class Kind(models.TextChoices):
        OFFICE = "office", _("office")
        CHECKPOINT = "checkpoint", _("checkpoint")
        WAREHOUSE = "warehouse", _("warehouse")
        OTHER = "other", _("other")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.OFFICE)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["kind", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="mat_location_name_unique")
        ]

    def __str__(self):
        return self.name


class Stock(models.Model):
    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="stocks")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="stocks")
    quantity = models.IntegerField(default=0)
    # Optional alert for this place alone (a checkpoint that must never run out of gloves).
    threshold = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stock")
        constraints = [
            models.UniqueConstraint(fields=["item", "location"], name="mat_stock_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="mat_stock_not_negative"),
        ]

    def __str__(self):
        return f"{self.item} @ {self.location}: {self.quantity}"


class RecipientKind(models.TextChoices):
    TEAM = "team", _("team")
    CHECKPOINT = "checkpoint", _("checkpoint")
    VOLUNTEER = "volunteer", _("volunteer")
    PERSON = "person", _("person")


class Movement(models.Model):
    """One line of the ledger. `quantity` is always positive; the direction is in the places:
    stock comes in at `to_location` and goes out of `from_location` (an adjustment has one)."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("receipt")
        ISSUE = "issue", _("issue")
        TRANSFER = "transfer", _("transfer")
        ADJUSTMENT = "adjustment", _("stock-take adjustment")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="movements")
    from_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    recipient_kind = models.CharField(
        _("issued to"), max_length=12, choices=RecipientKind.choices, blank=True, default=""
    )
    recipient_text = models.CharField(_("recipient"), max_length=100, blank=True, default="")
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Supplier, donation note, delivery note number …
    reference = models.CharField(_("reference"), max_length=200, blank=True, default="")
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    stock_take = models.ForeignKey(
        "StockTake", null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    # A form's or client's key for this submission: sending it again returns the same movement.
    request_key = models.CharField(max_length=64, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("movement")
        verbose_name_plural = _("movements")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["community", "-at"], name="mat_move_comm_at")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="mat_move_positive"),
            models.UniqueConstraint(
                fields=["community", "request_key"],
                condition=~Q(request_key=""),
                name="mat_move_request_key",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="receipt", from_location__isnull=True, to_location__isnull=False)
                    | Q(kind="issue", from_location__isnull=False, to_location__isnull=True)
                    | Q(kind="transfer", from_location__isnull=False, to_location__isnull=False)
                    | (
                        Q(kind="adjustment")
                        & (Q(from_location__isnull=True) ^ Q(to_location__isnull=True))
                    )
                ),
                name="mat_move_places",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.item_id} × {self.quantity}"

    @property
    def recipient(self) -> str:
        if self.recipient_user_id:
            u = self.recipient_user
            return u.label
        return self.recipient_text

    @property
    def signed_quantity(self) -> int:
        """For an adjustment: + found, − missing."""
        return -self.quantity if self.from_location_id else self.quantity


class StockTake(models.Model):
    """Counting one place. Each line keeps the book figure at the moment it was counted, so
    issues made while the count goes on do not turn into false differences."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_takes")
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("stock-take")
        verbose_name_plural = _("stock-takes")
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["location"],
                condition=Q(finished_at__isnull=True),
                name="mat_one_open_stocktake",
            )
        ]

    def __str__(self):
        return f"{self.location} {self.started_at:%Y-%m-%d}"

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


class StockTakeLine(models.Model):
    stock_take = models.ForeignKey(StockTake, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    expected = models.IntegerField(_("book"), default=0)
    counted = models.PositiveIntegerField(_("counted"), null=True, blank=True)
    difference = models.IntegerField(_("difference"), null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item__category", "item__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["stock_take", "item"], name="mat_stocktake_line_unique")
        ]

    def __str__(self):
        return f"{self.item_id}: {self.expected} → {self.counted}"
