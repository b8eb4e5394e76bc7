"""Gates, the checkpoints they were merged into, and the community's gate and roster policy.

Qianjinxiang merged 17 gates of 11 compounds into 8 checkpoints and closed the rest; Huamei kept
2 roads open of many. The admin needs one page that says, per compound, which gates there are,
which are open (now, given their hours), which checkpoint each was merged into and whether that
checkpoint is staffed at this moment (someone's duty covers now).

Every write is keyword-only, takes `actor=`, runs in one transaction and writes its audit row
there. Reads are scoped to the caller's community.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.checkpoints.models import Checkpoint, Duty, Gate, Policy
from shouwang.checkpoints.services import policy_for
from shouwang.core.audit import audit
from shouwang.core.errors import invalid
from shouwang.registry.models import Compound

# --- reads ------------------------------------------------------------------------------------


def checkpoints_for(user):
    return scope_queryset(user, Checkpoint.objects.all())


def checkpoint_get_for(user, pk) -> Checkpoint:
    return get_scoped(user, Checkpoint.objects.all(), pk)


def gates_for(user):
    return scope_queryset(user, Gate.objects.select_related("compound", "checkpoint"))


def gate_get_for(user, pk) -> Gate:
    return get_scoped(user, Gate.objects.select_related("compound", "checkpoint"), pk)


def hours_open(opens_at: dt.time | None, closes_at: dt.time | None, at: dt.time) -> bool:
    """Is a time of day within the hours? Both empty: round the clock. Closing before opening
    (20:00–06:00) runs through midnight."""
    if opens_at is None and closes_at is None:
        return True
    if opens_at is None or closes_at is None:  # half-set hours are refused on save
        return True
    if opens_at < closes_at:
        return opens_at <= at < closes_at
    return at >= opens_at or at < closes_at


def gate_is_open_at(gate: Gate, at: dt.datetime) -> bool:
    """Open at that moment: not closed for the lockdown, and within its hours (local time)."""
    if not gate.is_open:
        return False
    return hours_open(gate.opens_at, gate.closes_at, timezone.localtime(at).time())


def hours_label(opens_at, closes_at) -> str:
    if opens_at is None and closes_at is None:
        return str(_("round the clock"))
    label = f"{opens_at:%H:%M}–{closes_at:%H:%M}"
    if closes_at <= opens_at:
        label += " " + str(_("(through midnight)"))
    return label


def on_duty_now(community_id, now: dt.datetime):
    """Duties covering this moment, with their person and checkpoint."""
    return Duty.objects.filter(
        community_id=community_id, starts_at__lte=now, ends_at__gt=now
    ).select_related("user", "shift__checkpoint")


@dataclass
class GateRow:
    gate: Gate
    open_now: bool
    hours: str


@dataclass
class CompoundRow:
    compound: Compound
    gates: list[GateRow] = field(default_factory=list)

    @property
    def open_now(self) -> int:
        return sum(1 for g in self.gates if g.open_now)


@dataclass
class CheckpointRow:
    checkpoint: Checkpoint
    gates: list[Gate]
    on_duty: list[Duty]
    open_now: int

    @property
    def staffed(self) -> bool:
        return bool(self.on_duty)

    @property
    def compounds(self) -> list[str]:
        return sorted({g.compound.name for g in self.gates})


@dataclass
class Overview:
    compounds: list[CompoundRow]
    checkpoints: list[CheckpointRow]
    retired: list[Checkpoint]
    # Open gates that belong to no checkpoint in use: nobody stands there.
    unguarded: list[GateRow]
    n_gates: int
    n_closed: int
    n_open_now: int
    n_compounds_with_gates: int
    n_staffed: int


def overview(community, *, now: dt.datetime | None = None) -> Overview:
    """Every compound's gates (open now, hours, merged into which checkpoint) and every
    checkpoint (its gates, who is on duty now). A handful of queries, whatever the size."""
    now = now or timezone.now()
    cid = getattr(community, "pk", community)
    gates = list(
        Gate.objects.filter(community_id=cid)
        .select_related("compound", "checkpoint")
        .order_by("compound__name", "name", "pk")
    )
    checkpoints = list(Checkpoint.objects.filter(community_id=cid).select_related("compound"))
    duties: dict[int, list[Duty]] = {}
    for d in on_duty_now(cid, now).order_by("kind", "starts_at"):
        duties.setdefault(d.shift.checkpoint_id, []).append(d)
    compounds = {c.pk: CompoundRow(c) for c in Compound.objects.filter(community_id=cid)}
    by_cp: dict[int, list[Gate]] = {}
    unguarded = []
    for g in gates:
        row = GateRow(g, gate_is_open_at(g, now), hours_label(g.opens_at, g.closes_at))
        compounds[g.compound_id].gates.append(row)
        if g.checkpoint_id is not None:
            by_cp.setdefault(g.checkpoint_id, []).append(g)
        if g.is_open and (g.checkpoint is None or not g.checkpoint.is_active):
            unguarded.append(row)
    cp_rows = [
        CheckpointRow(
            cp,
            by_cp.get(cp.pk, []),
            duties.get(cp.pk, []),
            sum(1 for g in by_cp.get(cp.pk, []) if gate_is_open_at(g, now)),
        )
        for cp in checkpoints
        if cp.is_active
    ]
    with_gates = sorted(
        (c for c in compounds.values() if c.gates), key=lambda c: (c.compound.name, c.compound.pk)
    )
    without = sorted(
        (c for c in compounds.values() if not c.gates),
        key=lambda c: (c.compound.name, c.compound.pk),
    )
    return Overview(
        compounds=with_gates + without,
        checkpoints=cp_rows,
        retired=[cp for cp in checkpoints if not cp.is_active],
        unguarded=unguarded,
        n_gates=len(gates),
        n_closed=sum(1 for g in gates if not g.is_open),
        n_open_now=sum(1 for c in compounds.values() for g in c.gates if g.open_now),
        n_compounds_with_gates=len(with_gates),
        n_staffed=sum(1 for r in cp_rows if r.staffed),
    )


# --- checkpoints ------------------------------------------------------------------------------


def _own_compound(community_id, compound, field_name="compound"):
    if compound is not None and compound.community_id != community_id:
        raise invalid(field_name, _("Choose a compound of your own community."))
    return compound


def _clean_name(name: str, field_name: str = "name") -> str:
    name = (name or "").strip()
    if not name:
        raise invalid(field_name, _("Give it a name, for example “East gate”."))
    return name


@transaction.atomic
def checkpoint_save(
    *,
    actor,
    community,
    checkpoint: Checkpoint | None = None,
    name: str,
    compound: Compound | None = None,
    note: str = "",
    gates: list[Gate] | None = None,
) -> Checkpoint:
    """Create or change a checkpoint; `gates` (when given) are the gates merged into it: they
    move here from any other checkpoint, and gates no longer listed are unmerged."""
    cid = community.pk
    name = _clean_name(name)
    _own_compound(cid, compound)
    clash = Checkpoint.objects.filter(community_id=cid, name=name)
    if checkpoint is not None:
        clash = clash.exclude(pk=checkpoint.pk)
    if clash.exists():
        raise invalid("name", _("Another checkpoint is called “%(name)s”.") % {"name": name})
    created = checkpoint is None
    if created:
        checkpoint = Checkpoint.objects.create(
            community_id=cid, name=name, compound=compound, note=note.strip()
        )
    else:
        checkpoint.name, checkpoint.compound, checkpoint.note = name, compound, note.strip()
        checkpoint.save(update_fields=["name", "compound", "note"])
    if gates is not None:
        _merge(checkpoint, gates, replace=True)
    audit(
        actor=actor,
        action="checkpoints.checkpoint_create" if created else "checkpoints.checkpoint_update",
        community=cid,
        target=checkpoint,
        summary=f"{name}: " + ", ".join(g.name for g in (gates or [])),
    )
    return checkpoint


def _merge(checkpoint: Checkpoint, gates, *, replace: bool) -> None:
    gates = list(gates)
    if any(g.community_id != checkpoint.community_id for g in gates):
        raise invalid("gates", _("Choose gates of your own community."))
    ids = [g.pk for g in gates]
    if replace:
        Gate.objects.filter(checkpoint=checkpoint).exclude(pk__in=ids).update(checkpoint=None)
    Gate.objects.filter(pk__in=ids).update(checkpoint=checkpoint)


@transaction.atomic
def gates_merge(*, actor, checkpoint: Checkpoint, gates: list[Gate]) -> Checkpoint:
    """Merge these gates into the checkpoint (in addition to the ones it has)."""
    if not checkpoint.is_active:
        raise invalid("checkpoint", _("This checkpoint is retired: put it back in use first."))
    if not gates:
        raise invalid("gate_ids", _("Choose at least one gate to merge."))
    _merge(checkpoint, gates, replace=False)
    audit(
        actor=actor,
        action="checkpoints.gates_merge",
        community=checkpoint.community_id,
        target=checkpoint,
        summary=", ".join(g.name for g in gates),
    )
    return checkpoint


@transaction.atomic
def checkpoint_retire(*, actor, checkpoint: Checkpoint, retire: bool = True) -> bool:
    """Take a checkpoint out of use (or back). Its gates stay merged, so putting it back restores
    the arrangement; while retired, its open gates show as unguarded and rosters skip it.
    Returns False when it was already so."""
    locked = Checkpoint.objects.select_for_update().get(pk=checkpoint.pk)
    if locked.is_active != retire:
        return False
    checkpoint.is_active = not retire
    checkpoint.save(update_fields=["is_active"])
    audit(
        actor=actor,
        action="checkpoints.checkpoint_retire" if retire else "checkpoints.checkpoint_restore",
        community=checkpoint.community_id,
        target=checkpoint,
        summary=checkpoint.name,
    )
    return True


# --- gates ------------------------------------------------------------------------------------


def _check_hours(opens_at, closes_at) -> None:
    if (opens_at is None) != (closes_at is None):
        raise invalid(
            "closes_at" if closes_at is None else "opens_at",
            _("Give both hours (opens and closes), or neither for round the clock."),
        )
    if opens_at is not None and opens_at == closes_at:
        raise invalid(
            "closes_at",
            _("Opening and closing at the same time: leave both empty for round the clock."),
        )


@transaction.atomic
def gate_save(
    *,
    actor,
    community,
    gate: Gate | None = None,
    compound: Compound,
    name: str,
    is_open: bool = True,
    opens_at: dt.time | None = None,
    closes_at: dt.time | None = None,
    checkpoint: Checkpoint | None = None,
    note: str = "",
) -> Gate:
    cid = community.pk
    name = _clean_name(name)
    if compound is None:
        raise invalid("compound", _("Choose the compound the gate belongs to."))
    _own_compound(cid, compound)
    _check_hours(opens_at, closes_at)
    if checkpoint is not None and checkpoint.community_id != cid:
        raise invalid("checkpoint", _("Choose a checkpoint of your own community."))
    clash = Gate.objects.filter(compound=compound, name=name)
    if gate is not None:
        clash = clash.exclude(pk=gate.pk)
    if clash.exists():
        raise invalid(
            "name",
            _("%(compound)s already has a gate called “%(name)s”.")
            % {"compound": compound.name, "name": name},
        )
    values = {
        "compound": compound,
        "name": name,
        "is_open": is_open,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "checkpoint": checkpoint,
        "note": (note or "").strip(),
    }
    created = gate is None
    if created:
        gate = Gate.objects.create(community_id=cid, **values)
    else:
        for k, v in values.items():
            setattr(gate, k, v)
        gate.save(update_fields=list(values))
    audit(
        actor=actor,
        action="checkpoints.gate_create" if created else "checkpoints.gate_update",
        community=cid,
        target=gate,
        summary=f"{compound.name} {name}: {'open' if is_open else 'closed'} "
        f"{hours_label(opens_at, closes_at)}",
    )
    return gate


@transaction.atomic
def gate_set_open(*, actor, gate: Gate, is_open: bool) -> bool:
    """Open or close a gate. Returns False when it already was."""
    changed = Gate.objects.filter(pk=gate.pk).exclude(is_open=is_open).update(is_open=is_open)
    gate.is_open = is_open
    if changed:
        audit(
            actor=actor,
            action="checkpoints.gate_open" if is_open else "checkpoints.gate_close",
            community=gate.community_id,
            target=gate,
            summary=gate.name,
        )
    return bool(changed)


# --- policy -----------------------------------------------------------------------------------

POLICY_FIELDS = (
    "fever_at",
    "test_hours",
    "antigen_counts",
    "positive_days",
    "ask_health_code",
    "shift_hours",
    "first_shift_at",
    "committee_per_shift",
    "rotation_hours",
    "guards_per_rotation",
    "max_hours_per_day",
    "min_rest_hours",
)


def policy_check(values: dict) -> None:
    """The policy's rules, one clear message per field."""
    fever = Decimal(str(values["fever_at"]))
    if not Decimal("36.5") <= fever <= Decimal("39.0"):
        raise invalid("fever_at", _("Give a temperature between 36.5 and 39.0 °C (usually 37.3)."))
    if values["test_hours"] > 24 * 14:
        raise invalid("test_hours", _("At most 336 hours (14 days); 0 asks for no test."))
    if not 1 <= values["positive_days"] <= 60:
        raise invalid("positive_days", _("Between 1 and 60 days."))
    shift = values["shift_hours"]
    if not 1 <= shift <= 24 or 24 % shift:
        raise invalid(
            "shift_hours",
            _("Shifts must divide the day evenly: 4, 6, 8, 12 or 24 hours (or 1, 2, 3)."),
        )
    rotation = values["rotation_hours"]
    if not 1 <= rotation <= shift or shift % rotation:
        raise invalid(
            "rotation_hours",
            _("A rotation must divide the shift evenly (%(hours)s hours): for example 2 or 4.")
            % {"hours": shift},
        )
    if not 0 <= values["committee_per_shift"] <= 5:
        raise invalid("committee_per_shift", _("Between 0 and 5 committee members."))
    if not 0 <= values["guards_per_rotation"] <= 10:
        raise invalid("guards_per_rotation", _("Between 0 and 10 people per rotation."))
    if not 1 <= values["max_hours_per_day"] <= 24:
        raise invalid("max_hours_per_day", _("Between 1 and 24 hours."))
    if not 0 <= values["min_rest_hours"] <= 24:
        raise invalid("min_rest_hours", _("Between 0 and 24 hours."))
    if values["committee_per_shift"] and values["max_hours_per_day"] < rotation:
        raise invalid(
            "max_hours_per_day",
            _("Nobody could take even one rotation: the daily cap is shorter than a rotation."),
        )


@transaction.atomic
def policy_save(*, actor, community, **values) -> Policy:
    policy = policy_for(community.pk)
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    merged = {f: values.get(f, getattr(policy, f)) for f in POLICY_FIELDS}
    if isinstance(merged["first_shift_at"], str):
        merged["first_shift_at"] = dt.time.fromisoformat(merged["first_shift_at"])
    policy_check(merged)
    changed = [f for f in POLICY_FIELDS if getattr(policy, f) != merged[f]]
    for f in POLICY_FIELDS:
        setattr(policy, f, merged[f])
    policy.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    policy.save(update_fields=[*POLICY_FIELDS, "updated_at", "updated_by"])
    audit(
        actor=actor,
        action="checkpoints.policy_update",
        community=community.pk,
        target=policy,
        summary=", ".join(f"{f}={merged[f]}" for f in changed),
    )
    return policy


def checkpoints_with_gates(user):
    return checkpoints_for(user).prefetch_related(
        Prefetch("gates", queryset=Gate.objects.select_related("compound"))
    )
