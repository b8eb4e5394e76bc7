"""The delivery chain's pages and API: the board's next-step button and rest countdown, the
building volunteer's page (doors in order, tick, pickup code), the staff's open problems, the
merchant's dispatch (its own windows only), and the household's "I received it" and problem
report — itself or through a consented proxy."""

from __future__ import annotations

import pytest

from shouwang.core.testing import make_household, make_user
from shouwang.residents import services as resident_services
from shouwang.residents.models import BehalfAction
from shouwang.supplies.buying import delivery, services
from shouwang.supplies.buying.models import DeliveryBatch, Order, OrderProblem
from shouwang.supplies.buying.tests.builders import close, link, make_merchant, make_window
from shouwang.supplies.buying.tests.test_resident import msgs, page, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(window, products, ledger):
    c = products["cabbage"]
    building = ledger["h1"].building
    h9 = make_household(ledger["h1"].community, building=building, door="1201")
    h0 = make_household(ledger["h1"].community, building=building, door="302")
    out = {
        k: services.order_place(window=window, household=h, lines={c.pk: 1}).order
        for k, h in (("h1", ledger["h1"]), ("h9", h9), ("h0", h0), ("h3", ledger["h3"]))
    }
    close(window)
    return out


def to_released(window, actor):
    for step in ("dispatched", "arrived", "disinfected"):
        delivery.batch_step(actor=actor, window=window, step=step)
    delivery.batch_rest_set(actor=actor, batch=delivery.batch_of(window), minutes=0)
    return delivery.batch_step(actor=actor, window=window, step="released")


def board(window) -> str:
    return f"/buying/windows/{window.pk}/delivery/"


def test_the_board_walks_the_chain_with_one_button(client, personas, window, orders):
    volunteer = personas["volunteer"]
    volunteer.display_name = "陈志愿"
    volunteer.save(update_fields=["display_name"])
    client.force_login(volunteer)
    html = client.get(board(window)).content.decode()
    assert 'name="step" value="dispatched"' in html and "b-next" in html
    client.post(board(window) + "step/", {"step": "dispatched"})
    # The community's checkpoints are offered for "arrived at".
    from shouwang.checkpoints.models import Checkpoint

    Checkpoint.objects.create(community_id=window.community_id, name="东门卡口")
    html = client.get(board(window)).content.decode()
    assert 'list="b-checkpoints"' in html and '<option value="东门卡口">' in html
    client.post(board(window) + "step/", {"step": "arrived", "checkpoint": "东门"})
    resp = client.post(board(window) + "step/", {"step": "disinfected"}, follow=True)
    html = resp.content.decode()
    assert "东门" in html and "Resting until" in html and "b-countdown" in html
    assert "陈志愿" in html, "who did a step is shown by name, not by sign-in name"
    assert 'value="released"' in html and "disabled" in html
    resp = client.post(board(window) + "step/", {"step": "released"}, follow=True)
    assert "may be released at" in msgs(resp)[-1]
    assert DeliveryBatch.objects.get().released_at is None
    # A skipped step is refused with what comes first.
    b = DeliveryBatch.objects.get()
    DeliveryBatch.objects.filter(pk=b.pk).update(arrived_at=None, disinfected_at=None)
    resp = client.post(board(window) + "step/", {"step": "disinfected"}, follow=True)
    assert "first “Arrived at the checkpoint”" in msgs(resp)[-1]


def test_only_staff_change_the_rest(client, personas, window, orders):
    delivery.batch_step(actor=None, window=window, step="dispatched")
    client.force_login(personas["volunteer"])
    assert client.post(board(window) + "rest/", {"minutes": "10"}).status_code == 403
    client.force_login(personas["staff"])
    client.post(board(window) + "rest/", {"minutes": "10"})
    assert DeliveryBatch.objects.get().rest_minutes == 10


def test_building_page_doors_in_order_tick_and_code(client, personas, window, orders, ledger):
    b = ledger["h1"].building
    to_released(window, personas["staff"])
    client.force_login(personas["volunteer"])
    url = f"{board(window)}buildings/{b.pk}/"
    html = client.get(url).content.decode()
    assert "The goods are at the building" in html
    client.post(url + "arrived/", {"next": "building"})
    html = client.get(url).content.decode()
    assert html.index("101</b>") < html.index("302</b>") < html.index("1201</b>")
    for o in orders.values():  # the volunteer asks for the code: it is not on the page
        assert o.pickup_code not in html
    o1 = orders["h1"]
    client.post(f"/buying/orders/{o1.pk}/delivered/")
    assert Order.objects.get(pk=o1.pk).delivered_by == personas["volunteer"]
    resp = client.post(board(window) + "code/", {"code": "000000", "building": b.pk}, follow=True)
    assert "No order of this window has the pickup code 000000" in msgs(resp)[-1]
    resp = client.post(
        board(window) + "code/", {"code": orders["h9"].pickup_code, "building": b.pk}, follow=True
    )
    assert "Received: door 1201" in msgs(resp)[-1]
    resp = client.post(
        board(window) + "code/", {"code": orders["h9"].pickup_code, "building": b.pk}, follow=True
    )
    assert "confirmed its receipt already" in msgs(resp)[-1]
    assert Order.objects.get(pk=orders["h9"].pk).receipt_how == "code"
    # The board shows the building's progress and its volunteer.
    html = client.get(board(window)).content.decode()
    assert "1 at the door" not in html and "2 at the door · 1 received" in html
    assert "volunteer" in html


def test_volunteer_problem_and_staff_resolve(client, personas, window, orders, ledger):
    to_released(window, personas["staff"])
    delivery.building_arrived(actor=None, window=window, building=ledger["h1"].building)
    client.force_login(personas["volunteer"])
    o = orders["h0"]
    client.post(f"/buying/orders/{o.pk}/problem/", {"kind": "damaged", "note": "箱子压坏"})
    p = OrderProblem.objects.get()
    assert p.via == "staff" and p.reported_by == personas["volunteer"]
    assert client.get("/buying/problems/").status_code == 403
    client.force_login(personas["staff"])
    html = client.get("/buying/problems/").content.decode()
    assert "箱子压坏" in html and "302" in html and o.pickup_code in html
    client.post(f"/buying/problems/{p.pk}/resolve/", {"note": "商家补送一箱"})
    p.refresh_from_db()
    assert p.status == "resolved" and p.resolution == "商家补送一箱"
    assert "No open problem." in client.get("/buying/problems/").content.decode()


def test_grid_leader_sees_only_the_grids_problems(client, personas, window, orders):
    for k in ("h1", "h3"):
        delivery.problem_report(order=orders[k], kind="missing", note=f"少了{k}", via="household")
    client.force_login(personas["grid_leader"])
    html = client.get("/buying/problems/").content.decode()
    assert "少了h1" in html and "少了h3" not in html
    other = OrderProblem.objects.get(order=orders["h3"])
    assert client.post(f"/buying/problems/{other.pk}/resolve/").status_code == 404


def test_the_merchant_dispatches_its_own_windows_only(client, personas, window, orders):
    client.force_login(personas["merchant"])
    url = f"/merchant/windows/{window.pk}/"
    html = client.get(url).content.decode()
    assert f"/merchant/windows/{window.pk}/dispatch/" in html
    client.post(url + "dispatch/")
    b = DeliveryBatch.objects.get()
    assert b.dispatched_by == personas["merchant"]
    html = client.get(url).content.decode()
    assert "Dispatched by the merchant" in html and "dispatch/" not in html
    assert "Dispatched by the merchant" in client.get("/merchant/").content.decode()
    # Another merchant of the same community: 404 on our window, page and dispatch.
    rival = make_merchant(window.community, name="别家超市")
    other = make_user("merchant", window.community, username="rival")
    link(other, rival)
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.post(url + "dispatch/").status_code == 404
    theirs = make_window(rival)
    close(theirs)
    client.force_login(personas["merchant"])
    assert client.post(f"/merchant/windows/{theirs.pk}/dispatch/").status_code == 404
    assert not DeliveryBatch.objects.filter(window=theirs).exists()


def test_the_household_sees_its_chain_and_confirms(client, personas, window, orders, ledger):
    h = ledger["h1"]
    o = orders["h1"]
    sign_in(client, personas["staff"], h)
    html = client.get(page(h)).content.decode()
    assert "Where your order is" in html and "I received it" not in html
    received = f"/my/households/{h.pk}/buying/orders/{o.pk}/received/"
    resp = client.post(received, follow=True)
    assert "not been released" in msgs(resp)[-1]
    to_released(window, personas["staff"])
    delivery.building_arrived(actor=None, window=window, building=h.building)
    html = client.get(page(h)).content.decode()
    assert "At your building" in html and "I received it" in html
    resp = client.post(received, follow=True)
    assert "receipt is confirmed" in msgs(resp)[-1]
    o.refresh_from_db()
    assert o.receipt_how == "page" and o.receipt_by is None and o.delivered_at
    resp = client.post(received, follow=True)
    assert "confirmed already" in msgs(resp)[-1]
    assert "You confirmed receipt." in resp.content.decode()
    # Another household's session cannot confirm h1's order.
    sign_in(client, personas["staff"], ledger["h2"])
    assert client.post(received).status_code == 404


def test_the_household_reports_a_problem(client, personas, window, orders, ledger):
    h = ledger["h1"]
    o = orders["h1"]
    sign_in(client, personas["staff"], h)
    url = f"/my/households/{h.pk}/buying/orders/{o.pk}/problem/"
    resp = client.post(url, {"kind": "missing", "note": "少了一棵白菜"}, follow=True)
    assert "sent to the community office" in msgs(resp)[-1]
    p = OrderProblem.objects.get()
    assert p.via == "household" and p.consent is None and p.status == "open"
    assert "少了一棵白菜" in Order.objects.get(pk=o.pk).note
    resp = client.post(url, {"kind": "bogus"}, follow=True)
    assert "Choose what is wrong" in msgs(resp)[-1]


def test_a_consented_proxy_confirms_and_reports(client, personas, window, orders, ledger):
    h = ledger["h1"]
    o = orders["h1"]
    resident_services.consent_grant(
        actor=personas["admin"],
        household=h,
        relation="building_volunteer",
        granted_on=services.timezone.localdate(),
        proxy_user=personas["volunteer"],
    )
    to_released(window, personas["staff"])
    delivery.building_arrived(actor=None, window=window, building=h.building)
    client.force_login(personas["volunteer"])
    client.post(f"/my/households/{h.pk}/buying/orders/{o.pk}/problem/", {"kind": "wrong"})
    client.post(f"/my/households/{h.pk}/buying/orders/{o.pk}/received/")
    o.refresh_from_db()
    assert o.receipt_how == "proxy" and o.receipt_by == personas["volunteer"]
    assert o.receipt_consent_id
    p = OrderProblem.objects.get()
    assert p.via == "proxy" and p.consent_id and p.reported_by == personas["volunteer"]
    actions = set(BehalfAction.objects.filter(household=h).values_list("action", flat=True))
    assert {"buying.receipt", "buying.problem"} <= actions
    # No consent for h2's order: 404.
    o2 = services.Order.objects.filter(household=ledger["h3"]).first()
    hh = ledger["h3"]
    assert client.post(f"/my/households/{hh.pk}/buying/orders/{o2.pk}/received/").status_code == 404


def test_the_api_walks_the_chain(client, personas, window, orders, ledger):
    client.force_login(personas["staff"])
    api = f"/api/v1/buying/windows/{window.pk}/delivery"
    r = client.get(api).json()
    assert r["next_step"] == "dispatched" and not r["dispatched"]
    r = client.post(api + "/steps", {"step": "arrived"}, content_type="application/json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "step_order"
    for step in ("dispatched", "arrived", "disinfected"):
        r = client.post(
            api + "/steps", {"step": step, "checkpoint": "东门"}, content_type="application/json"
        )
        assert r.status_code == 200, r.content
    assert r.json()["checkpoint"] == "东门" and r.json()["rest_minutes"] == 120
    r = client.post(api + "/steps", {"step": "released"}, content_type="application/json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "resting"
    delivery.batch_rest_set(actor=None, batch=delivery.batch_of(window), minutes=0)
    client.post(api + "/steps", {"step": "released"}, content_type="application/json")
    b = ledger["h1"].building
    r = client.post(
        f"{api}/buildings/{b.pk}",
        {"volunteer_id": personas["volunteer"].pk},
        content_type="application/json",
    )
    assert r.json()["volunteer_id"] == personas["volunteer"].pk
    code = orders["h0"].pickup_code
    r = client.post(api + "/confirm", {"code": code}, content_type="application/json")
    assert r.json()["first"] is True and r.json()["receipt_how"] == "code"
    r = client.post(api + "/confirm", {"code": code}, content_type="application/json")
    assert r.json()["first"] is False
    r = client.post(api + "/confirm", {"code": "999999x"}, content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "wrong_code"
    r = client.post(f"/api/v1/buying/orders/{orders['h1'].pk}/delivered")
    assert r.json()["delivered_at"]
    r = client.post(
        f"/api/v1/buying/orders/{orders['h9'].pk}/problems",
        {"kind": "damaged", "note": "压坏"},
        content_type="application/json",
    )
    assert r.status_code == 201
    pid = r.json()["id"]
    assert [p["id"] for p in client.get("/api/v1/buying/problems").json()] == [pid]
    r = client.post(
        f"/api/v1/buying/problems/{pid}/resolve", {"note": "补送"}, content_type="application/json"
    )
    assert r.json()["status"] == "resolved"
    state = client.get(api).json()
    (row,) = [x for x in state["buildings"] if x["id"] == b.pk]
    assert (row["orders"], row["delivered"], row["received"]) == (3, 2, 1)
    assert state["step"] == "released" and state["next_step"] == ""
