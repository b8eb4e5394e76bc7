"""The take-a-number queue (线上排队): points, sale days, tickets, the draw, calling, goods.

The live state residents watch is one row per sale day (`SaleDay.version`, `issued` and the
`snapshot` JSON) so that a stream server can feed thousands of watchers with one read per tick;
the snapshot holds numbers only, never a name or a door.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# A fresh ticket's place in line is number × SEQ_STEP; a ticket sent to the back of the queue
# gets a place between the last ticket issued and the next one (see services.ticket_skip).
SEQ_STEP = 1024


class QueuePoint(models.Model):
    """A stall, shop or service desk that hands out numbers. Empty `compounds`, `buildings` and
    `grids` mean it serves the whole community."""

    class Kind(models.TextChoices):
        STALL = "stall", _("stall")
        SHOP = "shop", _("shop")
        DESK = "desk", _("service desk")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.STALL)
    location = models.CharField(_("where"), max_length=200, blank=True, default="")
    compounds = models.ManyToManyField(
        "registry.Compound", blank=True, related_name="+", verbose_name=_("compounds served")
    )
    buildings = models.ManyToManyField(
        "registry.Building", blank=True, related_name="+", verbose_name=_("buildings served")
    )
    grids = models.ManyToManyField(
        "grids.Grid", blank=True, related_name="+", verbose_name=_("grids served")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("queue point")
        verbose_name_plural = _("queue points")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class SaleDay(models.Model):
    """One day's numbers at a point: the ticket-taking window, the sale hours, how many tickets.

    `issued` is the last number handed out and the counter that makes tickets gapless: taking a
    ticket is `UPDATE … SET issued = issued + 1 WHERE issued < tickets_total`, in the same
    transaction as the ticket's insert."""

    class Mode(models.TextChoices):
        FIRST_COME = "first_come", _("first come, first served")
        DRAW = "draw", _("draw at the close of registration, then first come")

    class SkipPolicy(models.TextChoices):
        REQUEUE = "requeue", _("back of the queue (once), then lost")
        LOST = "lost", _("the number is lost")

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    point = models.ForeignKey(QueuePoint, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    title = models.CharField(_("what is on sale"), max_length=100, blank=True, default="")
    # Unguessable key of the public pages (poster, board, follow) and the stream.
    public_key = models.CharField(max_length=12, unique=True)
    take_opens_at = models.DateTimeField(_("tickets from"))
    take_closes_at = models.DateTimeField(_("tickets until"))
    sale_starts_at = models.DateTimeField(_("sale starts"))
    sale_ends_at = models.DateTimeField(_("sale ends"))
    tickets_total = models.PositiveIntegerField(_("number of tickets"))
    per_household = models.PositiveSmallIntegerField(_("tickets per household"), default=1)
    come_when = models.PositiveSmallIntegerField(_("come when this many are ahead"), default=10)
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices, default=Mode.FIRST_COME)
    # Draw mode: registrations until draw_at are shuffled then; the seed is fixed when the day is
    # created and only its SHA-256 is shown until the draw, so nobody can pick a seed that suits.
    draw_at = models.DateTimeField(_("draw at"), null=True, blank=True)
    draw_seed = models.CharField(max_length=64, blank=True, default="")
    draw_seed_hash = models.CharField(max_length=64, blank=True, default="")
    drawn_at = models.DateTimeField(null=True, blank=True)
    registered = models.PositiveIntegerField(default=0)
    skip_policy = models.CharField(
        _("no-shows"), max_length=8, choices=SkipPolicy.choices, default=SkipPolicy.REQUEUE
    )
    grace_seconds = models.PositiveIntegerField(
        _("grace time before a no-show (seconds)"), default=180
    )
    expected_service_seconds = models.PositiveIntegerField(
        _("expected minutes per customer, in seconds"), default=60
    )
    issued = models.PositiveIntegerField(default=0)
    # Bumped by every change the watchers must see (calls, skips, cancellations, goods).
    version = models.PositiveBigIntegerField(default=0)
    snapshot = models.JSONField(default=dict, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sale day")
        verbose_name_plural = _("sale days")
        ordering = ["-date", "point_id", "pk"]
        indexes = [models.Index(fields=["community", "date"], name="saleday_comm_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued__lte=models.F("tickets_total")), name="saleday_not_oversold"
            )
        ]

    def __str__(self):
        return f"{self.point} {self.date}"

    @property
    def started(self) -> bool:
        """Someone has asked for a ticket (or the draw has run): the mode and draw time stay."""
        return self.drawn_at is not None or self.registered > 0 or self.issued > 0

    @property
    def left(self) -> int:
        return max(self.tickets_total - self.issued, 0)


class Notify(models.TextChoices):
    SMS = "sms", _("text message")
    KNOCK = "knock", _("the grid leader calls or knocks")
    PAGE = "page", _("I watch the page")


class Channel(models.TextChoices):
    HOUSEHOLD = "household", _("household page")
    STAFF = "staff", _("by staff (phoned in or at the desk)")
    PROXY = "proxy", _("on the household's behalf")


class _Taking(models.Model):
    """What a ticket and a draw registration share: who asked, how, and how to tell them."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Who took it at the desk: read with the row, never searched by (no index).
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    consent = models.ForeignKey(
        "residents.Consent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notify = models.CharField(max_length=6, choices=Notify.choices, default=Notify.PAGE)
    sms_phone_enc = models.TextField(blank=True, default="")
    sms_phone_masked = models.CharField(max_length=20, blank=True, default="")
    # The ticket page is /q/t/<follow_key>/: whoever holds the paper ticket or the link follows.
    follow_key = models.CharField(max_length=24, unique=True)

    class Meta:
        abstract = True


class Registration(_Taking):
    """Draw mode: a household asked for a ticket before the draw. `code` is its public number in
    the order of asking (the draw's published list names codes, never households)."""

    # No index of its own: reg_one_per_household and reg_code_unique lead with it.
    day = models.ForeignKey(
        SaleDay, on_delete=models.CASCADE, related_name="registrations", db_index=False
    )
    code = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    won = models.BooleanField(null=True)
    ticket = models.OneToOneField(
        "Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="registration"
    )

    class Meta:
        verbose_name = _("draw registration")
        verbose_name_plural = _("draw registrations")
        constraints = [
            models.UniqueConstraint(fields=["day", "household"], name="reg_one_per_household"),
            models.UniqueConstraint(fields=["day", "code"], name="reg_code_unique"),
        ]

    def __str__(self):
        return f"R{self.code}"


class Ticket(_Taking):
    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting")
        CALLED = "called", _("called")
        SERVED = "served", _("served")
        NO_SHOW = "no_show", _("no-show")
        CANCELLED = "cancelled", _("cancelled")

    # No index of its own: ticket_number_unique, ticket_per_household and ticket_day_status_seq
    # lead with it (every index is written on each ticket: benchmarks/queue_take.py).
    day = models.ForeignKey(
        SaleDay, on_delete=models.CASCADE, related_name="tickets", db_index=False
    )
    number = models.PositiveIntegerField()
    # The household's first, second … ticket of the day (tickets per household > 1).
    slot = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    # Order of calling: number × SEQ_STEP, or a place at the back after a skip.
    seq = models.PositiveBigIntegerField()
    taken_at = models.DateTimeField(auto_now_add=True)
    called_at = models.DateTimeField(null=True, blank=True)
    first_called_at = models.DateTimeField(null=True, blank=True)
    served_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    call_count = models.PositiveSmallIntegerField(default=0)
    requeued = models.PositiveSmallIntegerField(default=0)
    notified_at = models.DateTimeField(null=True, blank=True)
    knocked_at = models.DateTimeField(null=True, blank=True)
    # Read with the row, never searched by (no index).
    knocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["day_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["day", "number"], name="ticket_number_unique"),
            models.UniqueConstraint(
                fields=["day", "household", "slot"], name="ticket_per_household"
            ),
        ]
        indexes = [models.Index(fields=["day", "status", "seq"], name="ticket_day_status_seq")]

    def __str__(self):
        return f"#{self.number}"


class QueueEvent(models.Model):
    """What the staff did at the counter, in order; `before` holds what undo restores."""

    class Kind(models.TextChoices):
        CALL = "call", _("called")
        RECALL = "recall", _("called again")
        SERVE = "serve", _("served")
        SKIP = "skip", _("skipped")
        CANCEL = "cancel", _("cancelled")
        UNDO = "undo", _("undone")

    day = models.ForeignKey(SaleDay, on_delete=models.CASCADE, related_name="events")
    ticket = models.ForeignKey(Ticket, null=True, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    before = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["day_id", "pk"]
        indexes = [models.Index(fields=["day", "kind"], name="qevent_day_kind")]

    def __str__(self):
        return f"{self.kind} {self.ticket_id or ''}".strip()


class Goods(models.Model):
    """An item on the day's goods board, with a photo resized on upload (kept in the database
    so that every worker and every node serves it without a shared disk)."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    day = models.ForeignKey(SaleDay, on_delete=models.CASCADE, related_name="goods")
    name = models.CharField(_("name"), max_length=100)
    price = models.DecimalField(
        _("price (yuan)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="")
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    photo = models.BinaryField(null=True, blank=True, editable=False)
    thumb = models.BinaryField(null=True, blank=True, editable=False)
    # A hash of the photo in its URL, so browsers may cache it for good.
    photo_hash = models.CharField(max_length=16, blank=True, default="")
    position = models.PositiveSmallIntegerField(default=0)
    sold_out_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("goods")
        verbose_name_plural = _("goods")
        ordering = ["day_id", "position", "pk"]

    def __str__(self):
        return self.name
