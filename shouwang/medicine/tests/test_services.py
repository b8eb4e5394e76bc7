"""The pipeline's rules: register (idempotent, from a help-line request), change, cancel; runs
on the hospital days; needs into a run (registered, same community, one live run); one stage at
a time; whole runs; taking a need out; settling; every step in the history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shouwang.core.errors import Conflict, DomainError, Forbidden
from shouwang.core.testing import make_user
from shouwang.helpline.testing import make_request
from shouwang.medicine import selectors, services
from shouwang.medicine.models import Need, NeedEvent, Run, RunStatus, Stage
from shouwang.medicine.tests.helpers_medicine import make_need, make_run, need_at

pytestmark = pytest.mark.django_db


def _register(actor, resident, **kw):
    return services.need_register(
        actor=actor, resident=resident, drug=kw.pop("drug", "二甲双胍"), quantity="3盒", **kw
    )


def test_register_writes_the_first_step(personas, ledger):
    n = _register(personas["staff"], ledger["r1"], dose="每日两次", prescription_needed=True)
    assert n.stage == Stage.REGISTERED
    assert n.household_id == ledger["h1"].pk
    assert n.created_by == personas["staff"]
    assert list(n.events.values_list("stage", flat=True)) == [Stage.REGISTERED]


def test_register_twice_with_one_key_makes_one_need(personas, ledger):
    a = _register(personas["staff"], ledger["r1"], client_key="k-1")
    b = _register(personas["staff"], ledger["r1"], client_key="k-1")
    assert a.pk == b.pk
    assert Need.objects.count() == 1


def test_register_from_a_helpline_request(personas, ledger, community):
    req = make_request(community, actor=personas["staff"], household=ledger["h1"])
    n = _register(personas["staff"], ledger["r1"], request=req)
    assert n.request == req
    assert list(req.medicine_needs.all()) == [n]


def test_register_refuses_empty_drug_and_moved_out(personas, ledger):
    with pytest.raises(DomainError) as e:
        _register(personas["staff"], ledger["r1"], drug="  ")
    assert "drug" in e.value.fields
    ledger["r2"].presence = "moved_out"
    ledger["r2"].save(update_fields=["presence"])
    with pytest.raises(DomainError) as e:
        _register(personas["staff"], ledger["r2"])
    assert "resident" in e.value.fields


def test_change_before_bought_only(personas, ledger):
    admin = personas["admin"]
    n = _register(admin, ledger["r1"])
    services.need_change(actor=admin, need=n, drug="二甲双胍缓释片", quantity="1盒")
    n.refresh_from_db()
    assert n.drug == "二甲双胍缓释片"
    assert "Changed" in n.events.last().text
    bought = need_at(Stage.BOUGHT, ledger["r1"], actor=admin)
    with pytest.raises(Conflict):
        services.need_change(actor=admin, need=bought, drug="x", quantity="1")


def test_cancel_needs_a_reason_and_leaves_the_run(personas, ledger):
    admin, leader = personas["admin"], personas["grid_leader"]
    n = need_at(Stage.IN_RUN, ledger["r1"], actor=admin)
    with pytest.raises(DomainError):
        services.need_cancel(actor=leader, need=n, reason="")
    services.need_cancel(actor=leader, need=n, reason="家属已买到")
    n.refresh_from_db()
    assert n.stage == Stage.CANCELLED
    assert n.events.last().text == "家属已买到"
    # Once bought, only the office cancels; once delivered, nobody.
    bought = need_at(Stage.BOUGHT, ledger["r1"], actor=admin)
    with pytest.raises(Forbidden):
        services.need_cancel(actor=leader, need=bought, reason="不要了")
    services.need_cancel(actor=admin, need=bought, reason="不要了")
    delivered = need_at(Stage.DELIVERED, ledger["r1"], actor=admin)
    with pytest.raises(Conflict):
        services.need_cancel(actor=admin, need=delivered, reason="x")


def test_hospital_runs_go_on_the_fixed_days(personas, community):
    admin = personas["admin"]
    services.policy_set(actor=admin, community_id=community.pk, hospital_days=[2, 5])
    days = selectors.next_hospital_days(community.pk, start=dt.date(2030, 1, 7))  # a Monday
    assert days == [
        dt.date(2030, 1, 8),
        dt.date(2030, 1, 11),
        dt.date(2030, 1, 15),
        dt.date(2030, 1, 18),
    ]
    with pytest.raises(DomainError) as e:
        services.run_create(
            actor=admin,
            community_id=community.pk,
            source="hospital",
            place="市第一医院",
            date=dt.date(2030, 1, 7),
        )
    assert "2030-01-08" in str(e.value.fields["date"])
    run = services.run_create(
        actor=admin,
        community_id=community.pk,
        source="hospital",
        place="市第一医院",
        date=dt.date(2030, 1, 8),
    )
    assert run.status == RunStatus.PLANNED
    # An extra trip, said so, may go on another day; a pharmacy run any day.
    services.run_create(
        actor=admin,
        community_id=community.pk,
        source="hospital",
        place="市第一医院",
        date=dt.date(2030, 1, 7),
        extra=True,
    )
    services.run_create(
        actor=admin,
        community_id=community.pk,
        source="pharmacy",
        place="益丰",
        date=dt.date(2030, 1, 7),
    )
    with pytest.raises(DomainError):
        services.run_create(
            actor=admin,
            community_id=community.pk,
            source="pharmacy",
            place="益丰",
            date=timezone.localdate() - dt.timedelta(days=1),
        )


def test_run_driver_must_deliver_in_this_community(personas, community):
    with pytest.raises(DomainError) as e:
        services.run_create(
            actor=personas["admin"],
            community_id=community.pk,
            source="pharmacy",
            place="益丰",
            date=timezone.localdate(),
            driver=personas["guard"],
        )
    assert "driver" in e.value.fields


def test_into_a_run_only_waiting_needs_of_the_community(personas, ledger, community):
    admin = personas["admin"]
    run = make_run(community, source="pharmacy")
    other = make_run(community, source="clinic")
    a, b = _register(admin, ledger["r1"]), _register(admin, ledger["r2"])
    assert services.run_add(actor=admin, run=run, needs=[a, b]) == 2
    a.refresh_from_db()
    assert (a.stage, a.run_id) == (Stage.IN_RUN, run.pk)
    assert a.events.last().stage == Stage.IN_RUN
    # A need is in one live run at most.
    with pytest.raises(Conflict):
        services.run_add(actor=admin, run=other, needs=[a])
    # Another community's need never goes in.
    foreign = make_need(ledger["ro"])
    with pytest.raises(DomainError):
        services.run_add(actor=admin, run=run, needs=[foreign])
    cancelled = _register(admin, ledger["r3"])
    services.need_cancel(actor=admin, need=cancelled, reason="x")
    with pytest.raises(Conflict):
        services.run_add(actor=admin, run=run, needs=[cancelled])
    # Nothing was half-done by the refused call.
    assert Need.objects.filter(run=other).count() == 0


def test_one_stage_at_a_time(personas, ledger):
    admin = personas["admin"]
    n = _register(admin, ledger["r1"])
    with pytest.raises(Conflict) as e:
        services.need_advance(actor=admin, need=n, to=Stage.BOUGHT)
    assert e.value.code == "not_in_run"
    run = make_run(ledger["r1"].community, source="pharmacy")
    services.run_add(actor=admin, run=run, needs=[n])
    with pytest.raises(Conflict) as e:
        services.need_advance(actor=admin, need=n, to=Stage.DELIVERED)
    assert e.value.code == "one_step"
    for s in (Stage.BOUGHT, Stage.PICKED_UP, Stage.DELIVERED):
        services.need_advance(actor=admin, need=n, to=s)
    # The same press again is a retry: nothing changes, no second event.
    services.need_advance(actor=admin, need=n, to=Stage.DELIVERED)
    assert list(n.events.values_list("stage", flat=True)) == [
        Stage.REGISTERED,
        Stage.IN_RUN,
        Stage.BOUGHT,
        Stage.PICKED_UP,
        Stage.DELIVERED,
    ]
    with pytest.raises(DomainError):
        services.need_advance(actor=admin, need=n, to=Stage.SETTLED)


def test_who_takes_which_step(personas, ledger, community):
    admin, vol, leader = personas["admin"], personas["volunteer"], personas["grid_leader"]
    other_vol = make_user("volunteer", community)
    run = make_run(community, source="pharmacy", driver=vol)
    n = need_at(Stage.IN_RUN, ledger["r3"], actor=admin, run=run)  # grid B
    # Buying is the office's.
    with pytest.raises(Forbidden):
        services.need_advance(actor=vol, need=n, to=Stage.BOUGHT)
    services.need_advance(actor=admin, need=n, to=Stage.BOUGHT)
    # Fetching: the run's driver yes, another volunteer or a grid leader of another grid no.
    with pytest.raises(Forbidden):
        services.need_advance(actor=other_vol, need=n, to=Stage.PICKED_UP)
    with pytest.raises(Forbidden):
        services.need_advance(actor=leader, need=n, to=Stage.PICKED_UP)
    services.need_advance(actor=vol, need=n, to=Stage.PICKED_UP)
    # The grid leader delivers their own grid's needs.
    mine = need_at(Stage.PICKED_UP, ledger["r1"], actor=admin, run=run)
    services.need_advance(actor=leader, need=mine, to=Stage.DELIVERED)
    with pytest.raises(Forbidden):
        services.need_settle(actor=vol, need=mine, amount="1", paid_by="resident")


def test_whole_run_moves_at_once_and_the_run_follows(personas, ledger, community):
    admin = personas["admin"]
    run = make_run(community, source="pharmacy")
    a = need_at(Stage.IN_RUN, ledger["r1"], actor=admin, run=run)
    b = need_at(Stage.IN_RUN, ledger["r2"], actor=admin, run=run)
    assert services.run_advance(actor=admin, run=run, to=Stage.BOUGHT) == 2
    assert services.run_advance(actor=admin, run=run, to=Stage.PICKED_UP) == 2
    run.refresh_from_db()
    assert run.status == RunStatus.OUT
    with pytest.raises(Conflict):
        services.run_advance(actor=admin, run=run, to=Stage.BOUGHT)
    assert services.run_advance(actor=admin, run=run, to=Stage.DELIVERED) == 2
    run.refresh_from_db()
    assert run.status == RunStatus.BACK
    services.need_settle(actor=admin, need=a, amount="20", paid_by="resident")
    services.need_settle(actor=admin, need=b, amount="¥15.5", paid_by="insurance", reimbursed=True)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    b.refresh_from_db()
    assert (b.amount, b.paid_by, b.reimbursed) == (Decimal("15.50"), "insurance", True)
    assert NeedEvent.objects.filter(need=a, text="The whole run").count() == 3


def test_take_out_of_a_run(personas, ledger, community):
    admin = personas["admin"]
    run = make_run(community, source="pharmacy")
    n = need_at(Stage.IN_RUN, ledger["r1"], actor=admin, run=run)
    services.run_remove(actor=admin, need=n, reason="改去医院")
    n.refresh_from_db()
    assert (n.stage, n.run_id) == (Stage.REGISTERED, None)
    assert "改去医院" in n.events.last().text
    # It may go into another run now.
    assert services.run_add(actor=admin, run=make_run(community), needs=[n]) == 1
    bought = need_at(Stage.BOUGHT, ledger["r2"], actor=admin, run=run)
    with pytest.raises(Conflict):
        services.run_remove(actor=admin, need=bought)


def test_settle_needs_delivery_amount_and_payer_and_can_be_corrected(personas, ledger):
    admin = personas["admin"]
    picked = need_at(Stage.PICKED_UP, ledger["r1"], actor=admin)
    with pytest.raises(Conflict):
        services.need_settle(actor=admin, need=picked, amount="10", paid_by="resident")
    n = need_at(Stage.DELIVERED, ledger["r1"], actor=admin)
    with pytest.raises(DomainError) as e:
        services.need_settle(actor=admin, need=n, amount="abc", paid_by="resident")
    assert "amount" in e.value.fields
    with pytest.raises(DomainError) as e:
        services.need_settle(actor=admin, need=n, amount="10", paid_by="nobody")
    assert "paid_by" in e.value.fields
    services.need_settle(actor=admin, need=n, amount="36.5", paid_by="community")
    services.need_settle(actor=admin, need=n, amount="36.5", paid_by="community")  # a retry
    services.need_settle(actor=admin, need=n, amount="36.5", paid_by="community", reimbursed=True)
    n.refresh_from_db()
    assert n.reimbursed
    texts = list(n.events.filter(stage=Stage.SETTLED).values_list("text", flat=True))
    assert len(texts) == 2 and texts[1].startswith("Settlement corrected")


def test_concurrent_runs_cannot_both_take_a_need(personas, ledger, community, db_file):
    from shouwang.core.testing import run_at_once

    admin = personas["admin"]
    n = _register(admin, ledger["r1"])
    runs = [make_run(community, source="pharmacy"), make_run(community, source="clinic")]

    def put(run):
        return services.run_add(actor=admin, run=Run.objects.get(pk=run.pk), needs=[n])

    results, refusals = run_at_once(db_file, put, runs)
    assert results == [1] and len(refusals) == 1
    assert Need.objects.get(pk=n.pk).stage == Stage.IN_RUN
