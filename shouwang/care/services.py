"""The only code that writes care data: pairings, follow-ups, the policy, and a need found on a
follow-up turned into a help-line request in one step. Every write is one transaction with its
audit row; retried submissions (client_key) make one follow-up and one request."""

from __future__ import annotations

import datetime as dt
import itertools

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.care import selectors
from shouwang.care.models import FollowUp, Mode, Outcome, Pairing, Policy
from shouwang.core.audit import audit, signed_in
from shouwang.core.cleaning import line
from shouwang.core.errors import Conflict, invalid
from shouwang.registry.models import CareTag, Presence, Resident

# A follow-up may be typed in a little after the contact, but never dated in the future (a phone
# clock a few minutes fast is forgiven).
CLOCK_SKEW = dt.timedelta(minutes=10)
# How far back a follow-up may be typed in (a paper list filled in the evening, or the weekend's).
BACKDATE_DAYS = 7
MAX_EVERY_DAYS = 30


def _every(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise invalid("every_days", _("Give the number of days between follow-ups.")) from None
    if not 1 <= n <= MAX_EVERY_DAYS:
        raise invalid(
            "every_days",
            _("Follow up at least every %(n)d days, and at most once a day.")
            % {"n": MAX_EVERY_DAYS},
        )
    return n


def _check_carer(community_id: int, resident: Resident, carer, carer_resident) -> None:
    if (carer is None) == (carer_resident is None):
        raise invalid("carer", _("Choose one carer: a staff member or a party member."))
    if carer is not None:
        if not selectors.carers_for(community_id).filter(pk=carer.pk).exists():
            raise invalid(
                "carer", _("The carer must be an active staff member or grid leader here.")
            )
    else:
        if carer_resident.pk == resident.pk:
            raise invalid("carer", _("Nobody can be paired with themselves."))
        if (
            carer_resident.community_id != community_id
            or carer_resident.presence == Presence.MOVED_OUT
            or not carer_resident.tags & CareTag.PARTY_MEMBER
        ):
            raise invalid("carer", _("The carer must be a party member living in this community."))


def pair(
    *,
    actor,
    resident: Resident,
    carer=None,
    carer_resident: Resident | None = None,
    every_days=None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Pairing:
    """Pair a resident with a carer. A resident has one live pairing: pairing them again ends the
    old one (kept in the history) and starts the new one; the same carer again only updates the
    rhythm and note."""
    community_id = resident.community_id
    _check_carer(community_id, resident, carer, carer_resident)
    every = _every(every_days)
    note = line(note, "note", 200)
    now = at or timezone.now()
    try:
        with transaction.atomic():
            current = (
                Pairing.objects.select_for_update()
                .filter(resident=resident, ended_at__isnull=True)
                .first()
            )
            same = current is not None and (
                current.carer_id == getattr(carer, "pk", None)
                and current.carer_resident_id == getattr(carer_resident, "pk", None)
            )
            if same:
                current.every_days = every
                current.note = note
                current.save(update_fields=["every_days", "note"])
                audit(
                    actor=actor,
                    action="care.pairing_change",
                    community=community_id,
                    target=current,
                    summary=f"{resident.name} ← {current.carer_name}",
                )
                return current
            if current is not None:
                current.ended_at = now
                current.save(update_fields=["ended_at"])
            p = Pairing.objects.create(
                community_id=community_id,
                resident=resident,
                carer=carer,
                carer_resident=carer_resident,
                every_days=every,
                note=note,
                started_at=now,
                created_by=signed_in(actor),
            )
            audit(
                actor=actor,
                action="care.pair",
                community=community_id,
                target=p,
                summary=f"{resident.name} ← {p.carer_name}",
            )
            return p
    except IntegrityError:
        # Two people pairing the same resident at the same moment: one wins, the other is told.
        raise Conflict(
            "paired_meanwhile", _("Someone else paired this person just now. Reload the page.")
        ) from None


def unpair(*, actor, resident: Resident, at: dt.datetime | None = None) -> Pairing:
    with transaction.atomic():
        current = (
            Pairing.objects.select_for_update()
            .filter(resident=resident, ended_at__isnull=True)
            .first()
        )
        if current is None:
            raise Conflict("not_paired", _("This person is not paired with anyone."))
        current.ended_at = at or timezone.now()
        current.save(update_fields=["ended_at"])
        audit(
            actor=actor,
            action="care.unpair",
            community=resident.community_id,
            target=current,
            summary=resident.name,
        )
    return current


def pair_in_bulk(
    *,
    actor,
    community_id: int,
    carers: list,
    grid_id: int | None = None,
    every_days=None,
) -> list[Pairing]:
    """Spread the unpaired people of the list (of one grid, or all) across the carers in turn,
    building by building so each carer's people are near each other. `carers` holds users and
    party-member residents."""
    if not carers:
        raise invalid("carers", _("Choose at least one carer."))
    people = list(
        selectors.community_care_list(community_id, grid_id=grid_id, unpaired=True).order_by(
            "household__building_id", "household__dwelling_id", "pk"
        )
    )
    carer_ids = {c.pk for c in carers if isinstance(c, Resident)}
    people = [p for p in people if p.pk not in carer_ids]
    made = []
    with transaction.atomic():
        for person, carer in zip(people, itertools.cycle(carers), strict=False):
            kw = {"carer_resident": carer} if isinstance(carer, Resident) else {"carer": carer}
            made.append(pair(actor=actor, resident=person, every_days=every_days, **kw))
    return made


def record_follow_up(
    *,
    actor,
    resident: Resident,
    mode: str,
    outcome: str,
    condition: str = "",
    needs: str = "",
    at: dt.datetime | None = None,
    by_name: str = "",
    client_key: str = "",
    request_category=None,
    request_urgency: int | None = None,
    request_owner=None,
) -> FollowUp:
    """Record one contact. With `request_category`, the needs also become a help-line request in
    the same step (see need_to_request). The same client_key again returns the follow-up it made."""
    community_id = resident.community_id
    if client_key:
        done = FollowUp.objects.filter(community_id=community_id, client_key=client_key).first()
        if done is not None:
            return done
    if mode not in Mode.values:
        raise invalid("mode", _("Choose how you were in touch: visit, phone or video."))
    if outcome not in Outcome.values:
        raise invalid("outcome", _("Choose how it went."))
    now = timezone.now()
    at = at or now
    if at > now + CLOCK_SKEW:
        raise invalid("at", _("A follow-up cannot be in the future."))
    if at < now - dt.timedelta(days=BACKDATE_DAYS):
        raise invalid(
            "at", _("Follow-ups older than %(n)d days cannot be added.") % {"n": BACKDATE_DAYS}
        )
    condition = (condition or "").strip()
    needs = (needs or "").strip()
    if outcome == Outcome.CONCERN and not (condition or needs):
        raise invalid("condition", _("Say what the concern is."))
    if request_category is not None and not needs:
        raise invalid("needs", _("Write down the need to turn it into a request."))
    try:
        with transaction.atomic():
            fu = FollowUp.objects.create(
                community_id=community_id,
                resident=resident,
                household_id=resident.household_id,
                pairing=Pairing.objects.filter(resident=resident, ended_at__isnull=True).first(),
                at=at,
                mode=mode,
                outcome=outcome,
                condition=condition,
                needs=needs,
                by=signed_in(actor),
                by_name=line(by_name, "by_name", 50),
                client_key=client_key,
                created_at=now,
            )
            audit(
                actor=actor,
                action="care.follow_up",
                community=community_id,
                target=fu,
                summary=f"{resident.name} {mode} {outcome}",
            )
            if request_category is not None:
                need_to_request(
                    actor=actor,
                    follow_up=fu,
                    category=request_category,
                    urgency=request_urgency,
                    owner=request_owner,
                )
                fu.refresh_from_db(fields=["request"])
    except IntegrityError:
        if client_key:
            done = FollowUp.objects.filter(community_id=community_id, client_key=client_key).first()
            if done is not None:
                return done
        raise
    return fu


def _summary(follow_up: FollowUp) -> str:
    first = follow_up.needs.strip().splitlines()[0] if follow_up.needs.strip() else ""
    text = f"{follow_up.resident.name}：{first}"
    return text if len(text) <= 200 else text[:199] + "…"


def need_to_request(
    *,
    actor,
    follow_up: FollowUp,
    category,
    urgency: int | None = None,
    summary: str = "",
    owner=None,
):
    """Turn the need found on a follow-up into a help-line request in one step: channel "care
    follow-up", the resident and household filled in, the need as the summary and details.
    Once only: a second call (a double click, a retry) returns the request already made."""
    from shouwang.helpline.intake import log_request
    from shouwang.helpline.models import Channel, Urgency

    with transaction.atomic():
        fu = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("resident", "request")
            .get(pk=follow_up.pk)
        )
        if fu.request_id is not None:
            return fu.request
        if not fu.needs.strip():
            raise invalid("needs", _("This follow-up recorded no need to turn into a request."))
        if urgency in (None, ""):
            urgency = Urgency.HARDSHIP
        try:
            urgency = int(urgency)
        except (TypeError, ValueError):
            raise invalid("urgency", _("Choose how urgent it is.")) from None
        req = log_request(
            actor,
            community_id=fu.community_id,
            category=category,
            summary=summary.strip() or _summary(fu),
            urgency=urgency,
            channel=Channel.FOLLOW_UP,
            household=fu.household,
            resident=fu.resident,
            details=fu.needs,
            owner=owner,
            # The follow-up's own key: a request made twice for it is the same request.
            client_key=f"care-follow-up-{fu.pk}",
        )
        fu.request = req
        fu.save(update_fields=["request"])
        audit(
            actor=actor,
            action="care.to_request",
            community=fu.community_id,
            target=fu,
            summary=req.reference,
        )
    return req


def policy_update(*, actor, community_id: int, tags: int, every_days) -> Policy:
    try:
        tags = int(tags)
    except (TypeError, ValueError):
        raise invalid("tags", _("Choose the care tags that put someone on the list.")) from None
    allowed = sum(int(t) for t in CareTag)
    if tags < 0 or tags & ~allowed:
        raise invalid("tags", _("Choose the care tags that put someone on the list."))
    if tags == 0:
        raise invalid("tags", _("Choose at least one care tag."))
    every = _every(every_days)
    if every is None:
        raise invalid("every_days", _("Give the number of days between follow-ups."))
    with transaction.atomic():
        policy = selectors.policy_for(community_id)
        policy.tags = tags
        policy.every_days = every
        policy.save(update_fields=["tags", "every_days"])
        audit(
            actor=actor,
            action="care.policy",
            community=community_id,
            target=policy,
            summary=f"tags={tags} every={every}",
        )
    return policy
