"""The help line and requests ledger (爱心热线 / 诉求台账).

Xi'an's love hotline took 1,300 calls in half a month — over 100 a day at first, 75 a day later —
and kept a ledger cleared "every shift and every day" (每班清、每日清): 31.15 % livelihood
(medicine, gas, food), 26.23 % special needs, 21.32 % policy questions, 93 % resolved. Hohhot's
secretary took 50 calls a day on her own phone. Nobody owned a ticket that fell between offices.

A HelpRequest is one call (or WeChat message, walk-in, grid worker's report, follow-up finding):
who it is for, what kind (a sub-category of a fixed group, so the Xi'an shares can be counted),
how urgent, who owns it, when it is due, how it ended and what the resident said when called
back. Every change is appended to its RequestEvent log; a Handover records what one shift passed
to the next by name; Answer is the small knowledge base of current rules operators quote.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

USER = settings.AUTH_USER_MODEL


class Group(models.TextChoices):
    """The ledger's top level, as the Xi'an team counted it (plus what other committees met)."""

    LIVELIHOOD = "livelihood", _("Livelihood (medicine, gas, food)")
    SPECIAL = "special", _("Special needs")
    POLICY = "policy", _("Policy question")
    REPAIRS = "repairs", _("Repairs")
    PSYCHOLOGICAL = "psychological", _("Psychological support")
    DISPUTE = "dispute", _("Dispute")
    OTHER = "other", pgettext_lazy("request group", "Other")


# Groups whose details are health or mental-health information: shown in full only to the roles
# with helpline.sensitive and to the request's owner (see selectors.may_see_details).
SENSITIVE_GROUPS = frozenset({Group.SPECIAL, Group.PSYCHOLOGICAL})


class Urgency(models.IntegerChoices):
    """Lower is more urgent; lists sort by it first."""

    LIFE = 1, _("Life-threatening")
    HEALTH = 2, _("Health-threatening")
    HARDSHIP = 3, _("Hardship")
    NONE = 4, _("No immediate danger")


# Urgencies that surface at the top of every page for everyone on duty.
URGENT = (Urgency.LIFE, Urgency.HEALTH)


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    WECHAT = "wechat", _("WeChat group")
    WALK_IN = "walk_in", _("Walk-in")
    GRID = "grid", _("Grid worker")
    FOLLOW_UP = "follow_up", _("Care follow-up")
    RESIDENT = "resident", _("Resident's own page")


class Status(models.TextChoices):
    OPEN = "open", pgettext_lazy("request status", "Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved, to call back")
    CLOSED = "closed", _("Closed")
    UNRESOLVED = "unresolved", _("Could not be resolved")


# Still on someone's desk: handed over at the end of a shift, counted as open at midnight.
LIVE = (Status.OPEN, Status.IN_PROGRESS)
# Counted as resolved (办结) in the statistics.
DONE = (Status.RESOLVED, Status.CLOSED)


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    NEUTRAL = "neutral", _("Neither")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")
    UNREACHABLE = "unreachable", _("Could not be reached")


class Category(models.Model):
    """A sub-category of a group, with its time limit. The defaults (selectors.categories_for)
    are made for a community when first needed; staff rename, add and retire them."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    group = models.CharField(_("group"), max_length=16, choices=Group.choices)
    name = models.CharField(_("name"), max_length=50)
    # The time limit from intake to resolution; the due time is intake + this.
    limit_minutes = models.PositiveIntegerField(_("time limit (minutes)"), default=24 * 60)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("request category")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "group", "name"], name="helpline_category_unique"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def sensitive(self) -> bool:
        return self.group in SENSITIVE_GROUPS


class Policy(models.Model):
    """The help line's rules for a community."""

    community = models.OneToOneField(
        "registry.Community", on_delete=models.CASCADE, related_name="+"
    )
    # When the help line's shifts start, "HH:MM" in the community's time (Asia/Shanghai), in
    # order; the last shift runs to the first one's start the next day.
    shift_starts = models.JSONField(default=list)
    # An overdue request is escalated to the community admin this long after its due time.
    escalate_after_minutes = models.PositiveIntegerField(default=0)
    # A resolved request not called back within this long shows as a call-back overdue.
    callback_within_hours = models.PositiveIntegerField(default=24)

    DEFAULT_SHIFT_STARTS = ["08:00", "16:00", "00:00"]

    class Meta:
        verbose_name = _("help line policy")

    def __str__(self):
        return f"help line policy {self.community_id}"

    def starts(self) -> list[str]:
        return list(self.shift_starts or self.DEFAULT_SHIFT_STARTS)


class HelpRequest(models.Model):
    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    # A short reference read over the phone, e.g. "R1123-0042" (selectors.new_reference).
    reference = models.CharField(_("reference"), max_length=20)
    # The same form sent twice (a retry, a double click) makes one request.
    client_key = models.CharField(max_length=64, blank=True, default="")
    channel = models.CharField(
        _("channel"), max_length=12, choices=Channel.choices, default=Channel.PHONE
    )
    household = models.ForeignKey(
        "registry.Household",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="help_requests",
        verbose_name=_("household"),
    )
    resident = models.ForeignKey(
        "registry.Resident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="help_requests",
        verbose_name=_("for whom"),
    )
    caller_name = models.CharField(_("caller"), max_length=50, blank=True, default="")
    # The number that called, for the call-back (stored as the ledger stores phones).
    caller_phone_enc = models.TextField(blank=True, default="")
    caller_phone_index = models.CharField(max_length=32, blank=True, default="")
    caller_phone_masked = models.CharField(
        _("caller's phone"), max_length=20, blank=True, default=""
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="requests", verbose_name=_("category")
    )
    # Denormalised from the category (categories can be renamed or regrouped; the statistics
    # count the group the request was logged under).
    group = models.CharField(_("group"), max_length=16, choices=Group.choices)
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Urgency.choices, default=Urgency.NONE
    )
    # What anyone on duty may read; health or mental-health details go in `details`.
    summary = models.CharField(_("summary"), max_length=200)
    details = models.TextField(_("details"), blank=True, default="")
    owner = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    due_at = models.DateTimeField(_("due"))
    resolution = models.TextField(_("resolution"), blank=True, default="")
    # The knowledge-base answer quoted to the caller, if any.
    answer = models.ForeignKey(
        "helpline.Answer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    callback_at = models.DateTimeField(_("called back"), null=True, blank=True)
    callback_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    satisfaction = models.CharField(
        _("satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True, default=""
    )
    callback_note = models.CharField(_("call-back note"), max_length=200, blank=True, default="")
    # Escalated to the community admin when overdue (services.sweep).
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # How long the operator took from opening the intake form to saving it (the 30-second goal).
    intake_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("help request")
        ordering = ["urgency", "due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "reference"], name="helpline_request_reference"
            ),
            models.UniqueConstraint(
                fields=["community", "client_key"],
                condition=~models.Q(client_key=""),
                name="helpline_request_client_key",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "status", "urgency"], name="helpline_req_status"),
            models.Index(fields=["community", "created_at"], name="helpline_req_created"),
            models.Index(fields=["owner", "status"], name="helpline_req_owner"),
            models.Index(fields=["caller_phone_index"], name="helpline_req_phone"),
        ]

    def __str__(self):
        return f"{self.reference} {self.summary}"

    @property
    def sensitive(self) -> bool:
        return self.group in SENSITIVE_GROUPS

    @property
    def is_live(self) -> bool:
        return self.status in LIVE


class EventKind(models.TextChoices):
    LOGGED = "logged", _("Logged")
    ASSIGNED = "assigned", _("Assigned")
    STATUS = "status", _("Status changed")
    NOTE = "note", _("Note")
    RESOLVED = "resolved", pgettext_lazy("request event", "Resolved")
    CALLBACK = "callback", _("Called back")
    HANDED_OVER = "handed_over", _("Handed over")
    ESCALATED = "escalated", _("Escalated")
    REOPENED = "reopened", _("Reopened")


class RequestEvent(models.Model):
    """Append-only: what happened to a request, who did it and when."""

    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # For assignment and handover: from whom to whom.
    from_user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, blank=True, default="")
    text = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.request_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Handover(models.Model):
    """The end of a help-line shift (每班清): what was still open, and to whom it went by name.
    One per community and shift end; made by the operator going off duty, or by the sweep when
    nobody did (`automatic`), so nothing ages silently."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    shift_start = models.DateTimeField()
    shift_end = models.DateTimeField()
    handed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The next shift's operator, by name: open requests without a live owner go to them.
    received_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True, default="")
    automatic = models.BooleanField(default=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-shift_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "shift_end"], name="helpline_handover_shift"
            )
        ]

    def __str__(self):
        return f"handover {self.community_id} {self.shift_end:%Y-%m-%d %H:%M}"


class HandoverItem(models.Model):
    """One open request as it stood at the handover."""

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="items")
    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices)
    owner_before = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_after = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    overdue = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["handover", "request"], name="helpline_handover_item")
        ]

    def __str__(self):
        return f"{self.handover_id}: {self.request_id}"


class Answer(models.Model):
    """The knowledge base (政策口径): a current rule operators search and quote, with the date
    someone last checked it was still true."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    question = models.CharField(_("question"), max_length=200)
    body = models.TextField(_("answer"))
    keywords = models.CharField(_("keywords"), max_length=200, blank=True, default="")
    group = models.CharField(_("group"), max_length=16, choices=Group.choices, default=Group.POLICY)
    source = models.CharField(_("source"), max_length=200, blank=True, default="")
    checked_on = models.DateField(_("last checked"))
    checked_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(_("current"), default=True)
    quoted = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("answer")
        ordering = ["-checked_on", "pk"]

    def __str__(self):
        return self.question
