"""The materials pages: the stock matrix with low-stock markers, the forms (one submission
counts once), refusals shown on the form, history filters and export, stock-takes, and who may
open what (grid leader views but does not write; another community's rows are 404)."""

import io

import pytest
from openpyxl import load_workbook

from shouwang.core.models import AuditEvent
from shouwang.supplies.materials import services
from shouwang.supplies.materials.models import Movement, StockTake
from shouwang.supplies.materials.tests.conftest import stock_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(admin, masks, gloves, office, gate):
    services.receipt(actor=admin, item=masks, location=office, quantity=15000, reference="捐赠")
    services.receipt(actor=admin, item=gloves, location=gate, quantity=40)
    return office


def test_index_shows_the_matrix_and_marks_low_items(client, admin, stocked, masks, gloves, gate):
    services.item_save(
        actor=admin, item=gloves, name=gloves.name, unit="pairs", location_thresholds={gate.pk: 50}
    )
    client.force_login(admin)
    resp = client.get("/materials/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "15000" in html and "医用外科口罩" in html
    assert f'data-low-item="{gloves.pk}"' in html and f'data-low-item="{masks.pk}"' not in html
    assert "1 item needs restocking" in html
    assert "东门卡口: 40 (alert at 50)" in html


def test_the_matrix_is_a_list_on_a_phone(client, admin, stocked):
    client.force_login(admin)
    html = client.get("/materials/").content.decode()
    # Below 640 px, app.css turns .reflow rows into cards labelled by data-label.
    assert 'class="data reflow mat-matrix"' in html
    assert 'data-label="社区办公室"' in html


def test_issue_form_posts_once_per_key_and_returns_to_the_form(client, admin, stocked, masks):
    client.force_login(admin)
    resp = client.get(f"/materials/issue/?item={masks.pk}&from_location={stocked.pk}")
    key = resp.context["form"].initial["request_key"]
    assert len(key) >= 16
    body = {
        "item": masks.pk,
        "from_location": stocked.pk,
        "quantity": 500,
        "recipient_kind": "team",
        "recipient_text": "第3网格",
        "request_key": key,
    }
    resp = client.post("/materials/issue/", body)
    assert resp.status_code == 302 and resp["Location"].startswith("/materials/issue/?item=")
    resp = client.post("/materials/issue/", body, follow=True)
    assert "already recorded" in resp.content.decode()
    assert stock_of(masks, stocked) == 14500
    assert Movement.objects.filter(kind="issue").count() == 1


def test_issue_beyond_stock_shows_what_is_there(client, admin, stocked, gloves, gate):
    client.force_login(admin)
    resp = client.post(
        "/materials/issue/",
        {
            "item": gloves.pk,
            "from_location": gate.pk,
            "quantity": 41,
            "recipient_kind": "checkpoint",
            "recipient_text": "东门夜班",
        },
    )
    assert resp.status_code == 200
    assert "Only 40 pairs of 丁腈手套 in stock at 东门卡口; you asked for 41." in (
        resp.content.decode()
    )
    assert stock_of(gloves, gate) == 40


def test_receipt_and_transfer_forms(client, admin, stocked, masks, gate):
    client.force_login(admin)
    r = client.post(
        "/materials/receive/",
        {"item": masks.pk, "to_location": gate.pk, "quantity": 100, "reference": "区里调拨"},
    )
    assert r.status_code == 302
    r = client.post(
        "/materials/transfer/",
        {"item": masks.pk, "from_location": stocked.pk, "to_location": gate.pk, "quantity": 900},
    )
    assert r.status_code == 302
    assert stock_of(masks, gate) == 1000 and stock_of(masks, stocked) == 14100


def test_item_and_place_forms(client, admin, office, gate):
    client.force_login(admin)
    r = client.post(
        "/materials/places/new/", {"name": "西门卡口", "kind": "checkpoint", "active": "on"}
    )
    assert r.status_code == 302
    r = client.post(
        "/materials/items/new/",
        {
            "name": "抗原检测试剂",
            "unit": "kits",
            "category": "antigen",
            "low_stock_threshold": 100,
            "active": "on",
            f"at_{gate.pk}": 20,
        },
    )
    assert r.status_code == 302
    r = client.post(
        "/materials/items/new/",
        {"name": "抗原检测试剂", "unit": "kits", "category": "antigen", "low_stock_threshold": 0},
    )
    assert r.status_code == 200 and "already exists" in r.content.decode()


def test_movement_history_filters_and_export(client, admin, stocked, masks, gloves, gate):
    services.issue(
        actor=admin,
        item=masks,
        location=stocked,
        quantity=200,
        recipient_kind="volunteer",
        recipient_text="张三志愿者",
    )
    client.force_login(admin)
    resp = client.get(f"/materials/movements/?item={masks.pk}&kind=issue")
    assert resp.status_code == 200
    assert list(resp.context["page"].object_list.values_list("quantity", flat=True)) == [200]
    resp = client.get(f"/materials/movements/?location={gate.pk}")
    assert [m.item_id for m in resp.context["page"].object_list] == [gloves.pk]
    resp = client.get("/materials/movements/?q=张三")
    assert resp.context["page"].paginator.count == 1
    resp = client.get(f"/materials/movements.xlsx?item={masks.pk}")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[2], r[4], r[8]) for r in rows] == [
        ("issue", "医用外科口罩", 200, "张三志愿者"),
        ("receipt", "医用外科口罩", 15000, None),
    ]
    assert AuditEvent.objects.filter(action="materials.movements.export").count() == 1


def test_stocktake_pages_show_differences_then_post_them(client, admin, stocked, masks, gloves):
    client.force_login(admin)
    r = client.post("/materials/stock-takes/", {"location": stocked.pk})
    st = StockTake.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/materials/stock-takes/{st.pk}/"
    r = client.post(
        f"/materials/stock-takes/{st.pk}/", {f"item_{masks.pk}": "14990", f"item_{gloves.pk}": ""}
    )
    assert r.status_code == 302
    html = client.get(f"/materials/stock-takes/{st.pk}/").content.decode()
    assert "-10" in html and "Finish and post differences" in html
    assert stock_of(masks, stocked) == 15000  # nothing changes before finishing
    r = client.post(f"/materials/stock-takes/{st.pk}/", {f"item_{masks.pk}": "-3"})
    assert r.status_code == 200 and "0 or more" in r.content.decode()
    r = client.post(f"/materials/stock-takes/{st.pk}/finish/", follow=True)
    assert "1 adjustment(s) posted" in r.content.decode()
    assert stock_of(masks, stocked) == 14990
    assert client.get(f"/materials/stock-takes/{st.pk}/").status_code == 200


def test_a_grid_leader_sees_stock_but_cannot_write(client, personas, stocked, masks):
    client.force_login(personas["grid_leader"])
    html = client.get("/materials/").content.decode()
    assert "15000" in html and "/materials/issue/" not in html
    assert client.get("/materials/movements/").status_code == 200
    for url in ("/materials/issue/", "/materials/receive/", "/materials/items/new/"):
        assert client.get(url).status_code == 403
    r = client.post(
        "/materials/issue/",
        {"item": masks.pk, "from_location": stocked.pk, "quantity": 1, "recipient_kind": "team"},
    )
    assert r.status_code == 403 and stock_of(masks, stocked) == 15000


def test_volunteers_and_guards_are_refused(client, personas):
    for who in ("volunteer", "guard", "resident", "merchant"):
        client.force_login(personas[who])
        assert client.get("/materials/").status_code == 403


def test_another_community_gets_404_for_our_rows(client, personas, stocked, masks):
    client.force_login(personas["outsider"])
    assert client.get(f"/materials/items/{masks.pk}/edit/").status_code == 404
    assert client.get(f"/materials/places/{stocked.pk}/edit/").status_code == 404
    html = client.get("/materials/").content.decode()
    assert "医用外科口罩" not in html
    # Our ids in their form are not choices: the form refuses, nothing moves.
    r = client.post(
        "/materials/issue/",
        {
            "item": masks.pk,
            "from_location": stocked.pk,
            "quantity": 1,
            "recipient_kind": "team",
            "recipient_text": "x",
        },
    )
    assert r.status_code == 200 and stock_of(masks, stocked) == 15000
