"""Writes to the ledger. Views, the API and commands call these; nothing else writes."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.permissions import can, require
from shouwang.core.audit import audit
from shouwang.core.errors import DomainError
from shouwang.registry.models import Community, District, Household, Presence, Resident, Street

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


def visible_value(user, resident: Resident, field: str) -> str:
    """What a page may print without a reveal: always the masked value."""
    return resident.id_number_masked if field == "id_number" else resident.phone_masked


def may_reveal(user, field: str) -> bool:
    return can(user, REVEAL_FIELDS[field])


@transaction.atomic
def resident_set_presence(*, actor, resident: Resident, presence: str) -> Resident:
    if presence not in Presence.values:
        raise DomainError("presence_invalid", _("Unknown presence."))
    if resident.presence == presence:
        return resident
    old = resident.presence
    resident.presence = presence
    resident.save(update_fields=["presence", "updated_at"])
    household_refresh_size(household_id=resident.household_id)
    audit(
        actor=actor,
        action="resident.presence",
        community=resident.community_id,
        target=resident,
        summary=f"{old} -> {presence}",
    )
    return resident


def household_refresh_size(*, household_id: int) -> None:
    size = (
        Resident.objects.filter(household_id=household_id)
        .exclude(presence=Presence.MOVED_OUT)
        .count()
    )
    Household.objects.filter(pk=household_id).update(size=size)


def households_recount(*, community: Community) -> int:
    """Recompute every household's size from its members; returns how many changed."""
    changed = 0
    for h in Household.objects.filter(community=community).annotate(
        n=Count("members", filter=~Q(members__presence=Presence.MOVED_OUT))
    ):
        if h.size != h.n:
            Household.objects.filter(pk=h.pk).update(size=h.n)
            changed += 1
    return changed
