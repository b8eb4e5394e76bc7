"""Door-to-door visit lists: the homes a team visits in a round — the bedridden, households that
asked, sealed buildings, and the re-test lists a positive pooled tube makes (results.py) — and
each door's outcome (visited, not at home, refused)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.permissions import CAPABILITIES
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.control import levels
from shouwang.core.audit import audit
from shouwang.core.errors import Conflict, DomainError, NotFound, invalid
from shouwang.core.masking import mask_name
from shouwang.registry.models import CareTag, Household, Resident
from shouwang.screening import services
from shouwang.screening.models import Round, Visit, VisitList, VisitReason

# Reasons staff make a list for; re-test lists are made by a positive pooled tube.
MADE_BY_HAND = (VisitReason.BEDRIDDEN, VisitReason.REQUESTED, VisitReason.SEALED)
PLACE_ORDER = (
    "household__building__compound__name",
    "household__building__name",
    "household__dwelling__unit__name",
    "household__dwelling__door",
    "household_id",
)


def lists_for(user):
    return scope_queryset(user, VisitList.objects.all())


def list_get_for(user, pk) -> VisitList:
    return get_scoped(user, VisitList.objects.select_related("round"), pk)


def visit_get_for(user, pk) -> Visit:
    qs = Visit.objects.select_related("visit_list__round")
    if not getattr(user, "community_id", None):
        qs = qs.none()
    else:
        qs = qs.filter(visit_list__community_id=user.community_id)
    try:
        return qs.get(pk=int(pk))
    except (Visit.DoesNotExist, TypeError, ValueError):
        raise NotFound("not_found", _("Not found, or not in your community or grid.")) from None


def households_for_reason(rnd: Round, reason: str, households=()) -> list[int]:
    """The households a list of this reason holds, in the round's scope."""
    in_scope = services.households_in_scope(rnd)
    if reason == VisitReason.BEDRIDDEN:
        return sorted(
            set(
                services.residents_in_scope(rnd)
                .with_tag(CareTag.BEDRIDDEN)
                .values_list("household_id", flat=True)
            )
        )
    if reason == VisitReason.SEALED:
        # Exactly the homes under the level: a sealed unit, not the whole building.
        return list(
            in_scope.filter(levels.dwelling_q(levels.SEALED_LEVELS)).values_list("pk", flat=True)
        )
    if reason == VisitReason.REQUESTED:
        ids = [getattr(h, "pk", h) for h in households]
        return list(in_scope.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    raise invalid("reason", _("Re-test lists are made by a positive pooled tube's result."))


def _empty(reason: str) -> DomainError:
    if reason == VisitReason.SEALED:
        msg = _(
            "No household of this round's area lives in a sealed or close-contact place. "
            "Levels are set under Area control."
        )
    elif reason == VisitReason.BEDRIDDEN:
        msg = _(
            "Nobody in this round's area has the care tag “Bedridden”. Tag them in the ledger, "
            "or make a list of the households that asked."
        )
    else:
        msg = _("Choose at least one household of this round's area.")
    return invalid("households" if reason == VisitReason.REQUESTED else "reason", msg)


def _check_assignees(community_id, users) -> None:
    if any(u.community_id != community_id for u in users):
        raise invalid("assignees", _("Choose people of your own community."))
    if any(u.role not in CAPABILITIES["screening.sample"] for u in users):
        raise invalid("assignees", _("Choose people whose role may sample."))


def visit_list_make(
    *,
    actor,
    rnd: Round,
    reason: str,
    name: str = "",
    team: str = "",
    assignees=(),
    households=(),
) -> VisitList:
    """A list of homes to visit in the round, for one reason (not re-test)."""
    if reason not in MADE_BY_HAND:
        raise invalid("reason", _("Choose bedridden, the households that asked, or sealed."))
    if rnd.closed_at is not None:
        raise Conflict("screening_round_closed", _("This round is closed."))
    assignees = list(assignees or [])
    _check_assignees(rnd.community_id, assignees)
    ids = households_for_reason(rnd, reason, households)
    if not ids:
        raise _empty(reason)
    name = (name or "").strip() or f"{VisitReason(reason).label} · {rnd}"
    with transaction.atomic():
        vl = VisitList.objects.create(
            community_id=rnd.community_id,
            round=rnd,
            name=name[:100],
            reason=reason,
            team=(team or "")[:100],
            created_by=actor,
        )
        vl.assignees.set(assignees)
        Visit.objects.bulk_create([Visit(visit_list=vl, household_id=h) for h in ids])
        audit(
            actor=actor,
            action="screening.visit_list_create",
            community=rnd.community_id,
            target=vl,
            summary=f"{vl.name}: {reason}, {len(ids)} households",
        )
    return vl


def visit_list_assign(*, actor, visit_list: VisitList, team: str, assignees=()) -> VisitList:
    assignees = list(assignees or [])
    _check_assignees(visit_list.community_id, assignees)
    with transaction.atomic():
        visit_list.team = (team or "")[:100]
        visit_list.save(update_fields=["team"])
        visit_list.assignees.set(assignees)
        audit(
            actor=actor,
            action="screening.visit_list_assign",
            community=visit_list.community_id,
            target=visit_list,
            summary=f"{visit_list.team}: {', '.join(u.username for u in assignees)}",
        )
    return visit_list


def visit_record(*, actor, visit: Visit, status: str, note: str | None = None) -> Visit:
    """Record a door: visited, not at home, refused (or back to "to visit"); `note` None keeps
    the note there is. The same again does nothing more."""
    if status not in Visit.Status.values:
        raise invalid("status", _("Choose visited, not at home or refused."))
    with transaction.atomic():
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        note = visit.note if note is None else note.strip()[:200]
        if visit.status == status and visit.note == note:
            return visit
        visit.status, visit.note = status, note
        visit.at = timezone.now() if status != Visit.Status.PENDING else None
        visit.by = actor
        visit.save(update_fields=["status", "note", "at", "by"])
        audit(
            actor=actor,
            action="screening.visit_record",
            community=visit.visit_list.community_id,
            target=visit,
            summary=f"{visit.household_id}: {status}" + (f" ({note})" if note else ""),
        )
    return visit


def list_counts(visit_list_qs):
    """Each list with its numbers of doors by status."""
    S = Visit.Status
    return visit_list_qs.annotate(
        n_total=Count("visits"),
        n_visited=Count("visits", filter=Q(visits__status=S.VISITED)),
        n_not_home=Count("visits", filter=Q(visits__status=S.NOT_HOME)),
        n_refused=Count("visits", filter=Q(visits__status=S.REFUSED)),
        n_pending=Count("visits", filter=Q(visits__status=S.PENDING)),
    )


def list_rows(visit_list: VisitList) -> list[dict]:
    """The list's doors sorted by building and door, with the people there (names masked) and
    for re-test lists who among them is flagged."""
    visits = list(
        Visit.objects.filter(visit_list=visit_list)
        .select_related(
            "household__building__compound",
            "household__dwelling__unit",
            "by",
        )
        .order_by(*PLACE_ORDER)
    )
    hh = [v.household_id for v in visits]
    people: dict[int, list[str]] = {}
    q = Resident.objects.filter(household_id__in=hh).living_here().order_by("pk")
    if visit_list.reason == VisitReason.RETEST and visit_list.source_tube_id:
        q = q.filter(
            pk__in=visit_list.source_tube.retest_flags.values("resident_id")
            if visit_list.source_tube
            else []
        )
    elif visit_list.reason == VisitReason.BEDRIDDEN:
        q = q.with_tag(CareTag.BEDRIDDEN)
    for r in q.only("pk", "name", "household_id"):
        people.setdefault(r.household_id, []).append(mask_name(r.name))
    rows = []
    for v in visits:
        h: Household = v.household
        unit = h.dwelling.unit.name if h.dwelling.unit_id else ""
        rows.append(
            {
                "visit": v,
                "compound": h.building.compound.name,
                "building": h.building.name,
                "unit": unit,
                "door": h.dwelling.door,
                "phone": h.contact_phone_masked,
                "people": people.get(h.pk, []),
            }
        )
    return rows


def status_label(status: str) -> str:
    return _g(str(Visit.Status(status).label))


def households_from_text(rnd: Round, text: str) -> list[int]:
    """Households named one per line as "building door" or "building unit door" (compound
    first when building names repeat), within the round's area. Raises naming every line not
    found."""
    ids, missing = [], []
    base = services.households_in_scope(rnd)
    for raw in (text or "").splitlines():
        parts = raw.replace("，", " ").replace(",", " ").split()
        if not parts:
            continue
        if len(parts) < 2:
            missing.append(raw.strip())
            continue
        q = base.filter(dwelling__door=parts[-1])
        rest = parts[:-1]
        if len(rest) >= 2 and rest[-1].endswith("单元"):
            q = q.filter(dwelling__unit__name=rest[-1])
            rest = rest[:-1]
        q = q.filter(building__name=rest[-1])
        if len(rest) >= 2:
            q = q.filter(building__compound__name=rest[-2])
        found = list(q.values_list("pk", flat=True)[:2])
        if len(found) == 1:
            ids.append(found[0])
        else:
            missing.append(raw.strip())
    if missing:
        raise invalid(
            "households",
            _g(
                "Not found in this round's area (or found twice — add the compound or the unit): "
                "%(lines)s"
            )
            % {"lines": "; ".join(missing[:20])},
        )
    return ids
