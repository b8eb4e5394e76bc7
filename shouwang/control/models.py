"""Area control (封控区 / 管控区 / 防范区): the control level of a compound, building or unit, set
only through a proposal that a second person approves (four eyes), and a history nobody can edit.

In Zhengzhou in 2022, 1,317 bank depositors had their health codes turned red for reasons that had
nothing to do with health. A control level is power over people: it needs a reason and evidence,
a second person, and a record that cannot be changed afterwards. So:

- `Proposal` — one user (or a positive result, "the system") asks for a level on a place, with a
  reason, a start, a planned end and an expiry. Another user with `control.approve` approves or
  rejects it; the proposer never can. An expired proposal can no longer be approved.
- `Control` — a place's level now: written only by an approved proposal (services.py), ended by an
  approved release (a proposal with level `none`).
- `HistoryEntry` — every proposal, decision, expiry and reminder, appended and never changed: the
  database itself refuses UPDATE and DELETE on its table (triggers, history.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

USER = settings.AUTH_USER_MODEL


class Level(models.TextChoices):
    SEALED = "sealed", _("Sealed")  # 封控: nobody leaves home; every service at the door
    CLOSE_CONTACT = "close_contact", _("Close-contact building")  # 密接楼栋
    CONTROLLED = "controlled", _("Controlled")  # 管控: nobody leaves the compound
    PRECAUTION = "precaution", _("Precaution")  # 防范
    NONE = "none", _("No control (release)")


# The stricter level wins where a unit, its building and its compound all have one.
SEVERITY = {
    Level.SEALED: 4,
    Level.CLOSE_CONTACT: 3,
    Level.CONTROLLED: 2,
    Level.PRECAUTION: 1,
    Level.NONE: 0,
}
# The levels a place can be under (NONE only ever appears on a proposal: a release).
ACTIVE_LEVELS = (Level.SEALED, Level.CLOSE_CONTACT, Level.CONTROLLED, Level.PRECAUTION)


class PlaceKind(models.TextChoices):
    COMPOUND = "compound", _("compound")
    BUILDING = "building", _("building")
    UNIT = "unit", _("unit")


class PlaceFields(models.Model):
    """A compound, a building or a unit: exactly one of the three is set, `kind` says which."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("place"), max_length=8, choices=PlaceKind.choices)
    compound = models.ForeignKey(
        "registry.Compound", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    building = models.ForeignKey(
        "registry.Building", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        "registry.Unit", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def place(self):
        return {"compound": self.compound, "building": self.building, "unit": self.unit}[self.kind]

    @property
    def place_id(self) -> int:
        return {"compound": self.compound_id, "building": self.building_id, "unit": self.unit_id}[
            self.kind
        ]


def _one_place(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(
            Q(kind="compound", compound__isnull=False, building__isnull=True, unit__isnull=True)
            | Q(kind="building", compound__isnull=True, building__isnull=False, unit__isnull=True)
            | Q(kind="unit", compound__isnull=True, building__isnull=True, unit__isnull=False)
        ),
        name=f"{prefix}_one_place",
    )


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("awaiting approval")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")
    EXPIRED = "expired", _("expired")


class ProposalSource(models.TextChoices):
    MANUAL = "manual", _("proposed by a user")
    POSITIVE = "positive", _("a positive result")
    POOLED = "pooled", _("a positive pooled tube")


class Proposal(PlaceFields):
    """A requested change of a place's level (or its release: level `none`)."""

    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    reason = models.CharField(_("reason"), max_length=200)
    # What the proposer saw or holds: "2 positives in 3单元 on 11-20", a notice from the street …
    evidence = models.TextField(_("evidence"), blank=True, default="")
    source = models.CharField(
        _("source"), max_length=8, choices=ProposalSource.choices, default=ProposalSource.MANUAL
    )
    # The result that proposed it (source positive / pooled).
    positive = models.ForeignKey(
        "screening.Positive", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tube = models.ForeignKey(
        "screening.Tube", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    starts_at = models.DateTimeField(_("from"))
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    # Null: proposed by the system from a result.
    proposed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    expires_at = models.DateTimeField(_("expires at"))
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("control proposal")
        ordering = ["-proposed_at", "-pk"]
        constraints = [_one_place("control_proposal")]
        indexes = [models.Index(fields=["community", "status"], name="control_prop_comm_status")]

    def __str__(self):
        return f"{self.kind} {self.place_id} → {self.level} ({self.status})"


class Control(PlaceFields):
    """A place's control level while it lasts: made by an approved proposal, ended by an approved
    release. One current row per place."""

    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    reason = models.CharField(_("reason"), max_length=200)
    starts_at = models.DateTimeField(_("from"))
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    ended_at = models.DateTimeField(_("released at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the planned-end reminder went out (once per planned end).
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("control level")
        ordering = ["-starts_at", "-pk"]
        constraints = [
            _one_place("control_control"),
            *(
                models.UniqueConstraint(
                    fields=[field],
                    condition=Q(ended_at__isnull=True, **{f"{field}__isnull": False}),
                    name=f"control_one_current_{field}",
                )
                for field in ("compound", "building", "unit")
            ),
        ]
        indexes = [models.Index(fields=["community", "ended_at"], name="control_comm_current")]

    def __str__(self):
        return f"{self.kind} {self.place_id}: {self.level}"


class HistoryEvent(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    APPROVED = "approved", _("approved, in force")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")
    EXPIRED = "expired", _("expired unapproved")
    RELEASED = "released", pgettext_lazy("control", "released")
    REMINDED = "reminded", _("planned end reached, reminder sent")


class HistoryEntry(models.Model):
    """One line of the history: append-only, enforced by the database (history.py). The place
    and the people are copied as text as well as ids, so the line reads the same after a
    building is renamed or a user leaves."""

    community = models.ForeignKey("registry.Community", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("time"))
    event = models.CharField(_("event"), max_length=10, choices=HistoryEvent.choices)
    kind = models.CharField(_("place"), max_length=8, choices=PlaceKind.choices)
    place_id = models.PositiveIntegerField()
    place_label = models.CharField(_("place"), max_length=200)
    level_before = models.CharField(max_length=16, blank=True, default="")
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True, default="")
    evidence = models.TextField(_("evidence"), blank=True, default="")
    starts_at = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    proposal_id = models.PositiveIntegerField(null=True, blank=True)
    # Who did this (null: the system), by id and by name at the time.
    actor_id = models.PositiveIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=100, blank=True, default="")
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("control history entry")
        verbose_name_plural = _("control history")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["community", "at"], name="control_hist_comm_at"),
            models.Index(fields=["kind", "place_id"], name="control_hist_place"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.event} {self.place_label} {self.level}"
