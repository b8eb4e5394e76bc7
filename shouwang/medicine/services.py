"""The medicine pipeline's writes: register a need, change or cancel it, make a run, put needs
into it or take one out, move needs along the flow one stage at a time (one by one or a whole
run at once) and settle them. Every step appends a NeedEvent in the same transaction.

Who may move a need to which stage is decided here, once, for the pages and the API alike:
buying and settling are the office's (medicine.manage); fetching and delivering belong to
medicine.deliver — the office, a grid leader for their grid's needs, a volunteer on the runs
they drive.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.accounts.models import Role
from shouwang.accounts.permissions import can
from shouwang.core.audit import audit, signed_in
from shouwang.core.cleaning import line, price
from shouwang.core.errors import Conflict, DomainError, Forbidden, invalid
from shouwang.medicine import selectors
from shouwang.medicine.models import (
    FLOW,
    Kind,
    Need,
    NeedEvent,
    Payer,
    Policy,
    Run,
    RunStatus,
    Source,
    Stage,
)
from shouwang.registry.models import Presence

# Stages a need may still be changed or cancelled at without the office.
EDITABLE = (Stage.REGISTERED, Stage.IN_RUN)
# The steps the office takes (medicine.manage); the others are medicine.deliver's.
OFFICE_STEPS = (Stage.BOUGHT, Stage.SETTLED)


def _event(need: Need, stage: str, actor, *, at=None, text: str = "") -> NeedEvent:
    return NeedEvent.objects.create(
        need=need, stage=stage, by=signed_in(actor), at=at or timezone.now(), text=text[:200]
    )


def _choice(value, choices, field: str, message) -> str:
    if value not in choices.values:
        raise invalid(field, message)
    return value


def _fields(*, drug, dose, quantity, kind, source, place, note) -> dict:
    drug = line(drug, "drug", 100)
    if not drug:
        raise invalid("drug", _("Write the medicine's name."))
    quantity = line(quantity, "quantity", 50)
    if not quantity:
        raise invalid("quantity", _("Write how much is needed, e.g. 2 boxes."))
    return {
        "drug": drug,
        "dose": line(dose, "dose", 100),
        "quantity": quantity,
        "kind": _choice(kind, Kind, "kind", _("Choose the kind of medicine.")),
        "source": _choice(source, Source, "source", _("Choose where to get it.")),
        "place": line(place, "place", 100),
        "note": line(note, "note", 200),
    }


# --- needs ----------------------------------------------------------------------------------


def need_register(
    *,
    actor,
    resident,
    drug: str,
    quantity: str,
    dose: str = "",
    kind: str = Kind.CHRONIC,
    prescription_needed: bool = False,
    source: str = Source.CLINIC,
    place: str = "",
    needed_by: dt.date | None = None,
    note: str = "",
    request=None,
    client_key: str = "",
    at: dt.datetime | None = None,
) -> Need:
    """Register one person's medicine. The same `client_key` again returns the need it made
    (a retried or double-clicked form registers it once)."""
    community_id = resident.community_id
    client_key = (client_key or "")[:64]
    if client_key:
        done = Need.objects.filter(community_id=community_id, client_key=client_key).first()
        if done is not None:
            return done
    if resident.presence == Presence.MOVED_OUT:
        raise invalid("resident", _("This person has moved out."))
    if request is not None and request.community_id != community_id:
        raise invalid("request", _("That request is not of this community."))
    values = _fields(
        drug=drug, dose=dose, quantity=quantity, kind=kind, source=source, place=place, note=note
    )
    at = at or timezone.now()
    try:
        with transaction.atomic():
            need = Need.objects.create(
                community_id=community_id,
                resident=resident,
                household_id=resident.household_id,
                prescription_needed=bool(prescription_needed),
                needed_by=needed_by,
                request=request,
                client_key=client_key,
                created_at=at,
                created_by=signed_in(actor),
                **values,
            )
            _event(need, Stage.REGISTERED, actor, at=at)
    except IntegrityError:
        # The same key from a concurrent submit: it made the need.
        done = Need.objects.filter(community_id=community_id, client_key=client_key).first()
        if done is None:
            raise
        return done
    return need


def need_change(
    *,
    actor,
    need: Need,
    drug: str,
    quantity: str,
    dose: str = "",
    kind: str = Kind.CHRONIC,
    prescription_needed: bool = False,
    source: str = Source.CLINIC,
    place: str = "",
    needed_by: dt.date | None = None,
    note: str = "",
) -> Need:
    """Change what is needed, before it is bought (afterwards: cancel and register anew)."""
    values = _fields(
        drug=drug, dose=dose, quantity=quantity, kind=kind, source=source, place=place, note=note
    )
    with transaction.atomic():
        need = Need.objects.select_for_update().get(pk=need.pk)
        if need.stage not in EDITABLE:
            raise Conflict(
                "not_editable",
                _("It has been bought already: cancel it and register a new need instead."),
            )
        changed = [k for k, v in values.items() if getattr(need, k) != v]
        for k, v in values.items():
            setattr(need, k, v)
        if need.prescription_needed != bool(prescription_needed):
            changed.append("prescription_needed")
        need.prescription_needed = bool(prescription_needed)
        if need.needed_by != needed_by:
            changed.append("needed_by")
        need.needed_by = needed_by
        if changed:
            need.save(update_fields=[*values, "prescription_needed", "needed_by", "updated_at"])
            _event(need, need.stage, actor, text=_("Changed: %s") % ", ".join(changed))
    return need


def need_cancel(*, actor, need: Need, reason: str) -> Need:
    """Cancel a need with a reason. Before it is bought anyone who registers may; once bought
    only the office (the money is spent)."""
    reason = line(reason, "reason", 200)
    if not reason:
        raise invalid("reason", _("Say why it is cancelled."))
    with transaction.atomic():
        need = Need.objects.select_for_update().get(pk=need.pk)
        if need.stage == Stage.CANCELLED:
            return need
        if need.stage in (Stage.DELIVERED, Stage.SETTLED):
            raise Conflict("delivered", _("It has been delivered: it cannot be cancelled."))
        if need.stage not in EDITABLE and not can(actor, "medicine.manage"):
            raise Forbidden("bought", _("It has been bought already: ask the office to cancel it."))
        need.stage = Stage.CANCELLED
        need.save(update_fields=["stage", "updated_at"])
        _event(need, Stage.CANCELLED, actor, text=reason)
        run = need.run
    if run is not None:
        _sync_run(run)
    return need


# --- runs -----------------------------------------------------------------------------------


def policy_set(*, actor, community_id: int, hospital_days: list[int]) -> Policy:
    days = sorted({int(d) for d in hospital_days})
    if not days or any(d < 1 or d > 7 for d in days):
        raise invalid("hospital_days", _("Choose at least one weekday for the hospital run."))
    with transaction.atomic():
        policy = selectors.policy_for(community_id)
        policy.hospital_days = days
        policy.save(update_fields=["hospital_days"])
        audit(
            actor=actor,
            action="medicine.policy",
            community=community_id,
            target=policy,
            summary=f"hospital days {days}",
        )
    return policy


def _driver(community_id: int, driver):
    if driver is None:
        return None
    if not selectors.drivers_for(community_id).filter(pk=driver.pk).exists():
        raise invalid("driver", _("The driver must be one of the community's deliverers."))
    return driver


def _run_date(community_id: int, source: str, date: dt.date, extra: bool) -> dt.date:
    if date is None:
        raise invalid("date", _("Choose the day of the run."))
    if date < timezone.localdate():
        raise invalid("date", _("The day of the run has passed."))
    if source == Source.HOSPITAL and not extra:
        days = selectors.policy_for(community_id).days()
        if date.isoweekday() not in days:
            nxt = selectors.next_hospital_days(community_id, start=date, n=1)
            raise invalid(
                "date",
                _(
                    "Hospital runs go on the fixed days (next: %(day)s). Tick "
                    "“an extra trip” to go on another day."
                )
                % {"day": nxt[0].isoformat() if nxt else "-"},
            )
    return date


def run_create(
    *,
    actor,
    community_id: int,
    source: str,
    place: str,
    date: dt.date,
    driver=None,
    driver_name: str = "",
    note: str = "",
    extra: bool = False,
) -> Run:
    """A trip: to the community clinic, a nearby pharmacy, or a hospital on the policy's fixed
    days (or an extra trip, said so)."""
    source = _choice(source, Source, "source", _("Choose where the run goes."))
    place = line(place, "place", 100)
    if not place:
        raise invalid("place", _("Write the clinic, pharmacy or hospital."))
    date = _run_date(community_id, source, date, extra)
    with transaction.atomic():
        run = Run.objects.create(
            community_id=community_id,
            source=source,
            place=place,
            date=date,
            driver=_driver(community_id, driver),
            driver_name=line(driver_name, "driver_name", 50),
            note=line(note, "note", 200),
            created_by=signed_in(actor),
        )
        audit(
            actor=actor,
            action="medicine.run",
            community=community_id,
            target=run,
            summary=f"{date} {place}",
        )
    return run


def run_change(
    *,
    actor,
    run: Run,
    place: str,
    date: dt.date,
    driver=None,
    driver_name: str = "",
    note: str = "",
    extra: bool = False,
) -> Run:
    place = line(place, "place", 100)
    if not place:
        raise invalid("place", _("Write the clinic, pharmacy or hospital."))
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.status == RunStatus.DONE:
            raise Conflict("run_done", _("This run is done."))
        if date != run.date:
            date = _run_date(run.community_id, run.source, date, extra)
        run.place = place
        run.date = date
        run.driver = _driver(run.community_id, driver)
        run.driver_name = line(driver_name, "driver_name", 50)
        run.note = line(note, "note", 200)
        run.save(update_fields=["place", "date", "driver", "driver_name", "note"])
        audit(
            actor=actor,
            action="medicine.run_change",
            community=run.community_id,
            target=run,
            summary=f"{date} {place} driver={run.driver_id or run.driver_name}",
        )
    return run


def run_add(*, actor, run: Run, needs: list[Need]) -> int:
    """Put registered needs into a run. Only needs of the run's community that wait for a run;
    a need is in one live run at most. The claim is one conditional UPDATE, so two operators
    filling two runs at once cannot both take the same need."""
    if not needs:
        raise invalid("needs", _("Tick the needs to put into this run."))
    ids = sorted({n.pk for n in needs})
    foreign = [n for n in needs if n.community_id != run.community_id]
    if foreign:
        raise invalid("needs", _("Only needs of this community can go into the run."))
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.status not in (RunStatus.PLANNED, RunStatus.OUT):
            raise Conflict("run_closed", _("This run is back: make a new run for these needs."))
        claimed = Need.objects.filter(
            pk__in=ids,
            community_id=run.community_id,
            stage=Stage.REGISTERED,
            run__isnull=True,
        ).update(stage=Stage.IN_RUN, run=run, updated_at=now)
        if claimed != len(ids):
            raise Conflict(
                "not_waiting",
                _(
                    "Some of these needs are no longer waiting for a run (already in a run, "
                    "moved on or cancelled). Reload the page and try again."
                ),
            )
        text = _("Into the run of %(date)s to %(place)s") % {
            "date": run.date.isoformat(),
            "place": run.place,
        }
        NeedEvent.objects.bulk_create(
            [
                NeedEvent(need_id=pk, stage=Stage.IN_RUN, at=now, by=signed_in(actor), text=text)
                for pk in ids
            ]
        )
    return claimed


def run_remove(*, actor, need: Need, reason: str = "") -> Need:
    """Take a need back out of its run (before it is bought): it waits for a run again."""
    reason = line(reason, "reason", 200)
    with transaction.atomic():
        need = Need.objects.select_for_update().get(pk=need.pk)
        if need.stage != Stage.IN_RUN or need.run_id is None:
            raise Conflict(
                "not_in_run",
                _("Only a need that is in a run and not bought yet can be taken out."),
            )
        run = need.run
        need.stage = Stage.REGISTERED
        need.run = None
        need.save(update_fields=["stage", "run", "updated_at"])
        _event(
            need,
            Stage.REGISTERED,
            actor,
            text=(_("Taken out of the run of %s") % run.date.isoformat())
            + (f": {reason}" if reason else ""),
        )
    _sync_run(run)
    return need


def _sync_run(run: Run) -> None:
    """The run's status follows its needs: out once something is fetched, back when everything
    is delivered, done when everything is settled."""
    stages = set(
        Need.objects.filter(run=run).exclude(stage=Stage.CANCELLED).values_list("stage", flat=True)
    )
    status = RunStatus.PLANNED
    if stages and stages <= {Stage.SETTLED}:
        status = RunStatus.DONE
    elif stages and stages <= {Stage.DELIVERED, Stage.SETTLED}:
        status = RunStatus.BACK
    elif stages & {Stage.PICKED_UP, Stage.DELIVERED, Stage.SETTLED}:
        status = RunStatus.OUT
    if status != run.status:
        Run.objects.filter(pk=run.pk).update(status=status)
        run.status = status


# --- the flow -------------------------------------------------------------------------------


def next_stage(stage: str) -> str | None:
    if stage not in FLOW or stage in (Stage.REGISTERED, Stage.SETTLED):
        return None
    return FLOW[FLOW.index(stage) + 1]


def may_move(actor, need: Need, to: str) -> bool:
    """Who takes which step (see the module's docstring)."""
    if to in OFFICE_STEPS:
        return can(actor, "medicine.manage")
    if to not in (Stage.PICKED_UP, Stage.DELIVERED) or not can(actor, "medicine.deliver"):
        return False
    if can(actor, "medicine.manage"):
        return True
    run = need.run
    if run is not None and run.driver_id == getattr(actor, "pk", None):
        return True
    return (
        actor.role == Role.GRID_LEADER
        and need.household.building.grid_id is not None
        and need.household.building.grid_id == actor.grid_id
    )


def _check_step(actor, need: Need, to: str) -> None:
    if to == Stage.SETTLED:
        raise invalid("to", _("Settle it with the amount and who paid (the settle form)."))
    nxt = next_stage(need.stage)
    if need.stage == Stage.REGISTERED:
        raise Conflict("not_in_run", _("Put it into a run first."))
    if nxt is None:
        raise Conflict("at_end", _("It is %s: there is no next step.") % Stage(need.stage).label)
    if to != nxt:
        raise Conflict(
            "one_step",
            _("It is %(now)s: the next step is %(next)s, one stage at a time.")
            % {"now": Stage(need.stage).label, "next": Stage(nxt).label},
        )
    if not may_move(actor, need, to):
        if to in OFFICE_STEPS:
            raise Forbidden("office_step", _("Only the office records buying and settling."))
        raise Forbidden("not_your_run", _("Only the run's driver or the office can do this."))


def need_advance(*, actor, need: Need, to: str, text: str = "") -> Need:
    """Move a need one stage forward along the flow. Asking for the stage it is at already is a
    retried press and changes nothing."""
    text = line(text, "text", 200)
    if to not in Stage.values:
        raise invalid("to", _("Unknown stage."))
    with transaction.atomic():
        need = (
            Need.objects.select_for_update(of=("self",))
            .select_related("run", "household__building")
            .get(pk=need.pk)
        )
        if need.stage == to:
            return need
        _check_step(actor, need, to)
        need.stage = to
        need.save(update_fields=["stage", "updated_at"])
        _event(need, to, actor, text=text)
        run = need.run
    if run is not None:
        _sync_run(run)
    return need


def run_advance(*, actor, run: Run, to: str) -> int:
    """Move every need of the run that is one step before `to` forward at once (everything
    bought, everything picked up, everything delivered). Returns how many moved."""
    if to not in (Stage.BOUGHT, Stage.PICKED_UP, Stage.DELIVERED):
        raise invalid("to", _("A whole run moves to bought, picked up or delivered."))
    before = FLOW[FLOW.index(to) - 1]
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        needs = list(
            Need.objects.filter(run=run, stage=before).select_related("run", "household__building")
        )
        if not needs:
            raise Conflict(
                "nothing_to_move",
                _("No need of this run is at “%s”.") % Stage(before).label,
            )
        allowed = [n for n in needs if may_move(actor, n, to)]
        if not allowed:
            if to in OFFICE_STEPS:
                raise Forbidden("office_step", _("Only the office records buying and settling."))
            raise Forbidden("not_your_run", _("Only the run's driver or the office can do this."))
        ids = [n.pk for n in allowed]
        moved = Need.objects.filter(pk__in=ids, stage=before).update(stage=to, updated_at=now)
        NeedEvent.objects.bulk_create(
            [
                NeedEvent(
                    need_id=pk, stage=to, at=now, by=signed_in(actor), text=_("The whole run")
                )
                for pk in ids
            ]
        )
    _sync_run(run)
    return moved


def need_settle(
    *,
    actor,
    need: Need,
    amount,
    paid_by: str,
    reimbursed: bool = False,
    text: str = "",
) -> Need:
    """Settle a delivered need: the amount, who paid, whether it was reimbursed. Settling it
    again corrects the settlement (e.g. reimbursed later); each change is in the history."""
    if not can(actor, "medicine.manage"):
        raise Forbidden("office_step", _("Only the office records buying and settling."))
    try:
        amount = price(amount, required=True)
    except DomainError:
        raise invalid("amount", _("Type the amount in yuan, e.g. 36.50.")) from None
    paid_by = _choice(paid_by, Payer, "paid_by", _("Choose who paid."))
    text = line(text, "text", 200)
    with transaction.atomic():
        need = Need.objects.select_for_update(of=("self",)).select_related("run").get(pk=need.pk)
        if need.stage not in (Stage.DELIVERED, Stage.SETTLED):
            raise Conflict("not_delivered", _("Settle it once it has been delivered."))
        same = (need.amount, need.paid_by, need.reimbursed) == (
            Decimal(amount),
            paid_by,
            bool(reimbursed),
        )
        if need.stage == Stage.SETTLED and same:
            return need
        first = need.stage == Stage.DELIVERED
        need.stage = Stage.SETTLED
        need.amount = amount
        need.paid_by = paid_by
        need.reimbursed = bool(reimbursed)
        need.save(update_fields=["stage", "amount", "paid_by", "reimbursed", "updated_at"])
        summary = f"¥{amount} · {Payer(paid_by).label}" + (
            f" · {_('reimbursed')}" if reimbursed else ""
        )
        if not first:
            summary = _("Settlement corrected: %s") % summary
        _event(need, Stage.SETTLED, actor, text=(summary + (f" · {text}" if text else ""))[:200])
        run = need.run
    if run is not None:
        _sync_run(run)
    return need
