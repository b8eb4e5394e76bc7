"""Reads of the care list: who is on it (the community's care tags, or a live pairing), who looks
after them, and who is due or overdue for a follow-up.

Due and overdue are worked out in the database for the whole list at once (a few hundred people
in a community), never one query per person: the last contact is a subquery on the follow-ups'
(resident, at) index, and each person's rhythm (the pairing's every_days, else the policy's) is
compared with local-midnight cut-offs, one pair of cut-offs per distinct rhythm in use.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.models import Role
from shouwang.accounts.scope import get_scoped
from shouwang.care.models import FollowUp, Pairing, Policy
from shouwang.core.errors import invalid
from shouwang.registry.models import CareTag, Presence, Resident

# The tags that put a resident on the list unless the community chose others (Policy.tags = 0).
# Who is followed up every day unless the community chooses otherwise: the people who cannot
# manage alone (Dongtian). 60+/80+, chronic illness and low income are tags a committee can add;
# in the demo community they would put over 1,400 people on a daily list for a dozen staff.
DEFAULT_TAGS = (
    CareTag.LIVING_ALONE
    | CareTag.BEDRIDDEN
    | CareTag.DISABLED
    | CareTag.PREGNANT
    | CareTag.CHILD_IN_DIFFICULTY
)

# States of a person on the list, worst first.
OVERDUE = "overdue"  # the last contact is older than their rhythm allows, or there was none
DUE = "due"  # to be contacted today
DONE = "done"  # contacted recently enough
STATES = (OVERDUE, DUE, DONE)


def policy_for(community_id: int) -> Policy:
    policy, _created = Policy.objects.get_or_create(community_id=community_id)
    return policy


def tags_of(policy: Policy) -> int:
    return policy.tags or int(DEFAULT_TAGS)


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _cutoffs(every: int, today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """(overdue before, due before): a person contacted on day D with a rhythm of N days is due
    again on D + N — due today when D + N is today, overdue when it is earlier."""
    return local_midnight(today - dt.timedelta(days=every)), local_midnight(
        today - dt.timedelta(days=every - 1)
    )


def carers_for(community_id: int) -> QuerySet:
    """Staff who can be paired with someone: the community's active users who follow people up."""
    from shouwang.accounts.models import User
    from shouwang.accounts.permissions import CAPABILITIES

    return User.objects.filter(
        community_id=community_id,
        is_active=True,
        role__in=sorted(CAPABILITIES["care.follow"]),
    ).order_by("username")


def party_members_for(community_id: int) -> QuerySet[Resident]:
    """Party members of the ledger who can look after a neighbour (Xi'an's pairing)."""
    return (
        Resident.objects.in_community(community_id)
        .living_here()
        .with_tag(CareTag.PARTY_MEMBER)
        .with_place()
        .order_by("name", "pk")
    )


def _base(community_id: int, policy: Policy) -> QuerySet[Resident]:
    last = FollowUp.objects.filter(resident=OuterRef("pk")).order_by("-at", "-pk")
    return (
        Resident.objects.filter(community_id=community_id)
        .exclude(presence=Presence.MOVED_OUT)
        .annotate(
            live=FilteredRelation(
                "care_pairings", condition=Q(care_pairings__ended_at__isnull=True)
            )
        )
        .alias(_care=F("tags").bitand(tags_of(policy)))
        .filter(Q(_care__gt=0) | Q(live__id__isnull=False))
        .annotate(
            pairing_id=F("live__id"),
            carer_id=F("live__carer_id"),
            carer_resident_id=F("live__carer_resident_id"),
            every=Coalesce(F("live__every_days"), Value(policy.every_days)),
            last_at=Subquery(last.values("at")[:1]),
            last_outcome=Subquery(last.values("outcome")[:1]),
        )
    )


def _with_state(
    qs: QuerySet[Resident], community_id: int, policy: Policy, today: dt.date
) -> QuerySet[Resident]:
    rhythms = set(
        Pairing.objects.filter(
            community_id=community_id, ended_at__isnull=True, every_days__isnull=False
        )
        .values_list("every_days", flat=True)
        .distinct()
    )
    rhythms.add(policy.every_days)
    whens = [When(last_at__isnull=True, then=Value(OVERDUE))]
    for every in sorted(rhythms):
        overdue_before, due_before = _cutoffs(max(every, 1), today)
        whens.append(When(every=every, last_at__lt=overdue_before, then=Value(OVERDUE)))
        whens.append(When(every=every, last_at__lt=due_before, then=Value(DUE)))
    return qs.annotate(state=Case(*whens, default=Value(DONE), output_field=CharField()))


def care_list(user, **filters) -> QuerySet[Resident]:
    """The people to look after that `user` may see (community_care_list's rows and filters).
    Grid leaders see their grid, and the people they are paired with themselves."""
    if not getattr(user, "is_authenticated", False) or user.community_id is None:
        return Resident.objects.none()
    scope = None
    if user.role == Role.GRID_LEADER:
        scope = Q(household__building__grid_id=user.grid_id) | Q(live__carer_id=user.pk)
    return community_care_list(user.community_id, scope=scope, **filters)


def community_care_list(
    community_id: int,
    *,
    scope: Q | None = None,
    state: str = "",
    grid_id: int | None = None,
    carer_id: int | None = None,
    carer_resident_id: int | None = None,
    unpaired: bool = False,
    q: str = "",
    today: dt.date | None = None,
) -> QuerySet[Resident]:
    """The community's people to look after (within `scope`, a filter on the rows), each
    annotated with `pairing_id`, `carer_id`, `carer_resident_id`, `every`, `last_at`,
    `last_outcome` and `state`, worst first."""
    today = today or timezone.localdate()
    policy = policy_for(community_id)
    qs = _base(community_id, policy)
    if scope is not None:
        qs = qs.filter(scope)
    qs = _with_state(qs, community_id, policy, today)
    if state in STATES:
        qs = qs.filter(state=state)
    if grid_id:
        qs = qs.filter(household__building__grid_id=grid_id)
    if carer_id:
        qs = qs.filter(live__carer_id=carer_id)
    if carer_resident_id:
        qs = qs.filter(live__carer_resident_id=carer_resident_id)
    if unpaired:
        qs = qs.filter(live__id__isnull=True)
    q = (q or "").strip()
    if q:
        qs = qs.filter(name__startswith=q)
    order = Case(
        When(state=OVERDUE, then=Value(0)),
        When(state=DUE, then=Value(1)),
        default=Value(2),
    )
    return qs.with_place().order_by(order, F("last_at").asc(nulls_first=True), "pk")


def counts(qs: QuerySet[Resident]) -> dict[str, int]:
    """How many of the list are overdue, due and done (one query)."""
    out = dict.fromkeys(STATES, 0)
    for row in qs.order_by().values("state").annotate(n=Count("pk")):
        out[row["state"]] = row["n"]
    out["total"] = sum(out[s] for s in STATES)
    return out


def person_for(user, pk, *, today: dt.date | None = None) -> Resident:
    """One person of the care list (annotated as care_list's rows); 404 outside the user's
    community or grid. A resident in scope but not on the list is returned too, with
    `on_list=False`, so staff can pair them."""
    found = care_list(user, today=today).filter(pk=_int(pk)).first()
    if found is not None:
        found.on_list = True
        return found
    grid = "household__building__grid_id"
    r = get_scoped(user, Resident.objects.with_place(), pk, grid_path=grid)
    r.on_list = False
    r.pairing_id = r.carer_id = r.carer_resident_id = None
    r.every = policy_for(r.community_id).every_days
    r.last_at = r.last_outcome = None
    r.state = ""
    return r


def _int(pk) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        return 0


def live_pairing(resident) -> Pairing | None:
    return (
        Pairing.objects.filter(resident=resident, ended_at__isnull=True)
        .select_related("carer", "carer_resident")
        .first()
    )


def follow_ups_of(resident, *, limit: int = 50) -> list[FollowUp]:
    return list(
        FollowUp.objects.filter(resident=resident)
        .select_related("by", "request", "pairing")
        .order_by("-at", "-pk")[:limit]
    )


def follow_up_for(user, pk) -> FollowUp:
    """A follow-up of a person the user may see (404 otherwise)."""
    return get_scoped(
        user,
        FollowUp.objects.select_related("resident", "household", "request"),
        pk,
        grid_path="household__building__grid_id",
    )


def with_carers(rows: list) -> list:
    """Set `carer_name` on annotated rows: two queries for the whole page, not one per row."""
    from shouwang.accounts.models import User

    users = {
        u.pk: u
        for u in User.objects.filter(pk__in={r.carer_id for r in rows if r.carer_id}).only(
            "pk", "username", "display_name"
        )
    }
    people = dict(
        Resident.objects.filter(
            pk__in={r.carer_resident_id for r in rows if r.carer_resident_id}
        ).values_list("pk", "name")
    )
    for r in rows:
        if r.carer_id and r.carer_id in users:
            u = users[r.carer_id]
            r.carer_name = u.label
        elif r.carer_resident_id:
            r.carer_name = people.get(r.carer_resident_id, "")
        else:
            r.carer_name = ""
    return rows


def days_since(at: dt.datetime | None, today: dt.date | None = None) -> int | None:
    if at is None:
        return None
    today = today or timezone.localdate()
    return (today - timezone.localdate(at)).days


def due_by_carer(community_id: int, *, today: dt.date | None = None) -> list[dict]:
    """The morning list (the CLI): for each carer, their people who are due or overdue."""
    rows = with_carers(list(community_care_list(community_id, today=today).exclude(state=DONE)))
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r.carer_name or "", []).append(r)
    return [{"carer": k, "people": v} for k, v in sorted(groups.items())]


def request_category(community_id: int, raw):
    """A help-line category of the community in use, from an id a user sent (None for none)."""
    from shouwang.helpline import selectors as helpline
    from shouwang.helpline.models import Category

    if raw in (None, ""):
        return None
    try:
        return helpline.categories_for(community_id).get(pk=int(raw))
    except (ValueError, TypeError, Category.DoesNotExist):
        raise invalid("category", _("Choose one of the categories in use.")) from None


def request_owner(community_id: int, raw):
    """Someone of the community who takes calls, from an id a user sent (None for none)."""
    from shouwang.helpline import selectors as helpline

    if raw in (None, ""):
        return None
    try:
        return helpline.duty_users(community_id).get(pk=int(raw))
    except (ValueError, TypeError, ObjectDoesNotExist):
        raise invalid(
            "owner", _("The owner must be someone of this community who takes calls.")
        ) from None
