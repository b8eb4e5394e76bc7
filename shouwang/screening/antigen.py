"""Antigen self-tests (抗原自测): a result per person per day, reported by the household on its
page or entered by grid staff for households without phones. A second report that day replaces
the first. A positive report records a Positive (source: antigen) for the cases work to follow.

The optional photo of the test strip goes through `queues.images.photo_process` (re-encoded from
the pixels: no EXIF, no GPS position) and is stored privately — only staff with
`screening.antigen` open it, through a view."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.control import services as control
from shouwang.core.audit import audit
from shouwang.core.errors import invalid
from shouwang.registry.models import Household, Presence, Resident
from shouwang.screening.models import (
    AntigenReport,
    AntigenResult,
    Positive,
    PositiveSource,
    RetestFlag,
)

# Staff may enter a result a little late (a paper list collected the next morning).
STAFF_DAYS_BACK = 2


class Via:
    HOUSEHOLD = "household"
    PROXY = "proxy"
    STAFF = "staff"


def _check_date(date: dt.date, via: str) -> None:
    today = timezone.localdate()
    if date > today:
        raise invalid("date", _("A result cannot be reported for a day still to come."))
    oldest = today - dt.timedelta(days=STAFF_DAYS_BACK if via == Via.STAFF else 0)
    if date < oldest:
        raise invalid("date", _("This day is closed for reports."))


def report_save(
    *,
    actor,
    resident: Resident,
    result: str,
    date: dt.date | None = None,
    photo=None,
    via: str = Via.HOUSEHOLD,
    consent=None,
) -> AntigenReport:
    """Record (or replace) the person's result for the day; a positive result records a
    Positive. `consent` when a proxy acts for the household (logged "on behalf of")."""
    date = date or timezone.localdate()
    if result not in AntigenResult.values:
        raise invalid("result", _("Choose negative, positive or invalid."))
    if resident.presence == Presence.MOVED_OUT:
        raise invalid("resident", _("This person has moved out."))
    _check_date(date, via)
    processed = None
    if photo:
        from shouwang.queues.images import photo_process

        processed = photo_process(photo)  # DomainError on a file that is not a photo
    user = actor if getattr(actor, "is_authenticated", False) else None
    old_files: list[str] = []
    with transaction.atomic():
        report = (
            AntigenReport.objects.select_for_update().filter(resident=resident, date=date).first()
        )
        created = report is None
        if created:
            report = AntigenReport(community_id=resident.community_id, resident=resident, date=date)
        elif report.photo:
            old_files.append(report.photo.name)
        report.result = result
        report.via = via
        report.reported_by = user
        report.photo = ""
        if processed is not None:
            report.photo.save(f"{uuid.uuid4().hex}.jpg", ContentFile(processed.photo), save=False)
        report.save()
        if result == AntigenResult.POSITIVE:
            positive, new = Positive.objects.get_or_create(
                community_id=resident.community_id,
                resident=resident,
                source=PositiveSource.ANTIGEN,
                antigen=report,
                defaults={"detected_on": date},
            )
            if new:
                # Propose (never set) sealing the building, for a second pair of eyes.
                control.propose_from_positive(positive)
        summary = f"{resident.name} (#{resident.pk}) {date}: {result}" + (
            " (replaced)" if not created else ""
        )
        audit(
            actor=actor,
            action="screening.antigen.report",
            community=resident.community_id,
            target=report,
            summary=f"{summary} via {via}",
        )
        if consent is not None:
            from shouwang.residents.services import behalf_record

            behalf_record(
                consent=consent,
                action="screening.antigen",
                summary=summary,
                resident_id=resident.pk,
                target=report,
            )
        if old_files:
            storage = report.photo.storage

            def _remove():
                for name in old_files:
                    storage.delete(name)

            transaction.on_commit(_remove)
    return report


# --- reads ------------------------------------------------------------------------------------


@dataclass
class MemberDay:
    resident: Resident
    report: AntigenReport | None


@dataclass
class HouseholdDay:
    household: Household
    members: list[MemberDay] = field(default_factory=list)
    has_phone: bool = False

    @property
    def reported(self) -> int:
        return sum(1 for m in self.members if m.report is not None)


def household_day(
    household: Household, date: dt.date | None = None, *, only=None
) -> list[MemberDay]:
    """The household's members living here with their report of the day (`only`: one member,
    for a consent that covers one person)."""
    date = date or timezone.localdate()
    qs = Resident.objects.filter(household=household).exclude(presence=Presence.MOVED_OUT)
    if only:
        qs = qs.filter(pk=only)
    members = sorted(qs, key=lambda m: (m.relation != "head", m.pk))
    reports = {
        r.resident_id: r
        for r in AntigenReport.objects.filter(resident_id__in=[m.pk for m in members], date=date)
    }
    return [MemberDay(m, reports.get(m.pk)) for m in members]


def entry_rows(households_qs, date: dt.date) -> list[HouseholdDay]:
    """Households (already scoped by the caller) with their members and the day's reports, for
    the staff entry page: three queries whatever the number of households."""
    households = list(households_qs.select_related("dwelling__unit", "building__compound"))
    ids = [h.pk for h in households]
    by_h: dict[int, HouseholdDay] = {
        h.pk: HouseholdDay(h, has_phone=bool(h.contact_phone_enc)) for h in households
    }
    members = (
        Resident.objects.filter(household_id__in=ids)
        .exclude(presence=Presence.MOVED_OUT)
        .order_by("household_id", "id")
    )
    reports = {
        r.resident_id: r
        for r in AntigenReport.objects.filter(resident__household_id__in=ids, date=date)
    }
    for m in members:
        row = by_h[m.household_id]
        row.members.append(MemberDay(m, reports.get(m.pk)))
        if m.phone_enc:
            row.has_phone = True
    for row in by_h.values():
        row.members.sort(key=lambda d: (d.resident.relation != "head", d.resident.pk))
    return [by_h[h.pk] for h in households if by_h[h.pk].members]


def open_retests(household: Household) -> list[RetestFlag]:
    """Members waiting for their single-tube re-test after a positive pooled tube."""
    return list(
        RetestFlag.objects.filter(
            resident__household=household, cleared_at__isnull=True
        ).select_related("resident")
    )
