"""Acceptance: four eyes. A proposal takes effect only when a second user with the right role
approves it; self-approval, approval by a role without the right, approval of an expired proposal
and any change to the history — through the ORM or raw SQL — are refused. (The whole suite runs
on SQLite and on PostgreSQL.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from shouwang.control import levels, services
from shouwang.control.models import Control, HistoryEntry, HistoryEvent, ProposalStatus
from shouwang.core.errors import Conflict, Forbidden, NotFound

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2022, 4, 12, 9, 0, tzinfo=dt.UTC)


def _propose(actor, place, level="sealed", **kw):
    return services.proposal_create(
        actor=actor, place=place, level=level, reason="2例阳性", now=kw.pop("now", NOW), **kw
    )


def test_self_approval_is_refused(personas, places):
    admin = personas["admin"]
    p = _propose(admin, places["ba"])
    with pytest.raises(Forbidden) as e:
        services.proposal_approve(actor=admin, proposal=p, now=NOW)
    assert e.value.code == "control_self_approval"
    p.refresh_from_db()
    assert p.status == ProposalStatus.PENDING
    assert not Control.objects.exists()


def test_approval_by_a_role_without_the_right_is_refused(personas, places):
    p = _propose(personas["admin"], places["ba"])
    for role in ("staff", "grid_leader", "guard", "volunteer", "resident"):
        with pytest.raises(Forbidden):
            services.proposal_approve(actor=personas[role], proposal=p, now=NOW)
    assert not Control.objects.exists()
    p.refresh_from_db()
    assert p.status == ProposalStatus.PENDING


def test_approval_of_an_expired_proposal_is_refused_and_marks_it(personas, places):
    p = _propose(personas["staff"], places["ba"])
    later = NOW + dt.timedelta(hours=24, seconds=1)
    with pytest.raises(Conflict) as e:
        services.proposal_approve(actor=personas["admin"], proposal=p, now=later)
    assert e.value.code == "control_expired"
    p.refresh_from_db()
    assert p.status == ProposalStatus.EXPIRED
    assert not Control.objects.exists()
    # The expiry is recorded (once) even though the approval was refused.
    events = list(HistoryEntry.objects.order_by("pk").values_list("event", flat=True))
    assert events == [HistoryEvent.PROPOSED, HistoryEvent.EXPIRED]
    with pytest.raises(Conflict) as e:
        services.proposal_approve(actor=personas["admin"], proposal=p, now=later)
    assert e.value.code == "control_decided"
    assert HistoryEntry.objects.count() == 2


def test_a_decided_proposal_cannot_be_decided_again(personas, places, admin2):
    p = _propose(personas["staff"], places["ba"])
    services.proposal_approve(actor=personas["admin"], proposal=p, now=NOW)
    for actor in (personas["admin"], admin2):
        with pytest.raises(Conflict):
            services.proposal_approve(actor=actor, proposal=p, now=NOW)
        with pytest.raises(Conflict):
            services.proposal_reject(actor=actor, proposal=p, note="晚了", now=NOW)
    assert Control.objects.count() == 1


def test_another_communitys_admin_cannot_approve(personas, places):
    p = _propose(personas["staff"], places["ba"])
    with pytest.raises(NotFound):
        services.proposal_approve(actor=personas["outsider"], proposal=p, now=NOW)
    with pytest.raises(NotFound):
        services.proposal_get_for(personas["outsider"], p.pk)


def test_the_second_admin_approves_the_first_admins_proposal(personas, places, admin2):
    p = _propose(personas["admin"], places["ba"])
    out = services.proposal_approve(actor=admin2, proposal=p, now=NOW)
    assert out.control.level == "sealed"
    assert out.proposal.decided_by == admin2


def test_proposing_needs_the_right(personas, places):
    for role in ("guard", "volunteer", "resident", "sampler"):
        with pytest.raises(Forbidden):
            _propose(personas[role], places["ba"])
    with pytest.raises(NotFound):
        _propose(personas["outsider"], places["ba"])


# --- the history cannot be changed ------------------------------------------------------------


@pytest.fixture
def entry(personas, places):
    p = _propose(personas["staff"], places["ba"])
    services.proposal_approve(actor=personas["admin"], proposal=p, now=NOW)
    return HistoryEntry.objects.order_by("pk").first()


def _refused():
    return pytest.raises(DatabaseError, match="append-only")


def test_history_update_through_the_orm_is_refused(entry):
    with _refused(), transaction.atomic():
        HistoryEntry.objects.filter(pk=entry.pk).update(reason="改写")
    entry.reason = "改写"
    with _refused(), transaction.atomic():
        entry.save()
    assert HistoryEntry.objects.get(pk=entry.pk).reason == "2例阳性"


def test_history_delete_through_the_orm_is_refused(entry):
    n = HistoryEntry.objects.count()
    with _refused(), transaction.atomic():
        entry.delete()
    with _refused(), transaction.atomic():
        HistoryEntry.objects.all().delete()
    assert HistoryEntry.objects.count() == n


def test_history_update_and_delete_through_raw_sql_are_refused(entry):
    n = HistoryEntry.objects.count()
    with _refused(), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE control_historyentry SET level = %s WHERE id = %s", ["none", entry.pk])
    with _refused(), transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM control_historyentry")
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            # The test's rows have deferred foreign-key checks pending; TRUNCATE would refuse
            # for that reason instead of ours.
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with _refused(), transaction.atomic(), connection.cursor() as c:
            c.execute("TRUNCATE control_historyentry")
    assert HistoryEntry.objects.count() == n
    assert HistoryEntry.objects.get(pk=entry.pk).level == "sealed"


def test_history_still_takes_new_lines(entry, personas, places):
    n = HistoryEntry.objects.count()
    _propose(personas["staff"], places["bb"], level="precaution")
    assert HistoryEntry.objects.count() == n + 1


def test_levels_cache_is_forgotten_after_an_approval(
    personas, places, django_capture_on_commit_callbacks
):
    community_id = places["ba"].community_id
    assert levels.sealed_building_ids(community_id) == frozenset()
    p = _propose(personas["staff"], places["ba"], now=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_approve(actor=personas["admin"], proposal=p)
    assert levels.sealed_building_ids(community_id) == {places["ba"].pk}
