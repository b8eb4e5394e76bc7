"""Rounds, sampling points and their priority lanes: reads scoped to the caller, and the writes.
Every write is keyword-only, takes `actor=`, runs in one transaction and writes its audit row
there. Results are in results.py, door-to-door lists in visits.py."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.permissions import CAPABILITIES
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.control import levels
from shouwang.core.audit import audit
from shouwang.core.errors import Conflict, NotFound, invalid
from shouwang.registry import areas
from shouwang.registry.models import Household, Resident
from shouwang.screening.models import PriorityLane, Round, RoundKind, SamplingPoint

MAX_POOL = 50


# --- reads ----------------------------------------------------------------------------------


def rounds_for(user):
    return scope_queryset(user, Round.objects.all())


def round_get_for(user, pk) -> Round:
    return get_scoped(user, Round.objects.all(), pk)


def points_for(user):
    return scope_queryset(user, SamplingPoint.objects.all())


def point_get_for(user, pk) -> SamplingPoint:
    return get_scoped(user, SamplingPoint.objects.all(), pk)


def samplers_for(user):
    """Users of the caller's community whose role may sample: a point's staff, a list's team."""
    from shouwang.accounts.models import User

    return User.objects.filter(
        community_id=user.community_id,
        is_active=True,
        role__in=CAPABILITIES["screening.sample"],
    ).order_by("role", "username")


def lane_get_for(user, pk) -> PriorityLane:
    qs = PriorityLane.objects.select_related("point")
    if user.community_id is None:
        qs = qs.none()
    else:
        qs = qs.filter(point__community_id=user.community_id)
    try:
        return qs.get(pk=int(pk))
    except (PriorityLane.DoesNotExist, TypeError, ValueError):
        raise NotFound("not_found", _("Not found, or not in your community or grid.")) from None


def round_next_number(community_id, kind: str) -> int:
    """The number the next round of this kind gets: one more than the highest so far."""
    top = Round.objects.filter(community_id=community_id, kind=kind).aggregate(n=Max("number"))
    return (top["n"] or 0) + 1


def round_scope(rnd: Round) -> set[tuple[str, int]]:
    """The round's chosen areas as ("c"|"b"|"g", id); empty: the whole community."""
    return areas.scope_of(rnd)


def scope_q(rnd: Round, prefix: str = "building__") -> Q:
    """A filter on buildings (through `prefix`) for the round's scope."""
    scope = round_scope(rnd)
    if not scope:
        return Q()
    q = Q(pk__in=[])
    for kind, field in (("c", "compound_id"), ("b", "id"), ("g", "grid_id")):
        ids = [pk for k, pk in scope if k == kind]
        if ids:
            q |= Q(**{f"{prefix}{field}__in": ids})
    return q


def round_moment(rnd: Round, now=None) -> dt.datetime:
    """When a round's control levels are read: now, or the round's end once it is over (a past
    round keeps the places it had when a building is released later)."""
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    if rnd.kind == RoundKind.ANTIGEN:
        end = dt.datetime.combine(rnd.date + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    else:
        end = dt.datetime.combine(rnd.date, rnd.ends_at, tzinfo=tz)
    return min(now, end)


def levels_q(rnd: Round, prefix: str = "") -> Q:
    """A filter on households (through `prefix`) for the round's control levels, if any."""
    chosen = levels.parse(rnd.control_levels)
    if not chosen:
        return Q()
    return levels.dwelling_q(chosen, now=round_moment(rnd), prefix=prefix)


def households_in_scope(rnd: Round):
    return (
        Household.objects.filter(community_id=rnd.community_id)
        .filter(scope_q(rnd))
        .filter(levels_q(rnd))
    )


def residents_in_scope(rnd: Round):
    return (
        Resident.objects.filter(community_id=rnd.community_id)
        .living_here()
        .filter(scope_q(rnd, "household__building__"))
        .filter(levels_q(rnd, "household__"))
    )


def round_is_today(rnd: Round) -> bool:
    return rnd.date == timezone.localdate() and rnd.closed_at is None


# --- rounds ---------------------------------------------------------------------------------


def _own(community_id, objs, field: str, what) -> list:
    objs = list(objs or [])
    if any(o.community_id != community_id for o in objs):
        raise invalid(field, _("Choose %(what)s of your own community.") % {"what": what})
    return objs


def round_save(
    *,
    actor,
    community,
    rnd: Round | None = None,
    kind: str,
    number: int,
    date,
    starts_at,
    ends_at,
    pool_size: int = 10,
    compounds=(),
    buildings=(),
    grids=(),
    control_levels=(),
    points=(),
    note: str = "",
) -> Round:
    """Create a round or change one. A closed round is not changed; a round with samples keeps
    its kind."""
    if kind not in RoundKind.values:
        raise invalid("kind", _("Choose mass screening, door-to-door or antigen self-test."))
    if not number or number < 1:
        raise invalid("number", _("The round number is a whole number from 1."))
    if starts_at >= ends_at:
        raise invalid("ends_at", _("The round must end after it starts."))
    if not 1 <= pool_size <= MAX_POOL:
        raise invalid(
            "pool_size", _("People per pooled tube go from 1 to %(n)s.") % {"n": MAX_POOL}
        )
    compounds = _own(community.pk, compounds, "compounds", _("compounds"))
    buildings = _own(community.pk, buildings, "buildings", _("buildings"))
    grids = _own(community.pk, grids, "grids", _("grids"))
    points = _own(community.pk, points, "points", _("sampling points"))
    chosen_levels = levels.clean(control_levels)
    if chosen_levels is None:
        raise invalid(
            "control_levels",
            _(
                "Choose control levels among sealed, close-contact building, controlled and "
                "precaution."
            ),
        )
    with transaction.atomic():
        if rnd is None:
            rnd = Round(community=community, created_by=actor)
            action = "screening.round_create"
        else:
            rnd = Round.objects.select_for_update().get(pk=rnd.pk)
            action = "screening.round_update"
            if rnd.closed_at is not None:
                raise Conflict(
                    "screening_round_closed", _("This round is closed: it can no longer change.")
                )
            if rnd.kind != kind and rnd.samples.exists():
                raise invalid("kind", _("People are already sampled: the kind cannot change."))
        if (
            Round.objects.filter(community=community, kind=kind, number=number)
            .exclude(pk=rnd.pk)
            .exists()
        ):
            raise invalid(
                "number",
                _("Round %(n)s of this kind exists already; the next free number is %(next)s.")
                % {"n": number, "next": round_next_number(community.pk, kind)},
            )
        rnd.kind, rnd.number, rnd.date = kind, number, date
        rnd.starts_at, rnd.ends_at = starts_at, ends_at
        rnd.pool_size, rnd.note = pool_size, (note or "")[:200]
        rnd.control_levels = ",".join(chosen_levels)
        try:
            with transaction.atomic():
                rnd.save()
        except IntegrityError:
            raise invalid(
                "number", _("Round %(n)s of this kind exists already.") % {"n": number}
            ) from None
        rnd.compounds.set(compounds)
        rnd.buildings.set(buildings)
        rnd.grids.set(grids)
        rnd.points.set(points)
        audit(
            actor=actor,
            action=action,
            community=community,
            target=rnd,
            summary=f"{rnd.kind} #{rnd.number} {rnd.date} {rnd.starts_at:%H:%M}-{rnd.ends_at:%H:%M}",
        )
    return rnd


def round_close(*, actor, rnd: Round) -> bool:
    """Close the round: no more scans. Closing a closed round does nothing (False)."""
    with transaction.atomic():
        n = Round.objects.filter(pk=rnd.pk, closed_at=None).update(closed_at=timezone.now())
        if n:
            audit(
                actor=actor,
                action="screening.round_close",
                community=rnd.community_id,
                target=rnd,
                summary=str(rnd),
            )
    rnd.refresh_from_db(fields=["closed_at"])
    return bool(n)


# --- sampling points and lanes --------------------------------------------------------------


def point_save(
    *,
    actor,
    community,
    point: SamplingPoint | None = None,
    name: str,
    kind: str,
    place: str = "",
    opens_at,
    closes_at,
    staff=(),
    active: bool = True,
    note: str = "",
) -> SamplingPoint:
    name = (name or "").strip()
    if not name:
        raise invalid("name", _("Give the point a name."))
    if opens_at >= closes_at:
        raise invalid("closes_at", _("The point must close after it opens."))
    staff = list(staff or [])
    if any(u.community_id != community.pk for u in staff):
        raise invalid("staff", _("Choose staff of your own community."))
    if any(u.role not in CAPABILITIES["screening.sample"] for u in staff):
        raise invalid("staff", _("Choose people whose role may sample."))
    with transaction.atomic():
        if point is None:
            point = SamplingPoint(community=community)
            action = "screening.point_create"
        else:
            action = "screening.point_update"
        if (
            SamplingPoint.objects.filter(community=community, name=name)
            .exclude(pk=point.pk)
            .exists()
        ):
            raise invalid("name", _("Another point has this name."))
        point.name, point.kind, point.place = name[:100], kind, (place or "")[:200]
        point.opens_at, point.closes_at = opens_at, closes_at
        point.active, point.note = active, (note or "")[:200]
        point.full_clean(exclude=["community"], validate_unique=False, validate_constraints=False)
        point.save()
        point.staff.set(staff)
        audit(actor=actor, action=action, community=community, target=point, summary=name)
    return point


def lane_add(
    *, actor, point: SamplingPoint, kind: str, starts_at, ends_at, note=""
) -> PriorityLane:
    if kind not in PriorityLane.Kind.values:
        raise invalid("kind", _("Choose who the lane is for."))
    if starts_at >= ends_at:
        raise invalid("ends_at", _("The lane must end after it starts."))
    if starts_at < point.opens_at or ends_at > point.closes_at:
        raise invalid(
            "starts_at",
            _("The lane's hours must be within the point's (%(a)s–%(b)s).")
            % {"a": f"{point.opens_at:%H:%M}", "b": f"{point.closes_at:%H:%M}"},
        )
    with transaction.atomic():
        lane = PriorityLane.objects.create(
            point=point, kind=kind, starts_at=starts_at, ends_at=ends_at, note=(note or "")[:200]
        )
        audit(
            actor=actor,
            action="screening.lane_add",
            community=point.community_id,
            target=lane,
            summary=f"{point.name}: {kind} {starts_at:%H:%M}-{ends_at:%H:%M}",
        )
    return lane


def lane_delete(*, actor, lane: PriorityLane) -> None:
    with transaction.atomic():
        audit(
            actor=actor,
            action="screening.lane_delete",
            community=lane.point.community_id,
            target=lane,
            summary=f"{lane.point.name}: {lane.kind}",
        )
        lane.delete()
