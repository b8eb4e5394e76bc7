"""Logging a request and working it to the end: intake, assignment, progress, resolution and the
call-back. Every write is one transaction and appends to the request's event log."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.core import crypto
from shouwang.core.cleaning import line
from shouwang.core.errors import invalid
from shouwang.core.masking import mask_phone
from shouwang.helpline import selectors
from shouwang.helpline.models import (
    Category,
    Channel,
    EventKind,
    HelpRequest,
    RequestEvent,
    Status,
    Urgency,
)
from shouwang.registry.models import Resident
from shouwang.registry.validation import InvalidValue, check_mobile


def event(req: HelpRequest, kind: str, by, *, at=None, text: str = "", **kw) -> RequestEvent:
    """Append one line to the request's log."""
    return RequestEvent.objects.create(
        request=req,
        kind=kind,
        by=by if getattr(by, "is_authenticated", False) else None,
        at=at or timezone.now(),
        text=text,
        **kw,
    )


def _phone(raw) -> str:
    try:
        return check_mobile(raw)
    except InvalidValue as e:
        raise invalid("caller_phone", e.message) from None


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
    phone = _phone(caller_phone) if caller_phone else ""
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
                caller_phone_enc=crypto.encrypt(phone) if phone else "",
                caller_phone_index=crypto.blind_index("phone", phone) if phone else "",
                caller_phone_masked=mask_phone(phone) if phone else "",
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
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
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
