"""The residents app's sections of the household pages (see shouwang.core.sections)."""

from __future__ import annotations

from django.db.models import F, Q
from django.utils import timezone

from shouwang.accounts.permissions import can
from shouwang.core import crypto, sections
from shouwang.core.sections import Section
from shouwang.residents.models import BehalfAction, Consent, HouseholdLink, Notice, Pass


def notices_for(household, *, limit: int = 10):
    """Notices a household sees: the whole community's, and those for its compound, building or
    grid; not withdrawn, not expired."""
    b = household.building
    now = timezone.now()
    return (
        Notice.objects.filter(community_id=household.community_id, withdrawn_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(
            Q(compound__isnull=True, building__isnull=True, grid__isnull=True)
            | Q(compound_id=b.compound_id)
            | Q(building_id=b.pk)
            | (Q(grid_id=b.grid_id) if b.grid_id else Q(pk__in=[]))
        )[:limit]
    )


def _notices(request, household, viewer):
    return {"notices": list(notices_for(household))}


def _behalf(request, household, viewer):
    actions = list(BehalfAction.objects.filter(household=household)[:20])
    consents = list(
        Consent.objects.filter(household=household, revoked_at__isnull=True).select_related(
            "resident"
        )
    )
    return {"actions": actions, "consents": consents}


def _staff_access(request, household, viewer):
    """Passes, the household link and consents, on the staff household page."""
    user = request.user
    if not (can(user, "passes.manage") or can(user, "access.manage")):
        return None
    members = sorted(household.members.all(), key=lambda m: (m.relation != "head", m.pk))
    passes = {
        p.resident_id: p
        for p in Pass.objects.filter(resident_id__in=[m.pk for m in members], status="active")
    }
    link = HouseholdLink.objects.filter(household=household, revoked_at__isnull=True).first()
    consents = list(
        Consent.objects.filter(household=household)
        .select_related("resident", "recorded_by", "proxy_user")
        .order_by(F("revoked_at").asc(nulls_first=True), "-created_at")[:20]
    )
    sealed = request.session.pop(f"new_link:{household.pk}", None)
    new_link = crypto.decrypt(sealed) if sealed else None
    return {
        "rows": [(m, passes.get(m.pk)) for m in members],
        "member_ids": ",".join(str(m.pk) for m in members),
        "link": link,
        "new_link": new_link,
        "consents": consents,
        "actions": list(BehalfAction.objects.filter(household=household)[:10]),
        "can_passes": can(user, "passes.manage"),
        "can_access": can(user, "access.manage"),
    }


sections.register(
    sections.RESIDENT, Section("notices", "residents/sections/notices.html", _notices, order=10)
)
sections.register(
    sections.RESIDENT, Section("behalf", "residents/sections/behalf.html", _behalf, order=90)
)
sections.register(
    sections.STAFF, Section("access", "residents/sections/staff_access.html", _staff_access, 10)
)
