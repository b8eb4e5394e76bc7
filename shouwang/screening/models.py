"""Test rounds (核酸筛查 / 抗原自测): rounds and their scope, sampling points, tubes and the samples
in them, exemptions, door-to-door visit lists, lab results and what a positive tube sets off,
and residents' antigen self-tests.

Huamei ran 51 mass rounds and 70 antigen rounds in 50 days; Beijing's promise was "nobody
missed" (不漏一人). A sample row is written by the sampling page, possibly much later than it was
taken (the device kept it while the network was down): its id is made on the device, so a
retried send never makes a second row, and it keeps the device's time beside the server's.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

USER = settings.AUTH_USER_MODEL


class RoundKind(models.TextChoices):
    MASS = "mass", _("Mass screening")
    DOOR = "door", _("Door-to-door")
    ANTIGEN = "antigen", _("Antigen self-test")


class Round(models.Model):
    """One round: numbered per community and kind ("第12轮核酸"), a date and a time window, and a
    scope — the compounds, buildings and grids chosen (none: the whole community; the rule is
    `registry.areas`)."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(
        _("kind"), max_length=8, choices=RoundKind.choices, default=RoundKind.MASS
    )
    number = models.PositiveIntegerField(_("round number"))
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))
    compounds = models.ManyToManyField(
        "registry.Compound", blank=True, related_name="+", verbose_name=_("compounds")
    )
    buildings = models.ManyToManyField(
        "registry.Building", blank=True, related_name="+", verbose_name=_("buildings")
    )
    grids = models.ManyToManyField(
        "grids.Grid", blank=True, related_name="+", verbose_name=_("grids")
    )
    # How many swabs go into one pooled tube (10-in-1, 20-in-1); single tubes hold one.
    pool_size = models.PositiveSmallIntegerField(_("people per pooled tube"), default=10)
    points = models.ManyToManyField(
        "screening.SamplingPoint", blank=True, related_name="rounds", verbose_name=_("points")
    )
    # Control levels, comma-separated ("sealed,close_contact"): only the places under one of
    # them, within the areas above (empty: every place in the areas). shouwang/control/levels.py.
    control_levels = models.CharField(_("control levels"), max_length=100, blank=True, default="")
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("test round")
        ordering = ["-date", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "kind", "number"], name="screening_round_number"
            ),
        ]
        indexes = [models.Index(fields=["community", "date"], name="screening_round_date")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.number}"


class PointKind(models.TextChoices):
    COMPOUND = "compound", _("Inside a compound")
    STREET = "street", _("Street point")
    MOBILE = "mobile", _("Door-to-door team")


class SamplingPoint(models.Model):
    """A place where people are sampled, with its hours and staff. A street point serves people
    from several compounds; someone from a sealed building arriving there is flagged."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=10, choices=PointKind.choices, default=PointKind.COMPOUND
    )
    place = models.CharField(_("where"), max_length=200, blank=True, default="")
    opens_at = models.TimeField(_("opens"))
    closes_at = models.TimeField(_("closes"))
    staff = models.ManyToManyField(USER, blank=True, related_name="+", verbose_name=_("staff"))
    active = models.BooleanField(_("in use"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("sampling point")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="screening_point_name"),
        ]

    def __str__(self):
        return self.name


class PriorityLane(models.Model):
    """A lane with its own hours at a point: students during the lunch break, the elderly (with a
    bench nearby — Beijing)."""

    class Kind(models.TextChoices):
        STUDENTS = "students", _("Students")
        ELDERLY = "elderly", _("The elderly")
        DISABLED = "disabled", pgettext_lazy("lane", "People with disabilities")
        OTHER = "other", pgettext_lazy("lane", "Other")

    point = models.ForeignKey(SamplingPoint, on_delete=models.CASCADE, related_name="lanes")
    kind = models.CharField(_("for"), max_length=10, choices=Kind.choices)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("priority lane")
        ordering = ["starts_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class TubeResult(models.TextChoices):
    PENDING = "pending", _("awaiting result")
    NEGATIVE = "negative", _("negative")
    POSITIVE = "positive", _("positive")
    INVALID = "invalid", _("invalid, re-sample")


class Tube(models.Model):
    """A tube, by the code on its barcode: pooled (`capacity` people) or single (1). Opened by the
    first scan of its code in a round — on the device, possibly offline — closed when full."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="tubes")
    code = models.CharField(_("tube code"), max_length=40)
    capacity = models.PositiveSmallIntegerField(_("people in the tube"))
    point = models.ForeignKey(
        SamplingPoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(
        _("result"), max_length=8, choices=TubeResult.choices, default=TubeResult.PENDING
    )
    ct_value = models.DecimalField(
        _("Ct value"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    result_at = models.DateTimeField(_("result time"), null=True, blank=True)
    result_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result_import = models.ForeignKey(
        "screening.ResultImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("tube")
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "code"], name="screening_tube_code"),
        ]
        # A barcode already used in another round of the community (tubes are single-use).
        indexes = [models.Index(fields=["community", "code"], name="screening_tube_comm_code")]

    def __str__(self):
        return self.code

    @property
    def pooled(self) -> bool:
        return self.capacity > 1


class SampleQuerySet(models.QuerySet):
    def swabs(self):
        """Samples not undone: the swabs in their tubes."""
        return self.filter(voided_at__isnull=True)

    def counting(self):
        """The samples that count a person as sampled in the round (one per person)."""
        return self.filter(counted=True, voided_at__isnull=True)


class Sample(models.Model):
    """One person's swab in one tube. `uid` is made on the device when the scan happens: however
    often the device sends it, there is one row. A second sample of the same person in a round
    that arrived from a device that was offline is kept (the swab is in that tube) but not
    counted; one scanned online is refused before it is taken."""

    class Via(models.TextChoices):
        PASS = "pass", _("pass scanned")
        SEARCH = "search", _("found by name, ID or phone")
        WALK_IN = "walk_in", _("registered on the spot")
        DOOR = "door", _("door-to-door")

    uid = models.UUIDField(unique=True, default=uuid.uuid4)
    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="samples")
    tube = models.ForeignKey(Tube, on_delete=models.CASCADE, related_name="samples")
    # Null for someone not in the ledger, registered on the spot (walk_in_* below).
    resident = models.ForeignKey(
        "registry.Resident", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    point = models.ForeignKey(
        SamplingPoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sampler = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.PASS)
    device_at = models.DateTimeField(_("time on the device"))
    server_at = models.DateTimeField(_("time received"))
    counted = models.BooleanField(default=True)
    # Someone from a sealed building sampled at a street point.
    flagged = models.BooleanField(default=False)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Registered on the spot: name, and the ID number and phone encrypted as in the ledger.
    walk_in_name = models.CharField(max_length=50, blank=True, default="")
    walk_in_id_enc = models.TextField(blank=True, default="")
    walk_in_id_index = models.CharField(max_length=32, blank=True, default="")
    walk_in_id_masked = models.CharField(max_length=40, blank=True, default="")
    walk_in_phone_enc = models.TextField(blank=True, default="")
    walk_in_phone_masked = models.CharField(max_length=20, blank=True, default="")
    # The door-to-door visit this swab was taken on (marked visited by the scan).
    visit = models.ForeignKey(
        "screening.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = SampleQuerySet.as_manager()

    class Meta:
        verbose_name = _("sample")
        ordering = ["server_at", "id"]
        constraints = [
            # A person is counted once per round, whatever is sent twice.
            models.UniqueConstraint(
                fields=["round", "resident"],
                condition=Q(counted=True, voided_at__isnull=True, resident__isnull=False),
                name="screening_sample_once",
            ),
        ]
        indexes = [
            models.Index(fields=["round", "resident"], name="screening_sample_round_res"),
            models.Index(fields=["tube"], name="screening_sample_tube"),
            models.Index(fields=["round", "server_at"], name="screening_sample_round_at"),
            # A person's latest samples (the checkpoint's "negative test within N hours").
            models.Index(fields=["resident", "device_at"], name="screening_sample_res_at"),
        ]

    def __str__(self):
        return f"{self.uid} in {self.tube_id}"


class ExemptReason(models.TextChoices):
    AWAY = "away", _("Away")
    HOSPITAL = "hospital", _("In hospital")
    MOVED_OUT = "moved_out", _("Moved out")
    ISOLATED = "isolated", _("In isolation or under medical care")
    OTHER = "other", pgettext_lazy("exemption", "Other")


class Exemption(models.Model):
    """A resident not expected in one round, with a reason. Residents whose ledger presence is
    away, in hospital or moved out are exempt from every round without a row here."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="exemptions")
    resident = models.ForeignKey("registry.Resident", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=10, choices=ExemptReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("exemption")
        constraints = [
            models.UniqueConstraint(fields=["round", "resident"], name="screening_exempt_once"),
        ]

    def __str__(self):
        return f"{self.resident_id}: {self.get_reason_display()}"


class VisitReason(models.TextChoices):
    BEDRIDDEN = "bedridden", _("Bedridden or cannot come down")
    SEALED = "sealed", _("Sealed building")
    REQUESTED = "requested", _("The household asked")
    RETEST = "retest", _("Single-tube re-test after a positive pooled tube")


class VisitList(models.Model):
    """Homes a door-to-door team visits in a round, with the same scanning flow."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="visit_lists")
    name = models.CharField(_("name"), max_length=100)
    reason = models.CharField(_("reason"), max_length=10, choices=VisitReason.choices)
    team = models.CharField(_("team"), max_length=100, blank=True, default="")
    assignees = models.ManyToManyField(
        USER, blank=True, related_name="+", verbose_name=_("assigned to")
    )
    # The pooled tube whose positive result made this re-test list.
    source_tube = models.ForeignKey(
        Tube, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("visit list")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class Visit(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("to visit")
        VISITED = "visited", _("visited")
        NOT_HOME = "not_home", _("not at home")
        REFUSED = "refused", _("refused")

    visit_list = models.ForeignKey(VisitList, on_delete=models.CASCADE, related_name="visits")
    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    at = models.DateTimeField(null=True, blank=True)
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("visit")
        constraints = [
            models.UniqueConstraint(
                fields=["visit_list", "household"], name="screening_visit_once"
            ),
        ]

    def __str__(self):
        return f"{self.household_id}: {self.get_status_display()}"


class ResultImport(models.Model):
    """One lab file, imported all or nothing. The digest makes a second import of the same file
    a no-op."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="imports")
    filename = models.CharField(max_length=200)
    digest = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    positives = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "digest"], name="screening_import_once"),
        ]

    def __str__(self):
        return self.filename


class RetestFlag(models.Model):
    """A person whose pooled tube came back positive: stay home, a single-tube re-test at the
    door. Cleared by their single-tube result."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey("registry.Resident", on_delete=models.CASCADE, related_name="+")
    tube = models.ForeignKey(Tube, on_delete=models.CASCADE, related_name="retest_flags")
    created_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by_tube = models.ForeignKey(
        Tube, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tube", "resident"], name="screening_retest_once"),
        ]
        indexes = [models.Index(fields=["resident", "cleared_at"], name="screening_retest_res")]

    def __str__(self):
        return f"{self.resident_id} (tube {self.tube_id})"


class PositiveSource(models.TextChoices):
    ROUND = "round", _("Single tube in a round")
    ANTIGEN = "antigen", _("Antigen self-test")


class Positive(models.Model):
    """A positive result for one person, for the cases work to follow (a later issue)."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey("registry.Resident", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("source"), max_length=8, choices=PositiveSource.choices)
    tube = models.ForeignKey(
        Tube, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    antigen = models.ForeignKey(
        "screening.AntigenReport",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    detected_on = models.DateField(_("detected on"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("positive result")
        constraints = [
            models.UniqueConstraint(
                fields=["tube", "resident"],
                condition=Q(tube__isnull=False),
                name="screening_positive_tube_once",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "detected_on"], name="screening_pos_day"),
            models.Index(fields=["resident", "detected_on"], name="screening_pos_res_day"),
        ]

    def __str__(self):
        return f"{self.resident_id} {self.detected_on}"


class AntigenResult(models.TextChoices):
    NEGATIVE = "negative", _("negative")
    POSITIVE = "positive", _("positive")
    INVALID = "invalid", _("invalid")


class AntigenReport(models.Model):
    """One person's antigen self-test on one day, reported by the household on its page or by
    grid staff for those without phones. A second report that day replaces the first."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey("registry.Resident", on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("date"))
    result = models.CharField(_("result"), max_length=8, choices=AntigenResult.choices)
    photo = models.ImageField(_("photo"), upload_to="antigen/%Y/%m/", blank=True, default="")
    reported_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "household" (its page), "staff" (entered for the household).
    via = models.CharField(max_length=10, default="household")
    reported_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("antigen self-test")
        constraints = [
            models.UniqueConstraint(fields=["resident", "date"], name="screening_antigen_day"),
        ]
        indexes = [models.Index(fields=["community", "date"], name="screening_antigen_comm_day")]

    def __str__(self):
        return f"{self.resident_id} {self.date}: {self.result}"
