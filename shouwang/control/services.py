"""Area control's writes: proposals, the second pair of eyes, releases, expiry, reminders, and
the proposals a positive result makes. The only code that writes `Proposal`, `Control` and
`HistoryEntry` rows (the history can only be appended to: history.py).

The rules (docs/control.md):
- A level (or a release, level `none`) is proposed with a reason; it takes effect only when a
  second user with `control.approve` approves it — never the proposer.
- A proposal expires (default 24 h): an expired proposal cannot be approved; it is marked
  expired when someone tries, when the index is opened, or by `shouwang control_reminders`.
- A positive result or a positive pooled tube proposes a level ("the system", proposed_by
  null); it never sets one. Any user with `control.approve` may approve it — the result is the
  first pair of eyes.
- One current level per place: an approved new level ends the current one and starts the new
  one; the same level with another planned end extends it.
- At the planned end a reminder line is written once (and the pages show it in red): someone
  must propose a release or an extension.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.permissions import can, require
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.control import levels
from shouwang.control import places as pl
from shouwang.control.models import (
    SEVERITY,
    Control,
    HistoryEntry,
    HistoryEvent,
    Level,
    PlaceKind,
    Proposal,
    ProposalSource,
    ProposalStatus,
)
from shouwang.core.audit import audit
from shouwang.core.errors import Conflict, Forbidden, NotFound, invalid

DEFAULT_DAYS = 14
# Levels that get a planned end of DEFAULT_DAYS when none is given (precaution has none).
DEFAULT_END_LEVELS = (Level.SEALED, Level.CONTROLLED, Level.CLOSE_CONTACT)
DEFAULT_EXPIRY = dt.timedelta(hours=24)
# A start typed into a form a few minutes ago is "now", not "in the past".
START_SLACK = dt.timedelta(minutes=10)
MAX_EXPIRY = dt.timedelta(days=7)


# --- reads ------------------------------------------------------------------------------------


def proposals_for(user):
    return scope_queryset(user, Proposal.objects.all())


def proposal_get_for(user, pk) -> Proposal:
    return get_scoped(user, with_place(Proposal.objects.all()), pk)


def controls_for(user):
    return scope_queryset(user, Control.objects.all())


def control_get_for(user, pk) -> Control:
    return get_scoped(user, with_place(Control.objects.all()), pk)


def with_place(qs):
    return qs.select_related("compound", "building__compound", "unit__building__compound")


def current(qs=None, *, now=None):
    """Control rows that are or will be in force: not released, or released at a later moment
    (a release approved for tomorrow)."""
    now = now or timezone.now()
    qs = Control.objects.all() if qs is None else qs
    return qs.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now))


def current_of(kind: str, place_id: int, *, lock: bool = False) -> Control | None:
    """The place's own current row (not its compound's or building's)."""
    qs = Control.objects.filter(
        kind=kind, ended_at__isnull=True, **{pl.FIELD[kind] + "_id": place_id}
    )
    if lock:
        qs = qs.select_for_update()
    return qs.first()


def actor_name(user) -> str:
    return (user.label if user is not None else "")[:100]


# --- history ----------------------------------------------------------------------------------


def _history(
    *,
    event: str,
    row: Proposal | Control,
    at,
    actor=None,
    level: str | None = None,
    level_before: str = "",
    note: str = "",
    proposal: Proposal | None = None,
) -> HistoryEntry:
    proposal = proposal or (row if isinstance(row, Proposal) else row.proposal)
    return HistoryEntry.objects.create(
        community_id=row.community_id,
        at=at,
        event=event,
        kind=row.kind,
        place_id=row.place_id,
        place_label=pl.label(row.place)[:200],
        level_before=level_before or "",
        level=level or row.level,
        reason=(proposal.reason or "")[:200],
        evidence=proposal.evidence or "",
        starts_at=proposal.starts_at,
        planned_end=proposal.planned_end,
        proposal_id=proposal.pk,
        actor_id=getattr(actor, "pk", None),
        actor_name=actor_name(actor),
        note=(note or "")[:200],
    )


# --- proposing --------------------------------------------------------------------------------


def _level(level: str) -> str:
    if level not in Level.values:
        raise invalid(
            "level",
            _("Choose a level: sealed, close-contact building, controlled, precaution or release."),
        )
    return level


def _open_duplicate(kind: str, place_id: int, level: str, now) -> Proposal | None:
    return (
        Proposal.objects.filter(
            kind=kind,
            status=ProposalStatus.PENDING,
            level=level,
            expires_at__gt=now,
            **{pl.FIELD[kind] + "_id": place_id},
        )
        .order_by("pk")
        .first()
    )


def _check_times(level, starts_at, planned_end, expires_at, now):
    if starts_at < now - START_SLACK:
        raise invalid(
            "starts_at",
            _(
                "The start is in the past. A level takes effect from its approval: leave the start empty for now, or choose a later time."
            ),
        )
    if planned_end is not None:
        if level == Level.NONE:
            raise invalid("planned_end", _("A release has no planned end: leave it empty."))
        if planned_end <= max(starts_at, now):
            raise invalid(
                "planned_end", _("The planned end must be after the start, and in the future.")
            )
    if expires_at <= now:
        raise invalid(
            "expires_at", _("The proposal must expire in the future (the default is in 24 hours).")
        )
    if expires_at > now + MAX_EXPIRY:
        raise invalid(
            "expires_at",
            _("A proposal may wait at most 7 days for approval: choose an earlier expiry."),
        )


def proposal_create(
    *,
    actor,
    place,
    level: str,
    reason: str,
    evidence: str = "",
    starts_at: dt.datetime | None = None,
    planned_end: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Proposal:
    """A user asks for `level` (or its release, `none`) on a place of their community. Nothing
    changes until someone else approves it."""
    require(actor, "control.propose")
    if place.community_id != actor.community_id:
        raise NotFound("not_found", _("Not found, or not in your community."))
    level = _level(level)
    reason = (reason or "").strip()
    if not reason:
        raise invalid(
            "reason",
            _("Give the reason: what happened, and who decided (e.g. the street's notice)."),
        )
    if len(reason) > 200:
        raise invalid(
            "reason", _("Keep the reason under 200 characters; put the rest in the evidence.")
        )
    now = now or timezone.now()
    starts_at = starts_at or now
    if planned_end is None and level in DEFAULT_END_LEVELS:
        planned_end = max(starts_at, now) + dt.timedelta(days=DEFAULT_DAYS)
    expires_at = expires_at or now + DEFAULT_EXPIRY
    kind = pl.kind_of(place)
    with transaction.atomic():
        cur = current_of(kind, place.pk)
        _check_times(level, starts_at, planned_end, expires_at, now)
        if level == Level.NONE and cur is None:
            raise invalid("level", _("This place is under no level: there is nothing to release."))
        if cur is not None and cur.level == level and cur.planned_end == planned_end:
            raise invalid(
                "level",
                _(
                    "This place is already under this level with this planned end. To extend it, choose another planned end."
                ),
            )
        if _open_duplicate(kind, place.pk, level, now) is not None:
            raise Conflict(
                "control_duplicate",
                _(
                    "The same level for this place already awaits approval: approve or reject that proposal first."
                ),
            )
        p = Proposal.objects.create(
            **pl.fields(place),
            level=level,
            reason=reason,
            evidence=(evidence or "").strip(),
            source=ProposalSource.MANUAL,
            starts_at=starts_at,
            planned_end=planned_end,
            proposed_by=actor,
            proposed_at=now,
            expires_at=expires_at,
        )
        _history(
            event=HistoryEvent.PROPOSED,
            row=p,
            at=now,
            actor=actor,
            level_before=cur.level if cur else "",
        )
        audit(
            actor=actor,
            action="control.propose",
            community=p.community_id,
            target=p,
            summary=f"{pl.label(place)}: {level} — {reason}"[:500],
        )
    return p


def _system_proposal(*, place, level, reason, evidence, source, now, positive=None, tube=None):
    """A proposal made by a result (proposed_by null), unless the place is already at that level
    or stricter — through itself or its compound — or the same proposal is open."""
    kind = pl.kind_of(place)
    controls = levels.in_force(now=now).filter(
        Q(building_id=place.pk) | Q(compound_id=place.compound_id)
        if kind == PlaceKind.BUILDING
        else Q(**{pl.FIELD[kind] + "_id": place.pk})
    )
    best = levels.strictest(controls)
    if best is not None and SEVERITY[best.level] >= SEVERITY[level]:
        return None
    if _open_duplicate(kind, place.pk, level, now) is not None:
        return None
    cur = current_of(kind, place.pk)
    p = Proposal.objects.create(
        **pl.fields(place),
        level=level,
        reason=reason[:200],
        evidence=evidence,
        source=source,
        positive=positive,
        tube=tube,
        starts_at=now,
        planned_end=now + dt.timedelta(days=DEFAULT_DAYS),
        proposed_by=None,
        proposed_at=now,
        expires_at=now + DEFAULT_EXPIRY,
    )
    _history(event=HistoryEvent.PROPOSED, row=p, at=now, level_before=cur.level if cur else "")
    return p


def propose_from_positive(positive, *, now=None) -> Proposal | None:
    """A single-tube positive or a positive antigen report proposes SEALED on the person's
    building. Runs inside the result's transaction; never sets a level."""
    from shouwang.screening.models import PositiveSource

    now = now or timezone.now()
    resident = positive.resident
    building = resident.household.building
    if positive.source == PositiveSource.ANTIGEN:
        what = gettext("positive antigen self-test")
    else:
        code = positive.tube.code if positive.tube_id else "?"
        what = gettext("single tube %(code)s positive") % {"code": code}
    reason = gettext("%(what)s on %(day)s, a resident of this building") % {
        "what": what,
        "day": f"{positive.detected_on:%m-%d}",
    }
    evidence = gettext("Positive #%(pk)s, resident #%(resident)s, door %(door)s") % {
        "pk": positive.pk,
        "resident": resident.pk,
        "door": resident.household.dwelling.door,
    }
    with transaction.atomic():
        return _system_proposal(
            place=building,
            level=Level.SEALED,
            reason=reason,
            evidence=evidence,
            source=ProposalSource.POSITIVE,
            now=now,
            positive=positive,
            tube=positive.tube if positive.tube_id else None,
        )


def propose_from_pooled(tube, resident_ids, *, now=None) -> list[Proposal]:
    """A positive pooled tube proposes CONTROLLED on each building of its people (same skipping
    rules). Runs inside the result's transaction; never sets a level."""
    from collections import Counter

    from shouwang.registry.models import Building, Resident

    now = now or timezone.now()
    ids = sorted(set(resident_ids or []))
    if not ids:
        return []
    per_building = Counter(
        Resident.objects.filter(pk__in=ids).values_list("household__building_id", flat=True)
    )
    buildings = Building.objects.filter(pk__in=per_building).select_related("compound")
    reason = gettext("pooled tube %(code)s positive, awaiting single-tube re-tests") % {
        "code": tube.code
    }
    out = []
    with transaction.atomic():
        for b in buildings.order_by("pk"):
            n = per_building[b.pk]
            evidence = gettext("%(n)s of the tube's %(total)s people live in this building") % {
                "n": n,
                "total": len(ids),
            }
            p = _system_proposal(
                place=b,
                level=Level.CONTROLLED,
                reason=reason,
                evidence=evidence,
                source=ProposalSource.POOLED,
                now=now,
                tube=tube,
            )
            if p is not None:
                out.append(p)
    return out


# --- deciding ---------------------------------------------------------------------------------


def _locked(proposal: Proposal) -> Proposal:
    return with_place(Proposal.objects.select_for_update(of=("self",))).get(pk=proposal.pk)


def _check_open(p: Proposal) -> None:
    if p.status != ProposalStatus.PENDING:
        raise Conflict(
            "control_decided",
            _("This proposal is already %(status)s: nothing to decide. Propose again if needed.")
            % {"status": ProposalStatus(p.status).label},
        )


def _check_community(actor, p: Proposal) -> None:
    if p.community_id != getattr(actor, "community_id", None):
        raise NotFound("not_found", _("Not found, or not in your community."))


def _expire(p: Proposal, now) -> bool:
    """Mark one pending proposal expired (conditional update: once), with its history line."""
    done = Proposal.objects.filter(pk=p.pk, status=ProposalStatus.PENDING).update(
        status=ProposalStatus.EXPIRED, decided_at=now
    )
    if done:
        p.status, p.decided_at = ProposalStatus.EXPIRED, now
        cur = current_of(p.kind, p.place_id)
        _history(
            event=HistoryEvent.EXPIRED,
            row=p,
            at=now,
            level_before=cur.level if cur else "",
            note=gettext("not approved before %(t)s") % {"t": _local(p.expires_at)},
        )
    return bool(done)


def _local(t) -> str:
    return f"{timezone.localtime(t):%Y-%m-%d %H:%M}" if t else ""


@dataclass
class Approved:
    proposal: Proposal
    control: Control | None  # the new level (None for a release)
    ended: Control | None  # the level it replaced or released


def proposal_approve(*, actor, proposal: Proposal, note: str = "", now=None) -> Approved:
    """The second pair of eyes: the level takes effect (or the place is released)."""
    require(actor, "control.approve")
    _check_community(actor, proposal)
    now = now or timezone.now()
    with transaction.atomic():
        p = _locked(proposal)
        _check_open(p)
        if p.proposed_by_id is not None and p.proposed_by_id == actor.pk:
            raise Forbidden(
                "control_self_approval",
                _(
                    "You proposed this yourself: another user with the right to approve must decide it (four eyes)."
                ),
            )
        if p.expires_at > now:
            out = _apply(actor, p, note, now)
            transaction.on_commit(levels.changed)
            return out
        # Expired: the mark and its history line commit; the approval is refused after.
        _expire(p, now)
    raise Conflict(
        "control_expired",
        _(
            "This proposal expired at %(t)s without approval. If the level is still needed, propose it again."
        )
        % {"t": _local(p.expires_at)},
    )


def _apply(actor, p: Proposal, note: str, now) -> Approved:
    kind, place_id = p.kind, p.place_id
    cur = current_of(kind, place_id, lock=True)
    effective = max(p.starts_at, now)
    if p.level == Level.NONE and cur is None:
        raise Conflict(
            "control_nothing_to_release",
            _("This place is no longer under a level: nothing to release. Reject the proposal."),
        )
    Proposal.objects.filter(pk=p.pk).update(
        status=ProposalStatus.APPROVED,
        decided_by=actor,
        decided_at=now,
        decision_note=(note or "")[:200],
    )
    p.status, p.decided_by, p.decided_at = ProposalStatus.APPROVED, actor, now
    p.decision_note = (note or "")[:200]
    before = cur.level if cur else ""
    # The same level again: an extension (or a shorter planned end) keeps "since".
    if cur is not None and cur.level == p.level:
        old_end = cur.planned_end
        cur.planned_end = p.planned_end
        cur.reason = p.reason
        cur.reminded_at = None
        cur.save(update_fields=["planned_end", "reason", "reminded_at"])
        _history(
            event=HistoryEvent.APPROVED,
            row=p,
            at=now,
            actor=actor,
            level_before=before,
            note=(
                gettext("planned end %(old)s → %(new)s")
                % {"old": _local(old_end), "new": _local(p.planned_end)}
                + (f"; {note}" if note else "")
            ),
        )
        _audit_decision(actor, p, "control.approve")
        return Approved(p, cur, None)
    if cur is not None:
        cur.ended_at = effective
        cur.ended_by = p
        cur.save(update_fields=["ended_at", "ended_by"])
    new = None
    if p.level != Level.NONE:
        try:
            with transaction.atomic():
                new = Control.objects.create(
                    community_id=p.community_id,
                    kind=kind,
                    **{pl.FIELD[kind] + "_id": place_id},
                    level=p.level,
                    reason=p.reason,
                    starts_at=effective,
                    planned_end=p.planned_end,
                    proposal=p,
                )
        except IntegrityError:
            raise Conflict(
                "control_busy",
                _(
                    "Another change of this place was approved at the same moment. Reload and check."
                ),
            ) from None
    _history(
        event=HistoryEvent.RELEASED if p.level == Level.NONE else HistoryEvent.APPROVED,
        row=p,
        at=now,
        actor=actor,
        level_before=before,
        note=note,
    )
    _audit_decision(actor, p, "control.approve")
    return Approved(p, new, cur)


def _audit_decision(actor, p: Proposal, action: str) -> None:
    audit(
        actor=actor,
        action=action,
        community=p.community_id,
        target=p,
        summary=f"{pl.label(p.place)}: {p.level} ({p.status})"[:500],
    )


def proposal_reject(*, actor, proposal: Proposal, note: str, now=None) -> Proposal:
    require(actor, "control.approve")
    _check_community(actor, proposal)
    note = (note or "").strip()
    if not note:
        raise invalid("note", _("Say why it is rejected, so the proposer knows what to do."))
    now = now or timezone.now()
    with transaction.atomic():
        p = _locked(proposal)
        _check_open(p)
        if p.proposed_by_id is not None and p.proposed_by_id == actor.pk:
            raise Forbidden(
                "control_self_decision",
                _("This is your own proposal: withdraw it instead."),
            )
        Proposal.objects.filter(pk=p.pk).update(
            status=ProposalStatus.REJECTED,
            decided_by=actor,
            decided_at=now,
            decision_note=note[:200],
        )
        p.status, p.decided_by, p.decided_at, p.decision_note = (
            ProposalStatus.REJECTED,
            actor,
            now,
            note[:200],
        )
        cur = current_of(p.kind, p.place_id)
        _history(
            event=HistoryEvent.REJECTED,
            row=p,
            at=now,
            actor=actor,
            level_before=cur.level if cur else "",
            note=note,
        )
        _audit_decision(actor, p, "control.reject")
    return p


def proposal_withdraw(*, actor, proposal: Proposal, now=None) -> Proposal:
    require(actor, "control.propose")
    _check_community(actor, proposal)
    now = now or timezone.now()
    with transaction.atomic():
        p = _locked(proposal)
        if p.proposed_by_id != actor.pk:
            raise Forbidden(
                "control_not_yours",
                _("Only the user who proposed it can withdraw it; an approver may reject it."),
            )
        _check_open(p)
        Proposal.objects.filter(pk=p.pk).update(
            status=ProposalStatus.WITHDRAWN, decided_by=actor, decided_at=now
        )
        p.status, p.decided_by, p.decided_at = ProposalStatus.WITHDRAWN, actor, now
        cur = current_of(p.kind, p.place_id)
        _history(
            event=HistoryEvent.WITHDRAWN,
            row=p,
            at=now,
            actor=actor,
            level_before=cur.level if cur else "",
        )
        _audit_decision(actor, p, "control.withdraw")
    return p


def can_decide(user, p: Proposal) -> bool:
    """Whether `user` may approve or reject `p` now (for the buttons)."""
    return (
        p.status == ProposalStatus.PENDING
        and can(user, "control.approve")
        and p.proposed_by_id != user.pk
    )


# --- sweeps (the index and `shouwang control_reminders`) -------------------------------------


def expire_due(*, now=None, community_id: int | None = None) -> list[Proposal]:
    """Pending proposals past their expiry: marked expired, one history line each."""
    now = now or timezone.now()
    qs = Proposal.objects.filter(status=ProposalStatus.PENDING, expires_at__lte=now)
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    out = []
    for p in with_place(qs).order_by("expires_at", "pk"):
        with transaction.atomic():
            if _expire(p, now):
                out.append(p)
    return out


def remind_due(*, now=None, community_id: int | None = None) -> list[Control]:
    """Levels whose planned end has come and that nobody has released or extended: one
    REMINDED history line per level (reminded_at, set by a conditional update, makes it once)."""
    now = now or timezone.now()
    qs = Control.objects.filter(
        ended_at__isnull=True, planned_end__isnull=False, planned_end__lte=now, reminded_at=None
    )
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    out = []
    for c in with_place(qs.select_related("proposal")).order_by("planned_end", "pk"):
        with transaction.atomic():
            if Control.objects.filter(pk=c.pk, reminded_at=None).update(reminded_at=now):
                c.reminded_at = now
                _history(
                    event=HistoryEvent.REMINDED,
                    row=c,
                    at=now,
                    level_before=c.level,
                    note=gettext("planned end %(t)s reached: propose a release or an extension")
                    % {"t": _local(c.planned_end)},
                )
                out.append(c)
    return out
