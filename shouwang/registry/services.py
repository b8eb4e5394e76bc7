"""Writes to the ledger. Views, the API and commands call these; nothing else writes."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Case, Count, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.permissions import can, require
from shouwang.core.audit import audit
from shouwang.core.errors import Conflict, DomainError
from shouwang.registry.models import (
    Building,
    CareTag,
    Community,
    District,
    Dwelling,
    Household,
    Presence,
    Relation,
    Residency,
    Resident,
    Street,
    Unit,
)
from shouwang.registry.validation import (
    InvalidValue,
    check_id,
    check_mobile,
    check_name,
    clean_text,
)

REVEAL_FIELDS = {"id_number": "reveal.id_number", "phone": "reveal.phone"}


@transaction.atomic
def community_create(
    *, actor, code: str, name: str, street: Street | None = None, threshold: int = 6
) -> Community:
    code = code.strip()
    if not code or not name.strip():
        raise DomainError("community_invalid", _("A community needs a code and a name."))
    if Community.objects.filter(code=code).exists():
        raise DomainError(
            "community_exists", _("A community with code %(code)s exists already.") % {"code": code}
        )
    community = Community.objects.create(
        code=code, name=name.strip(), street=street, large_household_threshold=threshold
    )
    audit(
        actor=actor,
        action="community.create",
        community=community,
        target=community,
        summary=f"{code} {name}",
    )
    return community


def street_ensure(*, district_code: str, district_name: str, code: str, name: str) -> Street:
    district, _ = District.objects.get_or_create(
        code=district_code, defaults={"name": district_name}
    )
    street, _ = Street.objects.get_or_create(
        code=code, defaults={"name": name, "district": district}
    )
    return street


@transaction.atomic
def resident_reveal(*, actor, resident: Resident, field: str, reason: str) -> str:
    """The full ID number or phone, for a role that may see it, with a reason, logged."""
    capability = REVEAL_FIELDS.get(field)
    if capability is None:
        raise DomainError("field_unknown", _("Only the ID number or the phone can be revealed."))
    require(actor, capability)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError(
            "reason_required",
            _("Say why you need the full value (for example: calling about a missed test)."),
            fields={"reason": _("Required.")},
        )
    audit(
        actor=actor,
        action="resident.reveal",
        community=resident.community_id,
        target=resident,
        field=field,
        reason=reason,
        summary=f"{field} of resident {resident.pk}",
    )
    return resident.id_number if field == "id_number" else resident.phone


def may_reveal(user, field: str) -> bool:
    return can(user, REVEAL_FIELDS[field])


def households_refresh(*, household_ids) -> None:
    """Recompute head, size and contact phone of households from their members.

    One set-based UPDATE per chunk (correlated subqueries), the same on SQLite and PostgreSQL:
    Django's bulk_update would build a CASE branch per household per field instead.
    """
    members = Resident.objects.filter(household=OuterRef("pk"))
    with_phone = members.exclude(phone_enc="").order_by(
        Case(When(relation=Relation.HEAD, then=0), default=1), "id"
    )
    ids = list(household_ids)
    for start in range(0, len(ids), 900):
        Household.objects.filter(pk__in=ids[start : start + 900]).update(
            size=Coalesce(
                Subquery(
                    members.exclude(presence=Presence.MOVED_OUT)
                    .order_by()
                    .values("household")
                    .annotate(n=Count("*"))
                    .values("n")[:1]
                ),
                0,
            ),
            head=Subquery(members.filter(relation=Relation.HEAD).order_by("id").values("id")[:1]),
            contact_phone_enc=Coalesce(Subquery(with_phone.values("phone_enc")[:1]), Value("")),
            contact_phone_masked=Coalesce(
                Subquery(with_phone.values("phone_masked")[:1]), Value("")
            ),
        )


# --- people --------------------------------------------------------------------------------


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def age_tags(birth: date | None, today: date) -> int:
    """The care tags a birth date implies (60+, 80+, infant), as the import sets them."""
    if birth is None:
        return 0
    age = age_on(birth, today)
    bits = 0
    if age >= 60:
        bits |= CareTag.AGE_60
    if age >= 80:
        bits |= CareTag.AGE_80
    if age < 3:
        bits |= CareTag.INFANT
    return int(bits)


EDITABLE = ("name", "phone", "relation", "residency", "presence", "tags", "medicines", "note")


def _clean_person(data: dict, *, today=None) -> dict:
    """Validate person fields with the same rules as the import; raise one DomainError that
    names every bad field."""
    clean, errors = {}, {}
    if "name" in data:
        try:
            clean["name"] = check_name(data["name"])
        except InvalidValue as e:
            errors["name"] = e.message
    if "phone" in data:
        try:
            clean["phone"] = check_mobile(data["phone"] or "")
        except InvalidValue as e:
            errors["phone"] = e.message
    if "id_number" in data:
        try:
            clean["id_info"] = check_id(
                data["id_number"], id_type=data.get("id_type") or "resident_id", today=today
            )
        except InvalidValue as e:
            errors["id_number" if e.field != "id_type" else "id_type"] = e.message
    for key, choices in (("relation", Relation), ("residency", Residency), ("presence", Presence)):
        if key in data:
            if data[key] not in choices.values:
                errors[key] = _("Choose one of the listed values.")
            else:
                clean[key] = data[key]
    if "tags" in data:
        bits = int(data["tags"] or 0)
        if bits < 0 or bits & ~sum(t.value for t in CareTag):
            errors["tags"] = _("Unknown care tag.")
        clean["tags"] = bits
    for key in ("medicines", "note"):
        if key in data:
            clean[key] = (data[key] or "").strip()[:200]
    if errors:
        raise DomainError(
            "invalid_input",
            _("Some fields need fixing; each one says what is wrong."),
            fields=errors,
        )
    return clean


@transaction.atomic
def resident_create(*, actor, household: Household, data: dict) -> Resident:
    """Add a person to a household (a newborn, a new tenant): the import's rules, one person."""
    require(actor, "ledger.edit")
    clean = _clean_person(
        {**data, "name": data.get("name", ""), "id_number": data.get("id_number", "")}
    )
    info = clean.pop("id_info")
    r = Resident(
        community_id=household.community_id,
        household=household,
        id_type=info.id_type,
        sex=info.sex,
        birth_date=info.birth_date,
        relation=clean.get("relation", Relation.OTHER),
        residency=clean.get("residency", Residency.REGISTERED),
        presence=clean.get("presence", Presence.PRESENT),
        tags=clean.get("tags", 0) | age_tags(info.birth_date, timezone.localdate()),
        name=clean["name"],
        medicines=clean.get("medicines", ""),
        note=clean.get("note", ""),
    )
    r.set_id_number(info.number)
    if Resident.objects.filter(
        community_id=household.community_id, id_number_index=r.id_number_index
    ).exists():
        raise Conflict(
            "id_duplicate",
            _("A person with this ID number is already in the ledger. Search for them instead."),
            fields={"id_number": _("Already registered.")},
        )
    r.set_phone(clean.get("phone", ""))
    if r.relation == Relation.HEAD:
        _ensure_no_other_head(household_id=household.pk)
    r.save()
    households_refresh(household_ids=[household.pk])
    audit(
        actor=actor,
        action="resident.create",
        community=household.community_id,
        target=r,
        summary=f"{r.name} into household {household.pk}",
    )
    return r


@transaction.atomic
def resident_update(*, actor, resident: Resident, data: dict) -> Resident:
    require(actor, "ledger.edit")
    clean = _clean_person({k: v for k, v in data.items() if k in EDITABLE})
    changed = []
    if "phone" in clean:
        phone = clean.pop("phone")
        if phone != resident.phone:
            resident.set_phone(phone)
            changed += ["phone_enc", "phone_index", "phone_masked", "phone_tail"]
    for key, value in clean.items():
        if getattr(resident, key) != value:
            setattr(resident, key, value)
            changed.append(key)
    if not changed:
        return resident
    if "relation" in changed and resident.relation == Relation.HEAD:
        _ensure_no_other_head(household_id=resident.household_id, person_id=resident.pk)
    # Which fields changed, never their values: the summary is read by people without reveal.
    resident.save(update_fields=[*changed, "updated_at"])
    households_refresh(household_ids=[resident.household_id])
    fields = sorted({"phone" if c.startswith("phone") else c for c in changed})
    audit(
        actor=actor,
        action="resident.update",
        community=resident.community_id,
        target=resident,
        summary="changed: " + ", ".join(fields),
    )
    return resident


def _ensure_no_other_head(*, household_id: int, person_id: int | None = None) -> None:
    others = Resident.objects.filter(household_id=household_id, relation=Relation.HEAD)
    if others.exclude(pk=person_id).exists():
        raise Conflict(
            "head_exists",
            _("This household has a head already. Change the head's relation first."),
            fields={"relation": _("Choose another relation.")},
        )


@transaction.atomic
def household_create(*, actor, building: Building, unit: str, door: str, head: dict) -> Household:
    """Register a new household at a door (new tenants, a family moving in) with its head.

    The door is created if the building does not have it yet; several households may share
    one door (Huamei's rented homesteads).
    """
    require(actor, "ledger.edit")
    unit, door = clean_text(unit), clean_text(door)
    if not door:
        raise DomainError(
            "place_missing", _("Type the door number."), fields={"door": _("Required.")}
        )
    unit_row = None
    if unit:
        unit_row, _created = Unit.objects.get_or_create(
            community_id=building.community_id, building=building, name=unit
        )
    dwelling, _created = Dwelling.objects.get_or_create(
        community_id=building.community_id, building=building, unit=unit_row, door=door
    )
    household = Household.objects.create(
        community_id=building.community_id, dwelling=dwelling, building=building
    )
    resident_create(actor=actor, household=household, data={**head, "relation": Relation.HEAD})
    audit(
        actor=actor,
        action="household.create",
        community=building.community_id,
        target=household,
        summary=f"{building} {unit} {door}",
    )
    return household
