"""The delivery chain's rules: steps in order only, idempotent, the rest policy (fixed `now`),
the building and the door, receipt by pickup code and on the household's page, problems."""

from __future__ import annotations

import datetime as dt

import pytest

from shouwang.core.audit import AuditEvent
from shouwang.core.errors import Conflict, DomainError
from shouwang.supplies.buying import delivery, services
from shouwang.supplies.buying.models import DeliveryBatch, Order, OrderProblem
from shouwang.supplies.buying.tests.builders import HOUR, close

pytestmark = pytest.mark.django_db

# A fixed `now` after the window has closed (the fixture window closes within hours).
T0 = services.timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=1)


@pytest.fixture
def orders(window, products, ledger):
    c = products["cabbage"]
    out = {
        k: services.order_place(window=window, household=ledger[k], lines={c.pk: 1}).order
        for k in ("h1", "h2", "h3")
    }
    close(window)
    return out


def released(window, staff, *, at=T0):
    for step in ("dispatched", "arrived", "disinfected"):
        delivery.batch_step(actor=staff, window=window, step=step, checkpoint="东门", now=at)
    return delivery.batch_step(
        actor=staff, window=window, step="released", now=at + dt.timedelta(hours=2)
    )


def test_steps_go_in_order_and_skipping_says_what_comes_first(window, orders, personas):
    staff = personas["staff"]
    with pytest.raises(Conflict) as e:
        delivery.batch_step(actor=staff, window=window, step="arrived", now=T0)
    assert e.value.code == "step_order" and "dispatched first" in str(e.value.message)
    b = delivery.batch_step(actor=personas["merchant"], window=window, step="dispatched", now=T0)
    assert b.dispatched_by == personas["merchant"] and b.step == "dispatched"
    with pytest.raises(Conflict) as e:
        delivery.batch_step(actor=staff, window=window, step="released", now=T0)
    assert "first “Arrived at the checkpoint”" in str(e.value.message)
    b = delivery.batch_step(
        actor=staff, window=window, step="arrived", checkpoint=" 东门  卡口 ", now=T0
    )
    assert b.checkpoint == "东门 卡口" and b.arrived_at == T0 and b.next_step == "disinfected"
    assert AuditEvent.objects.filter(action="buying.delivery.arrived").count() == 1


def test_a_window_still_open_cannot_be_dispatched(window, products, personas):
    with pytest.raises(Conflict) as e:
        delivery.batch_step(actor=personas["merchant"], window=window, step="dispatched")
    assert e.value.code == "window_open" and not DeliveryBatch.objects.exists()


def test_a_done_step_again_returns_it_unchanged(window, orders, personas):
    staff = personas["staff"]
    first = delivery.batch_step(actor=staff, window=window, step="dispatched", now=T0)
    again = delivery.batch_step(
        actor=personas["admin"], window=window, step="dispatched", now=T0 + HOUR
    )
    assert again.pk == first.pk and again.dispatched_at == T0 and again.dispatched_by == staff
    assert DeliveryBatch.objects.count() == 1
    assert AuditEvent.objects.filter(action="buying.delivery.dispatched").count() == 1


def test_release_waits_for_the_rest_policy(window, orders, personas):
    staff = personas["staff"]
    for step in ("dispatched", "arrived"):
        delivery.batch_step(actor=staff, window=window, step=step, now=T0)
    b = delivery.batch_step(actor=staff, window=window, step="disinfected", now=T0)
    assert b.rest_minutes == 120 and b.rest_until == T0 + 2 * HOUR
    with pytest.raises(Conflict) as e:
        delivery.batch_step(
            actor=staff, window=window, step="released", now=T0 + 119 * 60 * dt.timedelta(seconds=1)
        )
    assert e.value.code == "resting"
    local = services.timezone.localtime(T0 + 2 * HOUR).strftime("%m-%d %H:%M")
    assert local in str(e.value.message)
    # Staff shorten the rest: release follows the new time.
    b = delivery.batch_rest_set(actor=staff, batch=b, minutes=30)
    assert b.rest_until == T0 + dt.timedelta(minutes=30)
    b = delivery.batch_step(
        actor=staff, window=window, step="released", now=T0 + dt.timedelta(minutes=30)
    )
    assert b.released_at == T0 + dt.timedelta(minutes=30) and b.next_step == ""
    with pytest.raises(Conflict):
        delivery.batch_rest_set(actor=staff, batch=b, minutes=60)


def test_the_merchants_rest_policy_starts_the_batch(window, orders, personas, merchant):
    merchant.rest_minutes = 180
    merchant.save()
    window.refresh_from_db()
    b = delivery.batch_step(actor=personas["staff"], window=window, step="dispatched", now=T0)
    assert b.rest_minutes == 180
    with pytest.raises(DomainError):
        delivery.batch_rest_set(actor=personas["staff"], batch=b, minutes=5000)


def test_building_and_door_need_the_steps_before(window, orders, personas, ledger):
    staff, vol = personas["staff"], personas["volunteer"]
    o1 = orders["h1"]
    building = ledger["h1"].building
    delivery.batch_step(actor=staff, window=window, step="dispatched", now=T0)
    with pytest.raises(Conflict) as e:
        delivery.building_arrived(actor=vol, window=window, building=building)
    assert "release it first" in str(e.value.message)
    released(window, staff)
    with pytest.raises(Conflict) as e:
        delivery.order_delivered(actor=vol, order=o1)
    assert "mark the building first" in str(e.value.message)
    bb = delivery.building_arrived(actor=staff, window=window, building=building, volunteer=vol)
    assert bb.volunteer == vol and bb.at_building_by == staff
    again = delivery.building_arrived(actor=personas["admin"], window=window, building=building)
    assert again.at_building_at == bb.at_building_at and again.volunteer == vol
    o = delivery.order_delivered(actor=vol, order=o1)
    t = o.delivered_at
    assert t and o.delivered_by == vol
    assert delivery.order_delivered(actor=staff, order=o1).delivered_at == t
    # h3 lives in another building, not reached yet.
    with pytest.raises(Conflict):
        delivery.order_delivered(actor=vol, order=orders["h3"])


def test_pickup_code_right_wrong_and_twice(window, orders, personas, ledger):
    staff, vol = personas["staff"], personas["volunteer"]
    released(window, staff)
    delivery.building_arrived(actor=vol, window=window, building=ledger["h1"].building)
    o1 = orders["h1"]
    with pytest.raises(DomainError) as e:
        delivery.receipt_by_code(actor=vol, window=window, code="1234567")
    assert e.value.code == "wrong_code" and "1234567" in str(e.value.message)
    with pytest.raises(DomainError) as e:
        delivery.receipt_by_code(actor=vol, window=window, code="")
    assert e.value.code == "invalid"
    # h3's code in h1's building: refused, and h3's building is not reached anyway.
    with pytest.raises(DomainError) as e:
        delivery.receipt_by_code(
            actor=vol,
            window=window,
            code=orders["h3"].pickup_code,
            building_id=ledger["h1"].building_id,
        )
    assert e.value.code == "wrong_building"
    c = delivery.receipt_by_code(
        actor=vol, window=window, code=f" {o1.pickup_code[:3]} {o1.pickup_code[3:]}"
    )
    assert c.first and c.order.pk == o1.pk and c.order.receipt_how == "code"
    assert c.order.receipt_by == vol and c.order.delivered_at == c.order.receipt_at
    again = delivery.receipt_by_code(actor=staff, window=window, code=o1.pickup_code)
    assert not again.first and again.order.receipt_at == c.order.receipt_at
    assert again.order.receipt_by == vol
    assert AuditEvent.objects.filter(action="buying.delivery.receipt").count() == 1


def test_a_code_of_another_window_is_not_found(window, orders, personas, merchant, ledger):
    from shouwang.supplies.buying.tests.builders import make_window

    released(window, personas["staff"])
    other = make_window(merchant, title="另一期")
    with pytest.raises(DomainError) as e:
        delivery.receipt_by_code(actor=None, window=other, code=orders["h1"].pickup_code)
    assert e.value.code == "wrong_code"


def test_receipt_before_the_building_is_refused(window, orders, personas):
    released(window, personas["staff"])
    with pytest.raises(Conflict):
        delivery.receipt_confirm(order=orders["h1"], how="page")
    assert Order.objects.get(pk=orders["h1"].pk).receipt_at is None


def test_a_problem_is_a_note_and_an_open_request(window, orders, personas):
    o = orders["h2"]
    with pytest.raises(DomainError):
        delivery.problem_report(order=o, kind="other", note="  ", via="household")
    p = delivery.problem_report(order=o, kind="damaged", note="鸡蛋碎了两个", via="household")
    assert p.status == "open" and p.reported_by is None
    assert Order.objects.get(pk=o.pk).note == "[damaged] 鸡蛋碎了两个"
    delivery.problem_report(
        order=o, kind="missing", note="少一棵白菜", via="staff", actor=personas["volunteer"]
    )
    note = Order.objects.get(pk=o.pk).note
    assert "鸡蛋碎了两个" in note and "[something is missing] 少一棵白菜" in note
    assert len(delivery.open_problems(Order.objects.all())) == 2
    r = delivery.problem_resolve(actor=personas["staff"], problem=p, resolution="商家补送")
    assert r.status == "resolved" and r.resolved_by == personas["staff"]
    assert delivery.problem_resolve(actor=personas["admin"], problem=p).resolution == "商家补送"
    assert [x.kind for x in delivery.open_problems(Order.objects.all())] == ["missing"]
    assert OrderProblem.objects.count() == 2


def test_problems_wait_for_the_window_to_close(window, products, ledger):
    o = services.order_place(
        window=window, household=ledger["h1"], lines={products["cabbage"].pk: 1}
    ).order
    with pytest.raises(Conflict):
        delivery.problem_report(order=o, kind="missing", via="household")


def test_the_households_chain_reads_step_by_step(window, orders, personas, ledger):
    o = orders["h1"]
    chain = delivery.order_chain(o, None, None)
    assert [s["done"] for s in chain["steps"]][:2] == [True, False]
    assert not chain["can_confirm"]
    staff = personas["staff"]
    for step in ("dispatched", "arrived", "disinfected"):
        delivery.batch_step(actor=staff, window=window, step=step, now=T0)
    b = DeliveryBatch.objects.get()
    labels = [str(s["label"]) for s in delivery.order_chain(o, b, None)["steps"]]
    assert any(x.startswith("Resting until") for x in labels)
    released(window, staff)
    bb = delivery.building_arrived(actor=staff, window=window, building=ledger["h1"].building)
    b.refresh_from_db()
    chain = delivery.order_chain(o, b, bb)
    assert chain["can_confirm"] and chain["steps"][-1]["label"] == "Received"
