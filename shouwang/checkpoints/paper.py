"""The paper fallback (issue 7 §6): printable tick-sheets per checkpoint and building for when
devices or the network fail (Xi'an, December 2021: the health-code platform went down and the
gates had only paper), and typing a sheet in afterwards.

A sheet lists the building's residents (name, masked ID number, door) with columns for the
time, in/out, the temperature and a tick, under a header with the checkpoint, the date and the
gate rules in one line. Typing it in makes one PaperBatch and its Passages (via=paper) in one
transaction: any bad row refuses the whole sheet, naming the row; blank rows are skipped. The
same checkpoint, building and date typed a second time is refused until the person confirms it
is another sheet.

What a paper row records: the sheet says what happened, so the passage's decision is "allow"
when the person passed and "deny" when the guard wrote them turned back. Its reasons are what
Shouwang's own rules (decision.decide) would have said at that time, from the data as it was
then (the home's control level, test results already in, positives, re-test flags): a row with
a deny reason that passed is listed after the entry for the grid to follow up.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Q, When
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.checkpoints import decision
from shouwang.checkpoints.models import (
    Checkpoint,
    Decision,
    Direction,
    PaperBatch,
    Passage,
)
from shouwang.checkpoints.services import policy_for
from shouwang.checkpoints.visitors import clean_temperature
from shouwang.core.audit import audit, signed_in
from shouwang.core.errors import Conflict, DomainError
from shouwang.registry.models import Building, Resident

MAX_ROWS = 2000
_IN = {"i", "in", "进", "入", "1", "+"}
_OUT = {"o", "out", "出", "0", "-"}
_TIME = re.compile(r"^(\d{1,2})[:：.\s]?(\d{2})$")


# --- the sheet --------------------------------------------------------------------------------


def residents_of(building: Building):
    """The building's residents living here, in door order (head of household first)."""
    return (
        Resident.objects.living_here()
        .filter(household__building=building)
        .select_related("household__dwelling__unit")
        .order_by(
            "household__dwelling__unit__name",
            Length("household__dwelling__door"),
            "household__dwelling__door",
            "household_id",
            Case(When(relation="head", then=0), default=1),
            "pk",
        )
    )


def door_label(r: Resident) -> str:
    d = r.household.dwelling
    return f"{d.unit.name} {d.door}" if d.unit_id else d.door


def rules_line(community_id: int, building: Building | None = None, *, now=None) -> str:
    """The gate rules in one line, for the sheet's header."""
    from shouwang.control import levels

    p = policy_for(community_id)
    parts = [
        _("Temperature under %(t)s °C") % {"t": p.fever_at},
    ]
    if p.test_hours:
        parts.append(_("negative test within %(h)s h") % {"h": p.test_hours})
    parts.append(_("sealed homes: nobody out; controlled: nobody leaves the compound"))
    if p.ask_health_code:
        parts.append(_("see the health code; red stops"))
    parts.append(_("mask on"))
    line = "; ".join(str(x) for x in parts) + "."
    if building is not None:
        c = levels.level_of(
            unit_id=None, building_id=building.pk, compound_id=building.compound_id, now=now
        )
        if c is not None:
            line += " " + _("This building: %(level)s.") % {"level": levels.label(c.level)}
    return line


def sheet(checkpoint: Checkpoint, building: Building, day: dt.date) -> dict:
    rows = [
        {
            "resident": r,
            "name": r.name,
            "id_masked": r.id_number_masked,
            "door": door_label(r),
        }
        for r in residents_of(building)
    ]
    return {
        "checkpoint": checkpoint,
        "building": building,
        "date": day,
        "rules": rules_line(checkpoint.community_id, building),
        "rows": rows,
        "blank_rows": 8,  # for visitors and people not on the list, written by hand
    }


def batches_of(checkpoint: Checkpoint, building: Building | None, day: dt.date):
    return PaperBatch.objects.filter(checkpoint=checkpoint, building=building, date=day).order_by(
        "entered_at", "pk"
    )


# --- parsing one row --------------------------------------------------------------------------


def parse_time(raw: str, day: dt.date) -> dt.datetime:
    text = (raw or "").strip()
    m = _TIME.match(text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(_("time “%(v)s” is not a time of day: type 0815 or 8:15") % {"v": text})
    t = dt.time(int(m.group(1)), int(m.group(2)))
    return dt.datetime.combine(day, t, tzinfo=timezone.get_current_timezone())


def parse_direction(raw: str) -> str:
    text = (raw or "").strip().lower()
    if text in _IN:
        return Direction.IN
    if text in _OUT:
        return Direction.OUT
    raise ValueError(_("in/out “%(v)s”: type i (in) or o (out)") % {"v": raw})


@dataclass
class Row:
    resident: Resident
    at: dt.datetime
    direction: str
    temperature: Decimal | None
    turned_back: bool
    decision: str = ""
    level: str = ""
    reasons: list[str] = field(default_factory=list)


def _blank(values: dict) -> bool:
    return not any(
        str(values.get(k) or "").strip() for k in ("time", "direction", "temperature")
    ) and not values.get("back")


# --- the facts at the time of each row ----------------------------------------------------------


def _facts(rows: list[Row], community_id: int) -> None:
    """Fill each row's decision and reasons, from the data as it was at the row's time: a few
    queries for the whole sheet."""
    from shouwang.control import levels
    from shouwang.control.models import Control
    from shouwang.screening.models import (
        AntigenReport,
        AntigenResult,
        Positive,
        RetestFlag,
        Sample,
        TubeResult,
    )

    if not rows:
        return
    rules = decision.Rules.of(policy_for(community_id))
    ids = {r.resident.pk for r in rows}
    first = min(r.at for r in rows)
    last = max(r.at for r in rows)
    since = first - dt.timedelta(hours=rules.test_hours or 0) - dt.timedelta(days=1)
    controls = list(
        Control.objects.filter(community_id=community_id, starts_at__lte=last).filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=first)
        )
    )
    samples: dict[int, list] = {}
    for s in (
        Sample.objects.filter(resident_id__in=ids, voided_at__isnull=True, device_at__gte=since)
        .filter(device_at__lte=last)
        .values("resident_id", "device_at", "tube__result", "tube__result_at")
    ):
        samples.setdefault(s["resident_id"], []).append(s)
    positives: dict[int, list] = {}
    for rid, day in Positive.objects.filter(
        resident_id__in=ids, detected_on__lte=last.date()
    ).values_list("resident_id", "detected_on"):
        positives.setdefault(rid, []).append(day)
    antigen: dict[int, list] = {}
    if rules.antigen_counts:
        for rid, day in AntigenReport.objects.filter(
            resident_id__in=ids, result=AntigenResult.NEGATIVE, date__gte=since.date()
        ).values_list("resident_id", "date"):
            antigen.setdefault(rid, []).append(day)
    flags: dict[int, list] = {}
    for rid, made, cleared in RetestFlag.objects.filter(
        resident_id__in=ids, created_at__lte=last
    ).values_list("resident_id", "created_at", "cleared_at"):
        flags.setdefault(rid, []).append((made, cleared))

    for row in rows:
        at = row.at
        h = row.resident.household
        covering = [
            c
            for c in controls
            if c.starts_at <= at
            and (c.ended_at is None or c.ended_at > at)
            and (
                (c.kind == "unit" and c.place_id == h.dwelling.unit_id)
                or (c.kind == "building" and c.place_id == h.building_id)
                or (c.kind == "compound" and c.place_id == h.building.compound_id)
            )
        ]
        best = levels.strictest(covering)
        negative_at = pending_at = None
        for s in samples.get(row.resident.pk, []):
            if s["device_at"] > at:
                continue
            known = s["tube__result_at"] is not None and s["tube__result_at"] <= at
            if known and s["tube__result"] == TubeResult.NEGATIVE:
                negative_at = max(negative_at or s["device_at"], s["device_at"])
            elif not known:
                pending_at = max(pending_at or s["device_at"], s["device_at"])
        day = timezone.localdate(at)
        pos = [d for d in positives.get(row.resident.pk, []) if d <= day]
        ag = [d for d in antigen.get(row.resident.pk, []) if d <= day]
        retest = any(
            made <= at and (cleared is None or cleared > at)
            for made, cleared in flags.get(row.resident.pk, [])
        )
        facts = decision.Facts(
            direction=row.direction,
            now=at,
            rules=rules,
            level=best.level if best is not None else "",
            temperature=row.temperature,
            negative_at=negative_at,
            pending_at=pending_at,
            antigen_negative_on=max(ag) if ag else None,
            retest=retest,
            positive_on=max(pos) if pos else None,
        )
        _verdict, row.reasons = decision.decide(facts)
        row.level = facts.level
        row.decision = Decision.DENY if row.turned_back else Decision.ALLOW


# --- the entry ----------------------------------------------------------------------------------


@dataclass
class Entered:
    batch: PaperBatch
    rows: list[Row]

    @property
    def to_follow_up(self) -> list[Row]:
        """Rows that passed although Shouwang's rules say deny."""
        return [
            r
            for r in self.rows
            if r.decision == Decision.ALLOW and decision.worst(r.reasons) == Decision.DENY
        ]


def paper_enter(
    *,
    actor,
    checkpoint: Checkpoint,
    building: Building,
    day: dt.date,
    values: dict[int, dict],
    confirm_duplicate: bool = False,
    note: str = "",
    now=None,
) -> Entered:
    """Type in one sheet. `values`: {resident id: {"time", "direction", "temperature", "back"}}.
    All rows or none: the first bad row is named in the message, every bad field in `fields`
    (keys "r<resident id>")."""
    now = now or timezone.now()
    if building.community_id != checkpoint.community_id:
        raise DomainError("invalid", _("This building is not in this checkpoint's community."))
    if day > timezone.localdate(now):
        msg = _("The sheet's date is in the future: check the date written on it.")
        raise DomainError("invalid", msg, fields={"date": msg})
    if len(values) > MAX_ROWS:
        raise DomainError("invalid", _("Too many rows for one sheet."))
    people = {
        r.pk: r
        for r in Resident.objects.filter(
            pk__in=[int(k) for k in values], household__building=building
        ).select_related("household__dwelling__unit", "household__building")
    }
    rows: list[Row] = []
    errors: dict[str, str] = {}
    for key, v in values.items():
        rid = int(key)
        if _blank(v):
            continue
        r = people.get(rid)
        if r is None:
            errors[f"r{rid}"] = _("This person is not on this building's sheet.")
            continue
        problems = []
        at = direction = temperature = None
        try:
            at = parse_time(str(v.get("time") or ""), day)
            if at > now:
                problems.append(_("time %(t)s is later than now") % {"t": at.strftime("%H:%M")})
        except ValueError as e:
            problems.append(str(e))
        try:
            direction = parse_direction(str(v.get("direction") or ""))
        except ValueError as e:
            problems.append(str(e))
        try:
            temperature = clean_temperature(v.get("temperature"))
        except DomainError as e:
            problems.append(str(e.message))
        if problems:
            errors[f"r{rid}"] = "; ".join(problems)
            continue
        rows.append(Row(r, at, direction, temperature, bool(v.get("back"))))
    if errors:
        first_key = next(iter(errors))
        r = people.get(int(first_key[1:]))
        who = f"{r.name} ({door_label(r)})" if r is not None else first_key
        more = len(errors) - 1
        message = _("Nothing was saved. Row %(who)s: %(problem)s.") % {
            "who": who,
            "problem": errors[first_key],
        }
        if more:
            message += " " + _("%(n)s more rows have problems, marked below.") % {"n": more}
        raise DomainError("paper_rows", message, fields=errors)
    if not rows:
        raise DomainError("paper_empty", _("Every row is blank: nothing to enter."))
    _facts(rows, checkpoint.community_id)
    with transaction.atomic():
        # Lock the checkpoint row so two people typing the same sheet at once see each other.
        Checkpoint.objects.select_for_update().get(pk=checkpoint.pk)
        before = list(batches_of(checkpoint, building, day).select_related("entered_by"))
        if before and not confirm_duplicate:
            b = before[-1]
            raise Conflict(
                "paper_duplicate",
                _(
                    "This sheet (%(cp)s, %(building)s, %(date)s) was entered already on %(at)s "
                    "by %(who)s with %(n)s rows. Enter it again only if this is another sheet: "
                    "tick “This is another sheet” and save."
                )
                % {
                    "cp": checkpoint.name,
                    "building": building.name,
                    "date": day.isoformat(),
                    "at": timezone.localtime(b.entered_at).strftime("%m-%d %H:%M"),
                    "who": b.entered_by.label if b.entered_by_id else "-",
                    "n": b.rows,
                },
            )
        batch = PaperBatch.objects.create(
            community_id=checkpoint.community_id,
            checkpoint=checkpoint,
            building=building,
            date=day,
            note=(note or "").strip()[:200],
            entered_by=signed_in(actor),
            rows=len(rows),
        )
        Passage.objects.bulk_create(
            [
                Passage(
                    community_id=checkpoint.community_id,
                    checkpoint=checkpoint,
                    direction=row.direction,
                    resident=row.resident,
                    via=Passage.Via.PAPER,
                    temperature=row.temperature,
                    decision=row.decision,
                    reasons=",".join(row.reasons),
                    level=row.level,
                    guard=signed_in(actor),
                    at=row.at,
                    recorded_at=now,
                    paper=batch,
                )
                for row in rows
            ]
        )
        audit(
            actor=actor,
            action="checkpoints.paper",
            community=checkpoint.community_id,
            target=batch,
            summary=f"{checkpoint.name} {building.name} {day.isoformat()}: {len(rows)}"
            + (" (again)" if before else ""),
        )
    return Entered(batch, rows)
