"""Visitors and couriers at a checkpoint (issue 7 §5), and the small reads the desk's pages share
(the user's checkpoints, finding a household by its door, a typed temperature).

A visitor is registered with a name, a Chinese mobile (stored encrypted and masked, as the
ledger stores residents' phones), a purpose, the household they visit, the temperature taken
and the test proof the guard saw. Couriers name their company; their host is optional (most
leave parcels on the gate shelf and never go in). The pass decision's rules (decision.py) give
the answer: a fever stops anyone, a visit to a sealed or close-contact home is refused, a
missing negative test asks for a further check. The registration writes the Visitor and a
Passage (via=visitor, in) in one transaction; a retried registration with the same `uid` is the
same visitor. Leaving writes the "out" passage once.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.checkpoints.models import (
    Checkpoint,
    Decision,
    Direction,
    Duty,
    Passage,
    Visitor,
)
from shouwang.checkpoints.services import policy_for
from shouwang.core import crypto
from shouwang.core.audit import audit, signed_in
from shouwang.core.errors import Conflict, DomainError, invalid
from shouwang.core.masking import mask_phone
from shouwang.registry.models import Building, Household
from shouwang.registry.validation import InvalidValue, check_mobile, clean_text

MIN_TEMPERATURE = Decimal("34.0")
MAX_TEMPERATURE = Decimal("43.0")
HOST_MATCHES = 12


# --- shared reads of the desk -----------------------------------------------------------------


def checkpoints_for(user) -> QuerySet[Checkpoint]:
    return scope_queryset(user, Checkpoint.objects.filter(is_active=True)).order_by("name", "pk")


def checkpoint_get_for(user, pk) -> Checkpoint:
    return get_scoped(user, Checkpoint.objects.all(), pk)


def duty_checkpoint(user, *, now=None) -> Checkpoint | None:
    """The checkpoint where the user is on duty now, if any (the desk's forms start there)."""
    now = now or timezone.now()
    d = (
        Duty.objects.filter(user_id=user.pk, starts_at__lte=now, ends_at__gt=now)
        .select_related("shift__checkpoint")
        .order_by("starts_at")
        .first()
    )
    return d.shift.checkpoint if d is not None else None


def households_at_gate(user) -> QuerySet[Household]:
    """Households a checkpoint serves: the whole community. A gate serves every building, so a
    grid leader on duty finds households outside their grid too (unlike the ledger pages)."""
    return scope_queryset(user, Household.objects.with_place())


def buildings_at_gate(user) -> QuerySet[Building]:
    return scope_queryset(user, Building.objects.select_related("compound")).order_by(
        "compound__name", Length("name"), "name"
    )


def building_get_at_gate(user, pk) -> Building:
    return get_scoped(user, Building.objects.select_related("compound"), pk)


_DOOR_TAIL = re.compile(r"^(?P<rest>.*?)[\s\-#/]*(?P<door>\d+[A-Za-z]?)(室|号)?$")


def household_find(user, q: str, *, limit: int = HOST_MATCHES) -> list[Household]:
    """Households matching a door typed the way people say it — "1号楼 101", "1-101",
    "华美小区 1号楼 1单元 101", "101" — or the head's name (prefix). Most specific first."""
    text = clean_text(q)
    if not text:
        return []
    qs = households_at_gate(user).select_related("head")
    m = _DOOR_TAIL.match(text)
    if m and m.group("door"):
        door = m.group("door")
        found = qs.filter(dwelling__door__in=[door, f"{door}室", f"{door}号"])
        for word in re.split(r"[\s\-#/]+", m.group("rest") or ""):
            if not word:
                continue
            bare = (
                word.removesuffix("号楼").removesuffix("栋").removesuffix("幢").removesuffix("楼")
            )
            found = found.filter(
                Q(building__name=word)
                | Q(building__name__in=[f"{bare}号楼", f"{bare}栋", f"{bare}幢", bare])
                | Q(building__compound__name__startswith=word)
                | Q(dwelling__unit__name__in=[word, f"{bare}单元"])
            )
        rows = list(found.order_by(Length("building__name"), "building__name", "pk")[:limit])
        if rows:
            return rows
    return list(qs.filter(head__name__startswith=text).order_by("pk")[:limit])


def household_label(h: Household) -> str:
    from shouwang.residents.services import place_label

    return place_label(h)


def clean_temperature(raw, *, field: str = "temperature", required: bool = False):
    """A typed temperature as Decimal with one decimal, or None when empty. "365" is 36.5 (the
    paper sheets and a fast guard leave out the dot)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise invalid(field, _("Take the temperature and enter it, e.g. 36.5."))
        return None
    text = str(raw).strip().replace("，", ".").replace(",", ".").replace("℃", "")
    text = text.replace("°C", "").replace("°", "").strip()
    if re.fullmatch(r"\d{3}", text):
        text = f"{text[:2]}.{text[2]}"
    try:
        value = Decimal(text).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise invalid(
            field, _("“%(v)s” is not a temperature: type it like 36.5.") % {"v": raw}
        ) from None
    if not MIN_TEMPERATURE <= value <= MAX_TEMPERATURE:
        raise invalid(
            field,
            _(
                "%(v)s °C cannot be right: a body temperature is between 34 and 43 °C. Measure again."
            )
            % {"v": value},
        )
    return value


# --- the decision ---------------------------------------------------------------------------


def _level_of(household) -> str:
    from shouwang.control import levels

    if household is None:
        return ""
    c = levels.level_of_household(household)
    return c.level if c is not None else ""


def assess_visitor(*, community_id: int, temperature, proof: str, host, code_colour: str = ""):
    """(decision, [reason codes], level of the host's home) for a visitor or courier coming in,
    by the pass decision's rules (decision.decide_visitor)."""
    from shouwang.checkpoints import decision

    level = _level_of(host)
    verdict, reasons = decision.decide_visitor(
        temperature=temperature,
        proof=proof,
        host_level=level,
        rules=decision.Rules.of(policy_for(community_id)),
        code_colour=code_colour,
    )
    return verdict, list(reasons), level


# --- writes ---------------------------------------------------------------------------------


def _clean_phone(raw) -> str:
    if not clean_text(raw):
        raise invalid(
            "phone", _("Enter the visitor's mobile number (11 digits, e.g. 13912345678).")
        )
    try:
        phone = check_mobile(raw)
    except InvalidValue as e:
        raise invalid("phone", str(e.message)) from None
    return phone


def visitor_register(
    *,
    actor,
    checkpoint: Checkpoint,
    kind: str,
    name: str,
    phone: str,
    purpose: str = "",
    company: str = "",
    host: Household | None = None,
    temperature=None,
    proof: str = Visitor.Proof.NONE,
    proof_note: str = "",
    uid: uuid.UUID | str | None = None,
    now=None,
) -> Visitor:
    """Register a visitor or courier arriving at `checkpoint` and log their passage in, with the
    decision. The same `uid` twice (a retried send) returns the first registration."""
    now = now or timezone.now()
    if uid:
        try:
            uid = uuid.UUID(str(uid))
        except ValueError:
            raise invalid("uid", _("The request id is not a UUID.")) from None
        done = Passage.objects.filter(uid=uid).select_related("visitor").first()
        if done is not None:
            if done.visitor_id is None or done.community_id != checkpoint.community_id:
                raise Conflict("uid_used", _("This request id was used for something else."))
            return done.visitor
    errors: dict = {}
    if kind not in Visitor.Kind.values:
        errors["kind"] = _("Choose visitor or courier.")
    name = clean_text(name)[:50]
    if not name:
        errors["name"] = _("Enter the name as on the visitor's ID card.")
    e164 = ""
    try:
        e164 = _clean_phone(phone)
    except DomainError as e:
        errors.update(e.fields)
    company = clean_text(company)[:100]
    if kind == Visitor.Kind.COURIER and not company:
        errors["company"] = _("Enter the courier's company (e.g. 顺丰, 京东, 美团).")
    purpose = clean_text(purpose)[:200]
    if kind == Visitor.Kind.VISITOR:
        if host is None:
            errors["host"] = _(
                "Name the household visited: type its door (e.g. 1号楼 101) and pick it."
            )
        if not purpose:
            errors["purpose"] = _("Say why they come (e.g. bringing medicine, repairs).")
    if host is not None and host.community_id != checkpoint.community_id:
        errors["host"] = _("This household is not in this community.")
    try:
        temperature = clean_temperature(temperature)
    except DomainError as e:
        errors.update(e.fields)
    if proof not in Visitor.Proof.values:
        errors["proof"] = _("Choose the test proof seen.")
    if errors:
        first = next(iter(errors.values()))
        raise DomainError("invalid", first, fields=errors)
    verdict, reasons, level = assess_visitor(
        community_id=checkpoint.community_id, temperature=temperature, proof=proof, host=host
    )
    guard = signed_in(actor)
    try:
        with transaction.atomic():
            v = Visitor.objects.create(
                community_id=checkpoint.community_id,
                checkpoint=checkpoint,
                kind=kind,
                name=name,
                phone_enc=crypto.encrypt(e164),
                phone_masked=mask_phone(e164),
                company=company,
                purpose=purpose,
                host=host,
                temperature=temperature,
                proof=proof,
                proof_note=clean_text(proof_note)[:100],
                decision=verdict,
                reasons=",".join(reasons),
                arrived_at=now,
                registered_by=guard,
            )
            Passage.objects.create(
                uid=uid or uuid.uuid4(),
                community_id=checkpoint.community_id,
                checkpoint=checkpoint,
                direction=Direction.IN,
                visitor=v,
                via=Passage.Via.VISITOR,
                temperature=temperature,
                decision=verdict,
                reasons=",".join(reasons),
                level=level,
                guard=guard,
                at=now,
                recorded_at=timezone.now(),
            )
            audit(
                actor=actor,
                action=f"checkpoints.{kind}",
                community=checkpoint.community_id,
                target=v,
                summary=f"{checkpoint.name}: {verdict}"
                + (f" ({','.join(reasons)})" if reasons else ""),
            )
    except IntegrityError:
        # The same uid sent twice at once: the other request made it.
        done = Passage.objects.filter(uid=uid).select_related("visitor").first() if uid else None
        if done is None or done.visitor_id is None:
            raise
        return done.visitor
    return v


def visitor_left(*, actor, visitor: Visitor, now=None) -> Visitor:
    """The visitor left: the time, and a passage out. Twice: the first stays."""
    now = now or timezone.now()
    with transaction.atomic():
        won = Visitor.objects.filter(pk=visitor.pk, left_at__isnull=True).update(left_at=now)
        if won:
            Passage.objects.create(
                community_id=visitor.community_id,
                checkpoint_id=visitor.checkpoint_id,
                direction=Direction.OUT,
                visitor_id=visitor.pk,
                via=Passage.Via.VISITOR,
                decision=Decision.ALLOW,
                guard=signed_in(actor),
                at=now,
                recorded_at=timezone.now(),
            )
            audit(
                actor=actor,
                action="checkpoints.visitor_left",
                community=visitor.community_id,
                target=visitor,
            )
    return Visitor.objects.get(pk=visitor.pk)


# --- reads ----------------------------------------------------------------------------------


def visitors_for(user) -> QuerySet[Visitor]:
    return scope_queryset(user, Visitor.objects.all())


def visitor_get_for(user, pk) -> Visitor:
    return get_scoped(user, Visitor.objects.all(), pk)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def visitors_on(user, day: dt.date, *, checkpoint: Checkpoint | None = None) -> QuerySet[Visitor]:
    """The day's visitors and couriers, the latest first."""
    start, end = day_bounds(day)
    qs = visitors_for(user).filter(arrived_at__gte=start, arrived_at__lt=end)
    if checkpoint is not None:
        qs = qs.filter(checkpoint=checkpoint)
    return qs.select_related(
        "checkpoint", "host__dwelling__unit", "host__building__compound"
    ).order_by("-arrived_at", "-pk")
