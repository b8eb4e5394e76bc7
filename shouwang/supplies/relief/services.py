"""Writes of relief: saving a batch, issuing it, issuing a recount's difference, recording each
door, following up, closing. Every function is keyword-only, takes `actor=`, runs in one
transaction and writes its audit row there."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.control import levels
from shouwang.core.audit import audit
from shouwang.core.errors import Conflict, DomainError
from shouwang.core.masking import mask_name_initial
from shouwang.registry.models import CareTag
from shouwang.supplies.relief import selectors
from shouwang.supplies.relief.models import ReliefAllocation, ReliefBatch, Scope

RULE_FIELDS = ("per_household", "large_threshold", "large_portions", "tag_extras", "scope")
MAX_PORTIONS = 20


@dataclass
class IssueResult:
    batch: ReliefBatch
    created: int = 0
    changed: int = 0
    portions: int = 0
    left_out: int = 0
    already: bool = False


def _clean_extras(tag_extras) -> dict[str, int]:
    valid = {t.value for t in CareTag}
    out = {}
    for k, v in (tag_extras or {}).items():
        try:
            tag, extra = int(k), int(v)
        except (TypeError, ValueError):
            raise DomainError(
                "relief_bad_extra",
                _("Extra portions per care tag must be whole numbers."),
                fields={"tag_extras": _("Use whole numbers, e.g. 1.")},
            ) from None
        if tag not in valid:
            raise DomainError(
                "relief_bad_extra",
                _("Unknown care tag %(tag)s.") % {"tag": k},
                fields={"tag_extras": _("Choose a care tag from the list.")},
            )
        if not 0 <= extra <= MAX_PORTIONS:
            raise DomainError(
                "relief_bad_extra",
                _("Extra portions per care tag go from 0 to %(n)s.") % {"n": MAX_PORTIONS},
                fields={"tag_extras": _("Between 0 and %(n)s.") % {"n": MAX_PORTIONS}},
            )
        if extra:
            out[str(tag)] = extra
    return out


def batch_save(
    *,
    actor,
    community,
    batch: ReliefBatch | None = None,
    title: str,
    contents: str = "",
    portions_available: int,
    per_household: int = 1,
    large_threshold: int | None = None,
    large_portions: int = 2,
    tag_extras: dict | None = None,
    scope: str = Scope.COMMUNITY,
    compounds=(),
    grids=(),
    control_levels=(),
) -> ReliefBatch:
    """Create a batch or change one. Once issued, only the title, contents and the portions
    available may change (the rule is what the lists were made from); portions available never
    go below what is already allocated."""
    title = (title or "").strip()
    if not title:
        raise DomainError(
            "relief_title", _("Give the batch a title."), fields={"title": _("Required.")}
        )
    if large_threshold is None:
        large_threshold = community.large_household_threshold
    if not (1 <= per_household <= MAX_PORTIONS and 1 <= large_portions <= MAX_PORTIONS):
        raise DomainError(
            "relief_bad_rule",
            _("Portions per household go from 1 to %(n)s.") % {"n": MAX_PORTIONS},
            fields={"per_household": _("Between 1 and %(n)s.") % {"n": MAX_PORTIONS}},
        )
    if large_portions < per_household:
        raise DomainError(
            "relief_bad_rule",
            _("A large household cannot get fewer portions than any household."),
            fields={"large_portions": _("At least the portions per household.")},
        )
    if large_threshold < 1:
        raise DomainError(
            "relief_bad_rule",
            _("The large-household size must be at least 1 person."),
            fields={"large_threshold": _("At least 1.")},
        )
    extras = _clean_extras(tag_extras)
    compounds, grids = list(compounds), list(grids)
    if any(c.community_id != community.pk for c in compounds) or any(
        g.community_id != community.pk for g in grids
    ):
        raise DomainError("relief_scope", _("Choose compounds and grids of your own community."))
    if scope == Scope.COMPOUNDS and not compounds:
        raise DomainError(
            "relief_scope",
            _("Choose at least one compound, or give the batch to the whole community."),
            fields={"compounds": _("Choose at least one.")},
        )
    if scope == Scope.GRIDS and not grids:
        raise DomainError(
            "relief_scope",
            _("Choose at least one grid, or give the batch to the whole community."),
            fields={"grids": _("Choose at least one.")},
        )
    chosen_levels = levels.clean(control_levels) if scope == Scope.CONTROL else ()
    if scope == Scope.CONTROL and not chosen_levels:  # none chosen, or one not a level
        raise DomainError(
            "relief_scope",
            _(
                "Choose at least one control level (sealed, close-contact building, controlled, "
                "precaution), or give the batch to the whole community."
            ),
            fields={"control_levels": _("Choose at least one.")},
        )
    chosen = ",".join(chosen_levels)
    with transaction.atomic():
        if batch is None:
            batch = ReliefBatch(community=community, created_by=actor)
            action = "relief.batch_create"
        else:
            batch = ReliefBatch.objects.select_for_update().get(pk=batch.pk)
            action = "relief.batch_update"
            if batch.status != ReliefBatch.Status.DRAFT:
                changed_rule = (
                    batch.per_household != per_household
                    or batch.large_threshold != large_threshold
                    or batch.large_portions != large_portions
                    or batch.extras() != {int(k): v for k, v in extras.items()}
                    or batch.scope != scope
                    or batch.control_levels != chosen
                    or (
                        scope == Scope.COMPOUNDS
                        and set(batch.compounds.values_list("pk", flat=True))
                        != {c.pk for c in compounds}
                    )
                    or (
                        scope == Scope.GRIDS
                        and set(batch.grids.values_list("pk", flat=True)) != {g.pk for g in grids}
                    )
                )
                if changed_rule:
                    raise Conflict(
                        "relief_rule_locked",
                        _(
                            "The batch is issued: its rule and scope can no longer change. "
                            "Change the title, contents or portions available, or make a new "
                            "batch."
                        ),
                    )
                issued = selectors.issued_portions(batch)
                if portions_available < issued:
                    raise DomainError(
                        "relief_below_issued",
                        _(
                            "%(n)s portions are already allocated: portions available cannot "
                            "go below that."
                        )
                        % {"n": issued},
                        fields={"portions_available": _("At least %(n)s.") % {"n": issued}},
                    )
        batch.title = title[:100]
        batch.contents = contents or ""
        batch.portions_available = portions_available
        batch.per_household = per_household
        batch.large_threshold = large_threshold
        batch.large_portions = large_portions
        batch.tag_extras = extras
        batch.scope = scope
        batch.control_levels = chosen
        if batch.pk is None:
            batch.save()
        else:
            batch.save(
                update_fields=[
                    "title",
                    "contents",
                    "portions_available",
                    *RULE_FIELDS,
                    "control_levels",
                    "large_threshold",
                ]
            )
        batch.compounds.set(compounds if scope == Scope.COMPOUNDS else [])
        batch.grids.set(grids if scope == Scope.GRIDS else [])
        audit(
            actor=actor,
            action=action,
            community=community,
            target=batch,
            summary=f"{batch.title}: {portions_available} portions, {scope}",
        )
    return batch


def _short_error(need: int, available: int) -> Conflict:
    return Conflict(
        "relief_short",
        _(
            "The rule gives %(need)s portions but only %(available)s are available "
            "(%(short)s short). Add portions to the batch, narrow the rule, or confirm a partial "
            "issue: households are then served in list order until the portions run out, and the "
            "rest are issued by a recount once more portions arrive."
        )
        % {"need": need, "available": available, "short": need - available},
        fields={"partial": _("Confirm a partial issue, or add portions.")},
    )


def _allocation(batch: ReliefBatch, s: selectors.Share) -> ReliefAllocation:
    return ReliefAllocation(
        community_id=batch.community_id,
        batch=batch,
        household_id=s.household_id,
        grid_id=s.grid_id,
        building_id=s.building_id,
        door=s.door[:110],
        head_masked=mask_name_initial(s.head_name)[:60],
        phone_masked=s.phone_masked[:20],
        people=s.people,
        portions=s.portions,
    )


def _fit(rows: list[selectors.Share], budget: int) -> list[selectors.Share]:
    """The list-order prefix that fits in `budget` portions."""
    out, used = [], 0
    for s in rows:
        if used + s.portions > budget:
            break
        out.append(s)
        used += s.portions
    return out


def batch_issue(*, actor, batch: ReliefBatch, partial: bool = False) -> IssueResult:
    """Make the allocations: one row per household the rule gives portions to, in one
    transaction. Issuing an issued batch does nothing more (already=True). Refused with
    `relief_short` when portions are short, unless `partial`."""
    with transaction.atomic():
        # The claim: only one caller moves the batch from draft to issued.
        now = timezone.now()
        claimed = ReliefBatch.objects.filter(pk=batch.pk, status=ReliefBatch.Status.DRAFT).update(
            status=ReliefBatch.Status.ISSUED, issued_at=now, issued_by=actor
        )
        batch = ReliefBatch.objects.get(pk=batch.pk)
        if not claimed:
            if batch.status == ReliefBatch.Status.CLOSED:
                raise Conflict("relief_closed", _("This batch is closed."))
            return IssueResult(batch=batch, already=True)
        rows = selectors.shares(batch)
        need = sum(s.portions for s in rows)
        if need > batch.portions_available and not partial:
            raise _short_error(need, batch.portions_available)  # rolls the claim back
        if not rows:
            raise DomainError(
                "relief_nobody",
                _(
                    "Nobody in the batch's scope lives here according to the ledger: check the scope."
                ),
            )
        fit = _fit(rows, batch.portions_available)
        ReliefAllocation.objects.bulk_create([_allocation(batch, s) for s in fit], batch_size=1000)
        left_out = len(rows) - len(fit)
        if left_out:
            batch.partial = True
            batch.save(update_fields=["partial"])
        portions = sum(s.portions for s in fit)
        audit(
            actor=actor,
            action="relief.issue",
            community=batch.community_id,
            target=batch,
            summary=(
                f"{batch.title}: {len(fit)} households, {portions} portions"
                + (f", {left_out} households left out (partial)" if left_out else "")
            ),
        )
    return IssueResult(batch=batch, created=len(fit), portions=portions, left_out=left_out)


def recount_issue(*, actor, batch: ReliefBatch, partial: bool = False) -> IssueResult:
    """Issue a recount's difference: new households get rows, pending rows get the portions the
    rule now gives. Rows already delivered, not at home or refused are never touched. Running it
    twice adds nothing the second time."""
    with transaction.atomic():
        batch = ReliefBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ReliefBatch.Status.ISSUED:
            raise Conflict(
                "relief_not_issued",
                _("Only an issued batch (not a draft, not a closed one) takes a recount."),
            )
        r = selectors.recount(batch)
        if r.empty:
            return IssueResult(batch=batch, already=True)
        budget = r.remaining
        if r.delta > budget and not partial:
            raise _short_error(r.issued + r.delta, batch.portions_available)
        # Shrinking rows first frees portions for the new households.
        changes = sorted(r.changed, key=lambda c: c[2].portions - c[1])
        changed = 0
        portions = 0
        for aid, old, s in changes:
            diff = s.portions - old
            if diff > budget:
                continue
            # Conditional: a grid team may have recorded the door since the recount was read.
            done = ReliefAllocation.objects.filter(
                pk=aid, status=ReliefAllocation.Status.PENDING
            ).update(portions=s.portions, people=s.people)
            if done:
                budget -= diff
                portions += diff
                changed += 1
        fit = _fit(r.new, budget)
        ReliefAllocation.objects.bulk_create([_allocation(batch, s) for s in fit], batch_size=1000)
        portions += sum(s.portions for s in fit)
        left_out = len(r.new) - len(fit) + len(r.changed) - changed
        if batch.partial != bool(left_out):
            batch.partial = bool(left_out)
            batch.save(update_fields=["partial"])
        audit(
            actor=actor,
            action="relief.recount_issue",
            community=batch.community_id,
            target=batch,
            summary=(
                f"{batch.title}: {len(fit)} new households, {changed} changed, {left_out} left out"
            ),
        )
    return IssueResult(
        batch=batch, created=len(fit), changed=changed, portions=portions, left_out=left_out
    )


def allocation_record(
    *, actor, allocation: ReliefAllocation, status: str, note: str = ""
) -> ReliefAllocation:
    """A grid team's record of one door: delivered, not at home or refused (or back to pending
    when tapped by mistake)."""
    if status not in ReliefAllocation.Status.values:
        raise DomainError(
            "relief_bad_status",
            _("Record delivered, not at home or refused."),
            fields={"status": _("Choose one.")},
        )
    with transaction.atomic():
        a = (
            ReliefAllocation.objects.select_for_update()
            .select_related("batch")
            .get(pk=allocation.pk)
        )
        if a.batch.status != ReliefBatch.Status.ISSUED:
            raise Conflict(
                "relief_not_open",
                _("This batch is closed: deliveries can no longer be recorded."),
            )
        a.status = status
        a.recorded_at = timezone.now() if status != ReliefAllocation.Status.PENDING else None
        a.recorded_by = actor if status != ReliefAllocation.Status.PENDING else None
        fields = ["status", "recorded_at", "recorded_by"]
        if note:
            a.note = note.strip()[:200]
            fields.append("note")
        a.save(update_fields=fields)
        audit(
            actor=actor,
            action="relief.record",
            community=a.community_id,
            target=a,
            summary=f"{a.batch.title} · {a.door}: {status}",
        )
    return a


def allocation_follow_up(*, actor, allocation: ReliefAllocation, note: str) -> ReliefAllocation:
    with transaction.atomic():
        a = ReliefAllocation.objects.select_for_update().get(pk=allocation.pk)
        a.follow_up = (note or "").strip()[:300]
        a.save(update_fields=["follow_up"])
        audit(
            actor=actor,
            action="relief.follow_up",
            community=a.community_id,
            target=a,
            summary=a.follow_up[:200],
        )
    return a


def batch_close(*, actor, batch: ReliefBatch) -> ReliefBatch:
    with transaction.atomic():
        closed = ReliefBatch.objects.filter(pk=batch.pk, status=ReliefBatch.Status.ISSUED).update(
            status=ReliefBatch.Status.CLOSED, closed_at=timezone.now()
        )
        batch = ReliefBatch.objects.get(pk=batch.pk)
        if not closed:
            if batch.status == ReliefBatch.Status.CLOSED:
                return batch
            raise Conflict("relief_not_issued", _("Issue the batch before closing it."))
        audit(
            actor=actor,
            action="relief.close",
            community=batch.community_id,
            target=batch,
            summary=batch.title,
        )
    return batch
