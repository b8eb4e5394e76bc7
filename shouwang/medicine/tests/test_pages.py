"""The pages: the board by stage with the flow, registering for a resident found by name or
phone tail, a need's page and its buttons, runs, the driver's printed list, settling."""

from __future__ import annotations

import pytest

from shouwang.core.testing import make_user
from shouwang.medicine.models import Need, Stage
from shouwang.medicine.tests.helpers_medicine import make_run, need_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, personas):
    client.force_login(personas["admin"])
    return client


def test_board_groups_open_needs_by_stage(admin_client, personas, ledger):
    admin = personas["admin"]
    need_at(Stage.REGISTERED, ledger["r1"], actor=admin, drug="阿司匹林")
    need_at(Stage.BOUGHT, ledger["r2"], actor=admin, drug="氨氯地平")
    settled = need_at(Stage.SETTLED, ledger["r3"], actor=admin, drug="已结药")
    html = admin_client.get("/medicine/").content.decode()
    assert 'id="stage-registered"' in html and 'id="stage-bought"' in html
    reg = html.index('id="stage-registered"')
    bought = html.index('id="stage-bought"')
    assert reg < html.index("阿司匹林") < bought < html.index("氨氯地平")
    assert settled.drug not in html  # settled ones only when asked for
    html = admin_client.get("/medicine/?stage=settled").content.decode()
    assert settled.drug in html and "阿司匹林" not in html


def test_board_filters_by_grid_and_kind(admin_client, personas, ledger, grid_b):
    admin = personas["admin"]
    need_at(Stage.REGISTERED, ledger["r1"], actor=admin, drug="甲药", kind="cardiac")
    need_at(Stage.REGISTERED, ledger["r3"], actor=admin, drug="乙药")
    html = admin_client.get(f"/medicine/?grid={grid_b.pk}").content.decode()
    assert "乙药" in html and "甲药" not in html
    html = admin_client.get("/medicine/?kind=cardiac").content.decode()
    assert "甲药" in html and "乙药" not in html


def test_grid_leader_sees_their_grid_only(client, personas, ledger):
    admin = personas["admin"]
    need_at(Stage.REGISTERED, ledger["r1"], actor=admin, drug="甲药")
    need_at(Stage.REGISTERED, ledger["r3"], actor=admin, drug="乙药")
    client.force_login(personas["grid_leader"])
    html = client.get("/medicine/").content.decode()
    assert "甲药" in html and "乙药" not in html


def test_register_by_phone_tail_then_form(admin_client, ledger):
    html = admin_client.get("/medicine/needs/new/?q=5678").content.decode()
    assert ledger["r1"].name in html and ledger["r3"].name not in html
    r1 = ledger["r1"]
    assert f"?resident={r1.pk}" in html
    html = admin_client.get(f"/medicine/needs/new/?resident={r1.pk}").content.decode()
    assert 'name="client_key"' in html
    body = {
        "resident": r1.pk,
        "client_key": "form-1",
        "drug": "缬沙坦",
        "quantity": "2盒",
        "kind": "chronic",
        "source": "clinic",
    }
    resp = admin_client.post("/medicine/needs/new/", body)
    n = Need.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/medicine/needs/{n.pk}/"
    admin_client.post("/medicine/needs/new/", body)  # the double click
    assert Need.objects.count() == 1
    resp = admin_client.post("/medicine/needs/new/", {**body, "client_key": "2", "quantity": ""})
    assert resp.status_code == 200 and Need.objects.count() == 1


def test_register_from_the_household_page_lists_its_members(admin_client, ledger):
    html = admin_client.get(f"/medicine/needs/new/?household={ledger['h1'].pk}").content.decode()
    assert ledger["r1"].name in html and ledger["r1b"].name in html
    assert ledger["r2"].name not in html


def test_need_page_shows_the_flow_and_moves_it(admin_client, personas, ledger):
    n = need_at(Stage.IN_RUN, ledger["r1"], actor=personas["admin"])
    html = admin_client.get(f"/medicine/needs/{n.pk}/").content.decode()
    assert 'class="is-current" aria-current="step">In a run' in html
    assert html.count('class="is-done"') == 1
    resp = admin_client.post(f"/medicine/needs/{n.pk}/advance/", {"to": "bought"})
    assert resp.status_code == 302
    n.refresh_from_db()
    assert n.stage == Stage.BOUGHT
    # A step out of order is a message, not a crash.
    resp = admin_client.post(f"/medicine/needs/{n.pk}/advance/", {"to": "delivered"}, follow=True)
    assert "one stage at a time" in resp.content.decode()


def test_cancel_from_the_page(admin_client, personas, ledger):
    n = need_at(Stage.REGISTERED, ledger["r1"], actor=personas["admin"])
    admin_client.post(f"/medicine/needs/{n.pk}/cancel/", {"reason": "住院了"})
    n.refresh_from_db()
    assert n.stage == Stage.CANCELLED
    html = admin_client.get(f"/medicine/needs/{n.pk}/").content.decode()
    assert "住院了" in html


def test_run_page_adds_waiting_needs_and_moves_the_run(admin_client, personas, ledger, community):
    admin = personas["admin"]
    run = make_run(community, source="pharmacy", place="益丰大药房")
    a = need_at(Stage.REGISTERED, ledger["r1"], actor=admin, drug="甲药", source="pharmacy")
    html = admin_client.get(f"/medicine/runs/{run.pk}/").content.decode()
    assert "Waiting for a run" in html and f'value="{a.pk}" checked' in html
    admin_client.post(f"/medicine/runs/{run.pk}/add/", {"need": [a.pk]})
    a.refresh_from_db()
    assert a.run_id == run.pk
    resp = admin_client.post(f"/medicine/runs/{run.pk}/advance/", {"to": "bought"})
    assert resp.status_code == 302
    a.refresh_from_db()
    assert a.stage == Stage.BOUGHT
    assert "益丰大药房" in admin_client.get("/medicine/runs/").content.decode()


def test_new_run_offers_the_hospital_days(admin_client):
    html = admin_client.get("/medicine/runs/new/").content.decode()
    assert "Next hospital days" in html
    assert html.count("?source=hospital&amp;date=") == 4


def test_printed_list_masks_names_and_phones(client, personas, ledger, community):
    admin, vol = personas["admin"], personas["volunteer"]
    run = make_run(community, source="pharmacy", place="益丰大药房", driver=vol)
    need_at(
        Stage.IN_RUN, ledger["r1"], actor=admin, run=run, drug="缬沙坦", prescription_needed=True
    )
    client.force_login(vol)
    html = client.get(f"/medicine/runs/{run.pk}/print/").content.decode()
    assert "王**" in html and "王小明" not in html
    assert "139****5678" in html and "13912345678" not in html
    assert "华美小区 1号楼" in html and "101" in html
    assert "缬沙坦" in html and "☐" in html and "window.print()" in html


def test_volunteer_sees_only_the_runs_they_drive(client, personas, ledger, community):
    admin, vol = personas["admin"], personas["volunteer"]
    mine = make_run(community, source="pharmacy", place="我的药房", driver=vol)
    other = make_run(
        community, source="pharmacy", place="别人的药房", driver=make_user("volunteer", community)
    )
    need_at(Stage.BOUGHT, ledger["r1"], actor=admin, run=mine)
    client.force_login(vol)
    html = client.get("/medicine/").content.decode()
    assert "我的药房" in html and "别人的药房" not in html
    assert client.get(f"/medicine/runs/{other.pk}/").status_code == 404
    assert client.get(f"/medicine/runs/{mine.pk}/").status_code == 200
    # The driver fetches on their run.
    resp = client.post(f"/medicine/runs/{mine.pk}/advance/", {"to": "picked_up"})
    assert resp.status_code == 302
    assert Need.objects.get(run=mine).stage == Stage.PICKED_UP


def test_settle_form(admin_client, personas, ledger):
    n = need_at(Stage.DELIVERED, ledger["r1"], actor=personas["admin"])
    resp = admin_client.post(
        f"/medicine/needs/{n.pk}/settle/", {"amount": "abc", "paid_by": "resident"}
    )
    assert resp.status_code == 200 and "Type the amount" in resp.content.decode()
    resp = admin_client.post(
        f"/medicine/needs/{n.pk}/settle/",
        {"amount": "42.00", "paid_by": "insurance", "reimbursed": "on"},
    )
    assert resp.status_code == 302
    n.refresh_from_db()
    assert (n.stage, str(n.amount), n.paid_by, n.reimbursed) == (
        Stage.SETTLED,
        "42.00",
        "insurance",
        True,
    )


def test_policy_page_sets_the_hospital_days(admin_client, community):
    from shouwang.medicine.selectors import policy_for

    resp = admin_client.post("/medicine/policy/", {"hospital_days": ["1", "4"]})
    assert resp.status_code == 302
    assert policy_for(community.pk).days() == [1, 4]
    resp = admin_client.post("/medicine/policy/", {})
    assert resp.status_code == 200


def test_register_from_a_helpline_request(admin_client, personas, ledger, community):
    from shouwang.helpline.testing import make_request

    req = make_request(community, actor=personas["admin"], household=ledger["h1"])
    html = admin_client.get(f"/medicine/needs/new/?request={req.pk}").content.decode()
    assert ledger["r1"].name in html and f"request={req.pk}" in html
    admin_client.post(
        "/medicine/needs/new/",
        {
            "resident": ledger["r1"].pk,
            "request": req.pk,
            "drug": "缬沙坦",
            "quantity": "2盒",
            "kind": "chronic",
            "source": "clinic",
        },
    )
    assert Need.objects.get().request == req
