"""Reads of the medicine pipeline: which needs and runs a user may see, who may read a
psychiatric or chemotherapy drug name, the board by stage and the next hospital days.

Scope: every row is the user's community's; a grid leader sees the needs of their grid's
households (and the runs that carry one, or that they drive); a volunteer with medicine.deliver
only sees the runs they drive, and the needs on them.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.models import Role
from shouwang.accounts.permissions import CAPABILITIES, can
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.core.errors import Forbidden
from shouwang.medicine.models import FLOW, Kind, Need, Policy, Run, Stage

NEED_GRID = "household__building__grid_id"
# Stages of a need that is still on its way (not settled, not cancelled).
OPEN_STAGES = (Stage.REGISTERED, Stage.IN_RUN, Stage.BOUGHT, Stage.PICKED_UP, Stage.DELIVERED)
# A run is live while any of its needs still has to be bought, fetched or delivered.
LIVE_IN_RUN = (Stage.IN_RUN, Stage.BOUGHT, Stage.PICKED_UP)

# What a resident reads on their own page: where their medicine is, in plain words.
PLAIN_STAGE = {
    Stage.REGISTERED: _("Registered, waiting for a run"),
    Stage.IN_RUN: _("A run is planned"),
    Stage.BOUGHT: _("Bought, waiting to be fetched"),
    Stage.PICKED_UP: _("Bought, on its way to you"),
    Stage.DELIVERED: _("Delivered"),
    Stage.SETTLED: _("Delivered and settled"),
    Stage.CANCELLED: _("Cancelled"),
}


def policy_for(community_id: int) -> Policy:
    policy, _created = Policy.objects.get_or_create(community_id=community_id)
    return policy


def next_hospital_days(community_id: int, *, start: dt.date | None = None, n: int = 4):
    """The next `n` dates (from `start`, today by default, included) of the hospital run."""
    days = set(policy_for(community_id).days())
    day = start or timezone.localdate()
    out: list[dt.date] = []
    for _i in range(7 * n + 7):
        if day.isoweekday() in days:
            out.append(day)
            if len(out) == n:
                break
        day += dt.timedelta(days=1)
    return out


def is_driver_only(user) -> bool:
    """A deliverer who may not register needs (a volunteer): sees only the runs they drive."""
    return can(user, "medicine.deliver") and not can(user, "medicine.register")


def needs_for(user) -> QuerySet[Need]:
    qs = scope_queryset(user, Need.objects.all(), grid_path=NEED_GRID)
    if not getattr(user, "is_authenticated", False):
        return qs
    if is_driver_only(user):
        qs = qs.filter(run__driver=user)
    elif not can(user, "medicine.register"):
        qs = qs.none()
    return qs


def need_for(user, pk) -> Need:
    return get_scoped(
        user,
        needs_for(user).select_related(
            "resident",
            "household__dwelling__unit",
            "household__building__compound",
            "household__building__grid",
            "run",
            "created_by",
            "request",
        ),
        pk,
    )


def runs_for(user) -> QuerySet[Run]:
    qs = scope_queryset(user, Run.objects.all())
    if not getattr(user, "is_authenticated", False):
        return qs
    if is_driver_only(user):
        return qs.filter(driver=user)
    if not can(user, "medicine.deliver"):
        return qs.none()
    if user.role == Role.GRID_LEADER:
        theirs = Need.objects.filter(run=OuterRef("pk"), household__building__grid_id=user.grid_id)
        qs = qs.filter(Q(Exists(theirs)) | Q(driver=user))
    return qs


def run_for(user, pk) -> Run:
    return get_scoped(user, runs_for(user).select_related("driver"), pk)


def run_needs(user, run: Run) -> list[Need]:
    """The needs on a run the user may see, in door order (the driver's route). A grid leader
    who does not drive it sees their grid's; the driver and the office see all."""
    qs = Need.objects.filter(run=run)
    if user.role == Role.GRID_LEADER and run.driver_id != user.pk:
        qs = qs.filter(household__building__grid_id=user.grid_id)
    return list(
        qs.select_related(
            "resident",
            "run",
            "household__dwelling__unit",
            "household__building__compound",
        ).order_by(
            "household__building__compound__name",
            "household__building__name",
            "household__dwelling__unit__name",
            "household__dwelling__door",
            "pk",
        )
    )


def runs_listed(user, *, upcoming_only: bool = False) -> QuerySet[Run]:
    qs = runs_for(user).select_related("driver")
    qs = qs.annotate(
        n_needs=Count("needs", filter=~Q(needs__stage=Stage.CANCELLED)),
        n_open=Count("needs", filter=Q(needs__stage__in=LIVE_IN_RUN)),
    )
    if upcoming_only:
        qs = qs.filter(date__gte=timezone.localdate() - dt.timedelta(days=1))
    return qs.order_by("-date", "-pk")


def shows_drug(user, need: Need, *, run: Run | None = None) -> bool:
    """May `user` read this need's drug, dose and place? Sensitive kinds (psychiatric,
    chemotherapy) only to medicine.manage roles and to the driver on their run's list."""
    if not need.sensitive:
        return True
    if can(user, "medicine.manage"):
        return True
    return (
        run is not None
        and need.run_id == run.pk
        and run.driver_id is not None
        and run.driver_id == getattr(user, "pk", None)
    )


def require_may_change(user, need) -> None:
    """Psychiatric and chemotherapy needs are changed by the office only (those who see the
    drug); the page and the API both ask here."""
    if not shows_drug(user, need):
        raise Forbidden("sensitive", _("Only the office changes this kind of medicine."))


def shown(need: Need, full: bool) -> dict:
    """The need's drug, dose, place and note as the viewer may read them: the kind in their
    place for a sensitive need the viewer may not read."""
    if full or not need.sensitive:
        return {
            "drug": need.drug,
            "dose": need.dose,
            "place": need.place,
            "note": need.note,
            "hidden": False,
        }
    return {
        "drug": str(Kind(need.kind).label),
        "dose": "",
        "place": "",
        "note": "",
        "hidden": True,
    }


def board(user, *, stage="", kind="", source="", grid_id=None, q="", limit=300) -> dict:
    """The needs board: open needs by stage in the flow's order (settled and cancelled on
    request), each with what the viewer may read of it."""
    qs = needs_for(user).select_related(
        "resident", "household__dwelling__unit", "household__building__compound", "run"
    )
    if stage:
        qs = qs.filter(stage=stage)
    else:
        qs = qs.filter(stage__in=OPEN_STAGES)
    if kind:
        qs = qs.filter(kind=kind)
    if source:
        qs = qs.filter(source=source)
    if grid_id:
        qs = qs.filter(household__building__grid_id=grid_id)
    if q:
        qs = qs.filter(Q(resident__name__startswith=q) | Q(resident__phone_tail=q))
    rows = list(qs.order_by("needed_by", "created_at", "pk")[:limit])
    columns = []
    order = [*FLOW, Stage.CANCELLED]
    for s in order:
        items = [n for n in rows if n.stage == s]
        if stage and s != stage:
            continue
        if not stage and s in (Stage.SETTLED, Stage.CANCELLED):
            continue
        columns.append(
            {
                "stage": s,
                "label": Stage(s).label,
                "needs": [{"need": n, **shown(n, shows_drug(user, n))} for n in items],
            }
        )
    counts = dict(
        needs_for(user).values_list("stage").annotate(n=Count("id")).values_list("stage", "n")
    )
    return {"columns": columns, "counts": counts, "total": len(rows)}


def flow_steps(need: Need) -> list[dict]:
    """The flow drawn as steps for one need: done, current, to come."""
    if need.stage == Stage.CANCELLED:
        reached = {e.stage for e in need.events.all()}
        return [
            {"stage": s, "label": Stage(s).label, "state": "done" if s in reached else "todo"}
            for s in FLOW
        ]
    at = FLOW.index(need.stage)
    return [
        {
            "stage": s,
            "label": Stage(s).label,
            "state": "done" if i < at else ("current" if i == at else "todo"),
        }
        for i, s in enumerate(FLOW)
    ]


def registered_needs(user, *, community_id: int, source: str = "") -> list[Need]:
    """Needs waiting for a run (the run page's "add" list)."""
    qs = needs_for(user).filter(community_id=community_id, stage=Stage.REGISTERED, run__isnull=True)
    rows = list(
        qs.select_related("resident", "household__dwelling__unit", "household__building").order_by(
            "needed_by", "created_at", "pk"
        )[:300]
    )
    # The run's own source first: a clinic run takes the clinic's needs.
    return sorted(rows, key=lambda n: n.source != source) if source else rows


def drivers_for(community_id: int) -> QuerySet:
    """Who may drive a run: the community's active users whose role delivers medicine."""
    from shouwang.accounts.models import User

    return User.objects.filter(
        community_id=community_id,
        is_active=True,
        role__in=sorted(CAPABILITIES["medicine.deliver"]),
    ).order_by("role", "username")


def household_needs(household, *, only_resident: int | None = None, days: int = 60) -> list:
    """A household's needs for its page: open ones and those closed in the last `days`."""
    since = timezone.now() - dt.timedelta(days=days)
    qs = Need.objects.filter(household=household).filter(
        Q(stage__in=OPEN_STAGES) | Q(updated_at__gte=since)
    )
    if only_resident:
        qs = qs.filter(resident_id=only_resident)
    return list(qs.select_related("resident", "run").order_by("-created_at", "-pk")[:50])


def upcoming_runs(community_id: int, *, start: dt.date, days: int = 7) -> list[dict]:
    """The runs from `start` for `days` days with their needs counted by stage, and how many
    needs still wait for a run (for the morning's command)."""
    runs = list(
        Run.objects.filter(
            community_id=community_id,
            date__gte=start,
            date__lt=start + dt.timedelta(days=days),
        )
        .select_related("driver")
        .order_by("date", "pk")
    )
    counts: dict[int, dict[str, int]] = {}
    for run_id, stage, n in (
        Need.objects.filter(run__in=runs)
        .values_list("run_id", "stage")
        .annotate(n=Count("id"))
        .values_list("run_id", "stage", "n")
    ):
        counts.setdefault(run_id, {})[stage] = n
    return [{"run": r, "stages": counts.get(r.pk, {})} for r in runs]


def waiting_count(community_id: int) -> int:
    return Need.objects.filter(
        community_id=community_id, stage=Stage.REGISTERED, run__isnull=True
    ).count()
