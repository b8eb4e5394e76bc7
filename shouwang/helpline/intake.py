"""Logging a request and working it to the end: intake, assignment, progress, resolution and the
call-back. Every write is one transaction and appends to the request's event log."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.core import crypto
from shouwang.core.audit import audit, signed_in
from shouwang.core.cleaning import line
from shouwang.core.errors import Conflict, Forbidden, invalid
from shouwang.helpline import selectors
from shouwang.helpline.models import (
    LIVE,
    Category,
    Channel,
    EventKind,
    HelpRequest,
    RequestEvent,
    Satisfaction,
    Status,
    Urgency,
)
from shouwang.helpline.selectors import requests_for
from shouwang.registry.models import Household, Resident
from shouwang.registry.validation import InvalidValue, check_mobile


def event(req: HelpRequest, kind: str, by, *, at=None, text: str = "", **kw) -> RequestEvent:
    """Append one line to the request's log."""
    return RequestEvent.objects.create(
        request=req,
        kind=kind,
        by=signed_in(by),
        at=at or timezone.now(),
        text=text,
        **kw,
    )


def log_request(
    actor,
    *,
    community_id: int,
    category: Category,
    summary: str,
    urgency: int = Urgency.NONE,
    channel: str = Channel.PHONE,
    household=None,
    resident: Resident | None = None,
    caller_name: str = "",
    caller_phone: str = "",
    details: str = "",
    owner=None,
    client_key: str = "",
    intake_seconds: int | None = None,
    at=None,
) -> HelpRequest:
    """Log one request. The same `client_key` again returns the request it made (a retried or
    double-clicked form makes one request)."""
    if client_key:
        done = HelpRequest.objects.filter(community_id=community_id, client_key=client_key).first()
        if done is not None:
            return done
    summary = line(summary, "summary", 200)
    if not summary:
        raise invalid("summary", _("Say in a few words what the caller needs."))
    if category.community_id != community_id or not category.is_active:
        raise invalid("category", _("Choose one of the categories in use."))
    if urgency not in Urgency.values:
        raise invalid("urgency", _("Choose how urgent it is."))
    if channel not in Channel.values:
        raise invalid("channel", _("Choose how the request came in."))
    if resident is not None:
        if resident.community_id != community_id:
            raise invalid("resident", _("That resident is not in this community."))
        if household is None:
            household = resident.household
        elif resident.household_id != household.pk:
            raise invalid("resident", _("That resident is not a member of the household."))
    if household is not None and household.community_id != community_id:
        raise invalid("household", _("That household is not in this community."))
    if owner is not None and not selectors.duty_users(community_id).filter(pk=owner.pk).exists():
        raise invalid("owner", _("The owner must be someone of this community who takes calls."))
    phone = normalise_phone(caller_phone, "caller_phone") if caller_phone else ""
    phone_enc, phone_index, phone_masked, _tail = Resident.phone_columns(phone)
    now = at or timezone.now()
    try:
        with transaction.atomic():
            req = HelpRequest.objects.create(
                community_id=community_id,
                # Unique per community: a placeholder until the row has its number.
                reference=f"tmp-{secrets.token_hex(6)}",
                client_key=client_key,
                channel=channel,
                household=household,
                resident=resident,
                caller_name=line(caller_name, "caller_name", 50),
                caller_phone_enc=phone_enc,
                caller_phone_index=phone_index,
                caller_phone_masked=phone_masked,
                category=category,
                group=category.group,
                urgency=urgency,
                summary=summary,
                details=(details or "").strip(),
                owner=owner,
                status=Status.OPEN,
                due_at=selectors.due_at(category, urgency, now),
                intake_seconds=intake_seconds,
                created_at=now,
                created_by=signed_in(actor),
            )
            req.reference = reference(req)
            HelpRequest.objects.filter(pk=req.pk).update(reference=req.reference)
            event(req, EventKind.LOGGED, actor, at=now, status=Status.OPEN, text=summary)
            if owner is not None:
                event(req, EventKind.ASSIGNED, actor, at=now, to_user=owner)
    except IntegrityError:
        if client_key:
            done = HelpRequest.objects.filter(
                community_id=community_id, client_key=client_key
            ).first()
            if done is not None:
                return done
        raise
    return req


def reference(req: HelpRequest) -> str:
    """What the operator reads out: R, the local month and day, and the request's number."""
    local = timezone.localtime(req.created_at)
    return f"R{local:%m%d}-{req.pk}"


# --- working a request to the end ---------------------------------------------------------------
#
# Who may work a request: the roles with helpline.manage, its owner, and anyone on duty while it
# has no owner (the shared desk: an unowned request is everybody's until someone takes it).
# Notes may be added by anyone on duty who sees the request.

FINISHED = (Status.RESOLVED, Status.UNRESOLVED)


def may_work(user, req: HelpRequest) -> bool:
    from shouwang.accounts.permissions import can

    if not can(user, "helpline.take"):
        return False
    if can(user, "helpline.manage"):
        return True
    return req.owner_id is None or req.owner_id == user.pk


def _check_may_work(user, req: HelpRequest) -> None:
    if not may_work(user, req):
        raise Forbidden(
            "not_owner",
            _("This request is someone else's: ask its owner or the community admin."),
        )


def _locked(req: HelpRequest) -> HelpRequest:
    """The request read again under a row lock: two operators pressing at once act in turn."""
    # Only the request's row (`of`): PostgreSQL cannot lock the nullable side of the owner's
    # outer join.
    return (
        HelpRequest.objects.select_for_update(of=("self",))
        .select_related("category", "owner")
        .get(pk=req.pk)
    )


def _must_be_live(req: HelpRequest) -> None:
    if req.status not in LIVE:
        raise Conflict(
            "not_live",
            _("This request is %(status)s: nothing more to do on it.")
            % {"status": req.get_status_display()},
        )


def assign(actor, req: HelpRequest, owner, *, at=None, text: str = "") -> HelpRequest:
    """Give a live request to someone on duty in the community (by name)."""
    with transaction.atomic():
        req = _locked(req)
        _check_may_work(actor, req)
        _must_be_live(req)
        if owner is None:
            raise invalid("owner", _("Choose who takes it."))
        if not selectors.duty_users(req.community_id).filter(pk=owner.pk).exists():
            raise invalid(
                "owner", _("The owner must be someone of this community who takes calls.")
            )
        if owner.pk == req.owner_id:
            return req
        before = req.owner
        req.owner = owner
        req.save(update_fields=["owner", "updated_at"])
        event(
            req,
            EventKind.ASSIGNED,
            actor,
            at=at,
            from_user=before,
            to_user=owner,
            text=line(text, "text", 200),
        )
    return req


def start(actor, req: HelpRequest, *, at=None) -> HelpRequest:
    """ "I am on it": an open request goes in progress; an unowned one becomes the actor's."""
    with transaction.atomic():
        req = _locked(req)
        _check_may_work(actor, req)
        _must_be_live(req)
        now = at or timezone.now()
        fields = ["updated_at"]
        if (
            req.owner_id is None
            and selectors.duty_users(req.community_id).filter(pk=actor.pk).exists()
        ):
            req.owner = actor
            fields.append("owner")
            event(req, EventKind.ASSIGNED, actor, at=now, to_user=actor)
        if req.status == Status.OPEN:
            req.status = Status.IN_PROGRESS
            fields.append("status")
            event(req, EventKind.STATUS, actor, at=now, status=Status.IN_PROGRESS)
        req.save(update_fields=fields)
    return req


def note(actor, req: HelpRequest, text: str, *, at=None) -> RequestEvent:
    """A line in the log: who was phoned, what was promised."""
    text = (text or "").strip()
    if not text:
        raise invalid("text", _("Write the note."))
    if len(text) > 1000:
        raise invalid("text", _("Keep the note under 1,000 characters."))
    with transaction.atomic():
        req = _locked(req)
        return event(req, EventKind.NOTE, actor, at=at, text=text)


def resolve(
    actor,
    req: HelpRequest,
    *,
    resolution: str,
    resolved: bool = True,
    answer=None,
    at=None,
) -> HelpRequest:
    """The work is done (RESOLVED) or cannot be done (UNRESOLVED), with what was done or why not;
    the knowledge-base answer quoted to the caller counts one more quote. The call-back follows."""
    from shouwang.helpline.models import Answer

    resolution = (resolution or "").strip()
    if not resolution:
        raise invalid(
            "resolution",
            _("Say what was done.") if resolved else _("Say why it could not be resolved."),
        )
    if len(resolution) > 2000:
        raise invalid("resolution", _("Keep it under 2,000 characters."))
    with transaction.atomic():
        req = _locked(req)
        _check_may_work(actor, req)
        _must_be_live(req)
        if answer is not None and (answer.community_id != req.community_id or not answer.is_active):
            raise invalid("answer", _("Quote one of the community's current answers."))
        now = at or timezone.now()
        status = Status.RESOLVED if resolved else Status.UNRESOLVED
        req.status = status
        req.resolution = resolution
        req.resolved_at = now
        req.resolved_by = signed_in(actor)
        req.answer = answer
        req.save(
            update_fields=[
                "status",
                "resolution",
                "resolved_at",
                "resolved_by",
                "answer",
                "updated_at",
            ]
        )
        if answer is not None:
            Answer.objects.filter(pk=answer.pk).update(quoted=F("quoted") + 1)
        event(req, EventKind.RESOLVED, actor, at=now, status=status, text=resolution)
    return req


def callback(actor, req: HelpRequest, *, satisfaction: str, text: str = "", at=None) -> HelpRequest:
    """The resident called back after the resolution: what they said closes the request (one
    that could not be resolved stays marked so)."""
    text = line(text, "callback_note", 200)
    with transaction.atomic():
        req = _locked(req)
        _check_may_work(actor, req)
        if req.status == Status.CLOSED or req.callback_at is not None:
            raise Conflict("closed", _("This request is already closed."))
        if req.status not in FINISHED:
            raise Conflict(
                "not_resolved", _("Resolve the request first, then call the resident back.")
            )
        if satisfaction not in Satisfaction.values:
            raise invalid("satisfaction", _("Choose what the resident said."))
        now = at or timezone.now()
        # A resolved request is closed by the call-back; one that could not be resolved stays
        # so (the statistics count it as not resolved), with the call-back recorded.
        if req.status == Status.RESOLVED:
            req.status = Status.CLOSED
        req.satisfaction = satisfaction
        req.callback_note = text
        req.callback_at = now
        req.callback_by = signed_in(actor)
        req.save(
            update_fields=[
                "status",
                "satisfaction",
                "callback_note",
                "callback_at",
                "callback_by",
                "updated_at",
            ]
        )
        event(req, EventKind.CALLBACK, actor, at=now, status=req.status, text=text)
    return req


def reopen(actor, req: HelpRequest, *, reason: str, at=None) -> HelpRequest:
    """Back on the desk (the resident called again, the fix did not hold): in progress with its
    owner, or open; due again from now by the category's time limit."""
    reason = line(reason, "reason", 200)
    if not reason:
        raise invalid("reason", _("Say why it is reopened."))
    with transaction.atomic():
        req = _locked(req)
        _check_may_work(actor, req)
        if req.status in LIVE:
            raise Conflict("live", _("This request is still open."))
        now = at or timezone.now()
        req.status = Status.IN_PROGRESS if req.owner_id else Status.OPEN
        req.due_at = selectors.due_at(req.category, req.urgency, now)
        req.resolved_at = None
        req.resolved_by = None
        req.callback_at = None
        req.callback_by = None
        req.satisfaction = ""
        req.callback_note = ""
        req.escalated_at = None
        req.escalated_to = None
        req.save(
            update_fields=[
                "status",
                "due_at",
                "resolved_at",
                "resolved_by",
                "callback_at",
                "callback_by",
                "satisfaction",
                "callback_note",
                "escalated_at",
                "escalated_to",
                "updated_at",
            ]
        )
        event(req, EventKind.REOPENED, actor, at=now, status=req.status, text=reason)
    return req


# --- the caller's number opens their household --------------------------------------------------


@dataclass
class PhoneMatch:
    """A household the number belongs to: through a member's own phone (`resident`), or because
    the number called about it before (`via_request`)."""

    household: Household
    members: list
    resident: Resident | None = None
    via_request: HelpRequest | None = None
    live: int = 0


def normalise_phone(raw, field: str = "phone") -> str:
    """The caller's number as E.164, or an error on `field`."""
    try:
        return check_mobile(raw)
    except InvalidValue as e:
        raise invalid(field, e.message) from None


def households_by_phone(user, raw_phone, *, limit: int = 10) -> list[PhoneMatch]:
    """The households (within the user's scope) a caller's number opens: the residents whose
    phone it is first, then households earlier requests from this number were about. Empty for
    an empty number; a field error for a malformed one."""
    from shouwang.registry.selectors import households_for

    phone = normalise_phone(raw_phone)
    if not phone:
        return []
    index = crypto.blind_index("phone", phone)
    scoped = households_for(user)
    matches: dict[int, PhoneMatch] = {}
    owners = (
        Resident.objects.filter(phone_index=index, household__in=scoped)
        .living_here()
        .select_related("household")
        .order_by("pk")
    )
    for r in owners[:limit]:
        matches.setdefault(r.household_id, PhoneMatch(household=r.household, members=[]))
        if matches[r.household_id].resident is None:
            matches[r.household_id].resident = r
    earlier = (
        requests_for(user)
        .filter(caller_phone_index=index, household__in=scoped)
        .select_related("household")
        .order_by("-created_at", "-pk")
    )
    for req in earlier[: limit * 3]:
        if len(matches) >= limit and req.household_id not in matches:
            continue
        m = matches.setdefault(req.household_id, PhoneMatch(household=req.household, members=[]))
        if m.via_request is None:
            m.via_request = req
    return _filled(matches)


def household_match(user, household_id: int) -> PhoneMatch | None:
    """One household the user may see, as the phone look-up shows it (picked by id: from the
    household page, or picked before a refused save); None when out of scope."""
    from shouwang.registry.selectors import households_for

    h = households_for(user).filter(pk=household_id).first()
    if h is None:
        return None
    return _filled({h.pk: PhoneMatch(household=h, members=[])})[0]


def _filled(matches: dict[int, PhoneMatch]) -> list[PhoneMatch]:
    """The matches with their household's place, its members (head first) and how many of its
    requests are open, in a few queries for all of them."""
    if not matches:
        return []
    ids = list(matches)
    households = {
        h.pk: h for h in Household.objects.with_place().select_related("head").filter(pk__in=ids)
    }
    members: dict[int, list] = {}
    for r in Resident.objects.filter(household_id__in=ids).living_here().order_by("pk"):
        members.setdefault(r.household_id, []).append(r)
    live = dict(
        HelpRequest.objects.filter(household_id__in=ids, status__in=LIVE)
        .values("household_id")
        .annotate(n=Count("pk"))
        .values_list("household_id", "n")
    )
    out = []
    for hid in ids:
        m = matches[hid]
        m.household = households[hid]
        m.members = sorted(members.get(hid, []), key=lambda r: (r.relation != "head", r.pk))
        m.live = live.get(hid, 0)
        out.append(m)
    return out


def caller_phone(user, req: HelpRequest) -> str:
    """The caller's number in full, for whoever works the request (the call-back), each showing
    logged as a reveal is (PIPL: every full view with who, when and why); "" for anyone else.
    The request page and the API both read it here."""
    if not req.caller_phone_enc or not may_work(user, req):
        return ""
    audit(
        actor=user,
        action="helpline.caller_phone",
        community=req.community_id,
        target=req,
        field="caller_phone",
        reason=str(_("call-back")),
    )
    return crypto.decrypt(req.caller_phone_enc)
