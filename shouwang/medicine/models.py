"""The medicine pipeline (配药).

Xi'an drew the flow for chemotherapy, psychiatric and heart medicines — demand, purchase,
prescribe and pick up, deliver and settle — and went to the community clinic first, a nearby
pharmacy second. Huamei drove to the city hospitals twice a week. A Need is one person's medicine
(drug, dose, quantity, whether a prescription is needed, its kind and where to get it); needs are
grouped into a Run (a pharmacy, a clinic, or a hospital trip on fixed days), then bought or
prescribed, picked up, delivered and settled (amount, who paid, reimbursed). Every step is a
NeedEvent, so each need shows where it is in the flow and who moved it there.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

USER = settings.AUTH_USER_MODEL


class Kind(models.TextChoices):
    CHRONIC = "chronic", _("Chronic illness")
    CHEMOTHERAPY = "chemotherapy", _("Chemotherapy")
    PSYCHIATRIC = "psychiatric", _("Psychiatric")
    CARDIAC = "cardiac", _("Cardiac")
    DIALYSIS = "dialysis", _("Dialysis")
    OTHER = "other", pgettext_lazy("medicine kind", "Other")


# Kinds whose drug names say more than they should: the need's drug and dose are shown in full
# only to roles with medicine.manage, the run's driver and the household (selectors).
SENSITIVE_KINDS = frozenset({Kind.PSYCHIATRIC, Kind.CHEMOTHERAPY})


class Source(models.TextChoices):
    """Where to get it, in Xi'an's order of preference."""

    CLINIC = "clinic", _("Community clinic")
    PHARMACY = "pharmacy", _("Nearby pharmacy")
    HOSPITAL = "hospital", _("Hospital")


class Stage(models.TextChoices):
    """The flow, in order. A need moves forward one stage at a time (or is cancelled)."""

    REGISTERED = "registered", _("Registered")
    IN_RUN = "in_run", _("In a run")
    BOUGHT = "bought", _("Bought or prescribed")
    PICKED_UP = "picked_up", _("Picked up")
    DELIVERED = "delivered", _("Delivered")
    SETTLED = "settled", _("Settled")
    CANCELLED = "cancelled", pgettext_lazy("medicine stage", "Cancelled")


FLOW = (
    Stage.REGISTERED,
    Stage.IN_RUN,
    Stage.BOUGHT,
    Stage.PICKED_UP,
    Stage.DELIVERED,
    Stage.SETTLED,
)


class Payer(models.TextChoices):
    RESIDENT = "resident", _("The resident")
    COMMUNITY = "community", _("The community (advanced)")
    INSURANCE = "insurance", _("Medical insurance")
    CHARITY = "charity", _("Charity or donation")


class RunStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    OUT = "out", _("Out")
    BACK = "back", _("Back")
    DONE = "done", pgettext_lazy("medicine run", "Done")


class Policy(models.Model):
    """A community's medicine rules: the fixed days of the hospital run (Huamei: twice a week)."""

    community = models.OneToOneField(
        "registry.Community", on_delete=models.CASCADE, related_name="+"
    )
    # ISO weekdays (1 = Monday) of the hospital run.
    hospital_days = models.JSONField(default=list)
    DEFAULT_HOSPITAL_DAYS = [2, 5]

    class Meta:
        verbose_name = _("medicine policy")

    def __str__(self):
        return f"medicine policy {self.community_id}"

    def days(self) -> list[int]:
        return list(self.hospital_days or self.DEFAULT_HOSPITAL_DAYS)


class Run(models.Model):
    """One trip: to a clinic, a pharmacy, or a hospital on a fixed day. Its list prints for the
    driver."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("where"), max_length=12, choices=Source.choices)
    place = models.CharField(_("place"), max_length=100)
    date = models.DateField(_("date"))
    driver = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("driver"),
    )
    driver_name = models.CharField(_("driver (name)"), max_length=50, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.PLANNED
    )
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("medicine run")
        ordering = ["-date", "pk"]
        indexes = [models.Index(fields=["community", "date"], name="medicine_run_date")]

    def __str__(self):
        return f"{self.date} {self.place}"


class Need(models.Model):
    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey(
        "registry.Resident",
        on_delete=models.PROTECT,
        related_name="medicine_needs",
        verbose_name=_("for whom"),
    )
    # Denormalised from the resident, for the household page and grid scope.
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="medicine_needs"
    )
    drug = models.CharField(_("medicine"), max_length=100)
    dose = models.CharField(_("dose"), max_length=100, blank=True, default="")
    quantity = models.CharField(_("quantity"), max_length=50)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CHRONIC)
    prescription_needed = models.BooleanField(_("prescription needed"), default=False)
    source = models.CharField(
        _("where to get it"), max_length=12, choices=Source.choices, default=Source.CLINIC
    )
    # The hospital or pharmacy the resident's prescription is from, when it matters.
    place = models.CharField(_("hospital or pharmacy"), max_length=100, blank=True, default="")
    needed_by = models.DateField(_("needed by"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    stage = models.CharField(
        _("stage"), max_length=12, choices=Stage.choices, default=Stage.REGISTERED
    )
    run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.PROTECT, related_name="needs"
    )
    # The help-line request it came from, if any.
    request = models.ForeignKey(
        "helpline.HelpRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="medicine_needs",
    )
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    paid_by = models.CharField(
        _("paid by"), max_length=12, choices=Payer.choices, blank=True, default=""
    )
    reimbursed = models.BooleanField(_("reimbursed"), default=False)
    client_key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("medicine need")
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "client_key"],
                condition=~models.Q(client_key=""),
                name="medicine_need_client_key",
            )
        ]
        indexes = [
            models.Index(fields=["community", "stage"], name="medicine_need_stage"),
        ]

    def __str__(self):
        return f"{self.drug} {self.quantity}"

    @property
    def sensitive(self) -> bool:
        return self.kind in SENSITIVE_KINDS


class NeedEvent(models.Model):
    """Append-only: each step of a need through the flow."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="events")
    stage = models.CharField(max_length=12, choices=Stage.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.need_id} {self.stage} {self.at:%Y-%m-%d}"
