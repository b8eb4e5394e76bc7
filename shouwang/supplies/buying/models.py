"""Group buying (团购): vetted merchants and the areas they deliver to, their catalogue, order
windows on a schedule (every two days in Hohhot), and the households' orders.

Stock lives on the product and is only ever changed by a conditional `UPDATE … SET stock =
stock - q WHERE stock >= q` in the same transaction as the order's rows (services.py), so a
burst of orders can never take more than there is. Shouwang records whether and how an order
was paid; it takes no payments.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Merchant(models.Model):
    """A supplier the committee has vetted. Empty `compounds`, `buildings` and `grids` mean it
    delivers to the whole community (as a queue point serves it)."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True, default="")
    # The shop's business line, shown to staff; not a resident's phone.
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True, default="")
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    vetted = models.BooleanField(_("vetted by the committee"), default=False)
    vetted_on = models.DateField(_("vetted on"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    compounds = models.ManyToManyField(
        "registry.Compound", blank=True, related_name="+", verbose_name=_("compounds served")
    )
    buildings = models.ManyToManyField(
        "registry.Building", blank=True, related_name="+", verbose_name=_("buildings served")
    )
    grids = models.ManyToManyField(
        "grids.Grid", blank=True, related_name="+", verbose_name=_("grids served")
    )
    # The order windows' schedule: a window every `every_days` days, open from `opens_time` to
    # `closes_time` (local), delivered `delivery_days` days after it closes. No schedule: 0.
    every_days = models.PositiveSmallIntegerField(_("a window every N days"), default=0)
    opens_time = models.TimeField(_("windows open at"), null=True, blank=True)
    closes_time = models.TimeField(_("windows close at"), null=True, blank=True)
    delivery_days = models.PositiveSmallIntegerField(
        _("delivered N days after the window closes"), default=0
    )
    # The rest policy: goods rest this long after disinfection at the checkpoint before they
    # are released (Hohhot: 2 hours). A new delivery batch starts with it; staff may change it.
    rest_minutes = models.PositiveSmallIntegerField(
        _("rest after disinfection (minutes)"), default=120
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class MerchantMember(models.Model):
    """A user with the merchant role who works for this merchant: it sees only these orders."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_member"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="members")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("merchant member")
        verbose_name_plural = _("merchant members")

    def __str__(self):
        return f"{self.user} @ {self.merchant}"


class Product(models.Model):
    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(_("name"), max_length=100)
    specification = models.CharField(_("specification"), max_length=100, blank=True, default="")
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="")
    price = models.DecimalField(_("unit price (yuan)"), max_digits=8, decimal_places=2)
    # What is left to order; only services change it, with a conditional UPDATE.
    stock = models.PositiveIntegerField(_("stock"), default=0)
    # At most this many per household and window; 0: no limit but the stock.
    limit = models.PositiveSmallIntegerField(_("limit per household"), default=0)
    is_bundle = models.BooleanField(_("bundle"), default=False)
    bundle_contents = models.TextField(_("what is in the bundle"), blank=True, default="")
    active = models.BooleanField(_("on sale"), default=True)
    photo = models.BinaryField(null=True, blank=True, editable=False)
    thumb = models.BinaryField(null=True, blank=True, editable=False)
    photo_hash = models.CharField(max_length=16, blank=True, default="")
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["merchant_id", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="buying_product_stock_gte_0"),
            models.CheckConstraint(condition=Q(price__gte=0), name="buying_product_price_gte_0"),
        ]

    def __str__(self):
        return self.name


class OrderWindow(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")  # takes orders between opens_at and closes_at
        CLOSED = "closed", _("closed")  # closed early by staff (or after the time, for the record)
        CANCELLED = "cancelled", _("cancelled")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="windows")
    title = models.CharField(_("title"), max_length=100, blank=True, default="")
    opens_at = models.DateTimeField(_("orders from"))
    closes_at = models.DateTimeField(_("orders until"))
    delivery_date = models.DateField(_("expected delivery"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order window")
        verbose_name_plural = _("order windows")
        ordering = ["-opens_at", "pk"]
        constraints = [
            # The schedule creates windows again and again: one per merchant and start time.
            models.UniqueConstraint(fields=["merchant", "opens_at"], name="buying_window_once"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="buying_window_closes_after"
            ),
        ]
        indexes = [models.Index(fields=["community", "closes_at"], name="buying_window_comm")]

    def __str__(self):
        return self.title or f"{self.merchant} {timezone.localtime(self.opens_at):%m-%d}"

    def state(self, now=None) -> str:
        """upcoming, open, closed or cancelled — what the pages and rules go by."""
        now = now or timezone.now()
        if self.status == self.Status.CANCELLED:
            return "cancelled"
        if self.status == self.Status.CLOSED or now >= self.closes_at:
            return "closed"
        if now < self.opens_at:
            return "upcoming"
        return "open"

    def is_open(self, now=None) -> bool:
        return self.state(now) == "open"


class Channel(models.TextChoices):
    HOUSEHOLD = "household", _("household page")
    STAFF = "staff", _("by staff (phoned in or at the desk)")
    PROXY = "proxy", _("on the household's behalf")


class Receipt(models.TextChoices):
    """How the household's receipt was confirmed (核销)."""

    PAGE = "page", _("by the household on its page")
    PROXY = "proxy", _("on the household's behalf, on its page")
    CODE = "code", _("with the pickup code, by the volunteer")
    STAFF = "staff", _("by staff")


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", _("placed")
        CANCELLED = "cancelled", _("cancelled")

    class Payment(models.TextChoices):
        UNPAID = "unpaid", _("unpaid")
        PAID = "paid", _("paid")

    class Method(models.TextChoices):
        NONE = "none", _("not said")
        ONLINE = "online", _("paid online")
        CASH = "cash_on_delivery", _("cash on delivery")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    window = models.ForeignKey(OrderWindow, on_delete=models.CASCADE, related_name="orders")
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consent = models.ForeignKey(
        "residents.Consent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLACED)
    payment_status = models.CharField(max_length=8, choices=Payment.choices, default=Payment.UNPAID)
    payment_method = models.CharField(max_length=16, choices=Method.choices, default=Method.NONE)
    payment_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment_recorded_at = models.DateTimeField(null=True, blank=True)
    # Read out at the door or the pickup point (核销); unique within the window.
    pickup_code = models.CharField(max_length=8)
    total = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The delivery chain's last two steps, per order (delivery.py).
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    receipt_at = models.DateTimeField(null=True, blank=True)
    receipt_how = models.CharField(max_length=8, choices=Receipt.choices, blank=True, default="")
    receipt_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    receipt_consent = models.ForeignKey(
        "residents.Consent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["window_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["window", "household"], name="buying_order_once"),
            models.UniqueConstraint(fields=["window", "pickup_code"], name="buying_order_code"),
        ]
        indexes = [models.Index(fields=["window", "status"], name="buying_order_window_status")]

    def __str__(self):
        return f"{self.window_id}/{self.pickup_code}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    # The price when ordered: a later change of the catalogue does not change the bill.
    unit_price = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        ordering = ["order_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="buying_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="buying_line_qty_gt_0"),
        ]

    def __str__(self):
        return f"{self.product_id}×{self.quantity}"


class DeliveryBatch(models.Model):
    """One closed window's goods on their way: dispatched by the merchant, arrived at the
    checkpoint, disinfected, resting until `rest_until`, released. Each step has its time and
    who did it; the steps happen in this order only (delivery.py)."""

    class Step(models.TextChoices):
        DISPATCHED = "dispatched", _("dispatched")
        ARRIVED = "arrived", _("arrived at the checkpoint")
        DISINFECTED = "disinfected", _("disinfected")
        RELEASED = "released", _("released")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    window = models.OneToOneField(OrderWindow, on_delete=models.CASCADE, related_name="batch")
    rest_minutes = models.PositiveSmallIntegerField(_("rest (minutes)"), default=120)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    arrived_at = models.DateTimeField(null=True, blank=True)
    arrived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The checkpoint's name as typed (the board offers the community's checkpoints).
    checkpoint = models.CharField(_("checkpoint"), max_length=100, blank=True, default="")
    disinfected_at = models.DateTimeField(null=True, blank=True)
    disinfected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rest_until = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("delivery batch")
        verbose_name_plural = _("delivery batches")

    def __str__(self):
        return f"{self.window} → {self.step or '-'}"

    STEPS = ("dispatched", "arrived", "disinfected", "released")

    @property
    def step(self) -> str:
        """The last step done ("" before dispatch)."""
        done = ""
        for s in self.STEPS:
            if getattr(self, f"{s}_at") is None:
                break
            done = s
        return done

    @property
    def next_step(self) -> str:
        """The step to do next ("" once released)."""
        i = self.STEPS.index(self.step) + 1 if self.step else 0
        return self.STEPS[i] if i < len(self.STEPS) else ""


class BatchBuilding(models.Model):
    """The batch at one building: carried there at `at_building_at`, in the hands of the
    building volunteer who takes it to the doors."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(DeliveryBatch, on_delete=models.CASCADE, related_name="buildings")
    building = models.ForeignKey("registry.Building", on_delete=models.CASCADE, related_name="+")
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("building volunteer"),
    )
    at_building_at = models.DateTimeField(null=True, blank=True)
    at_building_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("batch at a building")
        verbose_name_plural = _("batch at buildings")
        constraints = [
            models.UniqueConstraint(fields=["batch", "building"], name="buying_batch_building_once")
        ]

    def __str__(self):
        return f"{self.batch_id}/{self.building_id}"


class OrderProblem(models.Model):
    """Missing, damaged or wrong goods reported by the household or a volunteer: a note on the
    order and an open request for the staff until resolved."""

    class Kind(models.TextChoices):
        MISSING = "missing", _("something is missing")
        DAMAGED = "damaged", _("damaged")
        WRONG = "wrong", _("wrong item")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("delivery problem", "open")
        RESOLVED = "resolved", _("resolved")

    class Via(models.TextChoices):
        HOUSEHOLD = "household", _("the household, on its page")
        PROXY = "proxy", _("on the household's behalf")
        STAFF = "staff", _("staff or a volunteer")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="problems")
    kind = models.CharField(_("problem"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("what happened"), max_length=300, blank=True, default="")
    via = models.CharField(max_length=10, choices=Via.choices)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consent = models.ForeignKey(
        "residents.Consent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(_("what was done"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order problem")
        verbose_name_plural = _("order problems")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["community", "status"], name="buying_problem_open")]

    def __str__(self):
        return f"{self.order_id} {self.kind}"
