"""The pages: the office makes, previews and issues a batch; grid teams record doors on the
phone page (their grid only), print and export their list; the undelivered list; the household
page section."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from shouwang.core import testing as t
from shouwang.core.models import AuditEvent
from shouwang.residents import services as passes
from shouwang.residents.tokens import token_for
from shouwang.supplies.relief import services
from shouwang.supplies.relief.models import ReliefAllocation, ReliefBatch

from .conftest import fill

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def issued(personas, ledger, batch_of):
    batch = batch_of(portions_available=10)
    services.batch_issue(actor=personas["admin"], batch=batch)
    return batch


def test_office_makes_previews_and_issues_a_batch(client, personas, ledger, grid_a):
    client.force_login(personas["staff"])
    resp = client.post(
        reverse("relief:batch_new"),
        {
            "title": "第一批生活物资",
            "contents": "大米 5kg\n食用油 1L",
            "portions_available": "2",
            "per_household": "1",
            "large_threshold": "6",
            "large_portions": "2",
            "scope": "community",
            "extra_128": "1",
        },
    )
    batch = ReliefBatch.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse(
        "relief:preview", args=[batch.pk]
    )
    assert batch.tag_extras == {"128": 1}
    page = client.get(reverse("relief:preview", args=[batch.pk]), **EN).content.decode()
    assert "portions the rule gives" in page and "would be left out" in page  # 3 needed, 2 here
    resp = client.post(reverse("relief:issue", args=[batch.pk]), **EN)
    assert resp.status_code == 302
    assert ReliefBatch.objects.get().status == "draft"
    msgs = [str(m) for m in resp.wsgi_request._messages]
    assert any("confirm a partial issue" in m for m in msgs)
    resp = client.post(reverse("relief:issue", args=[batch.pk]), {"partial": "1"})
    assert resp["Location"] == reverse("relief:batch", args=[batch.pk])
    assert ReliefAllocation.objects.filter(batch=batch).count() == 2
    page = client.get(reverse("relief:batch", args=[batch.pk]), **EN).content.decode()
    assert grid_a.name in page and "Lists by grid" in page


def test_form_errors_come_back_on_the_form(client, personas, ledger):
    client.force_login(personas["admin"])
    resp = client.post(
        reverse("relief:batch_new"),
        {
            "title": "x",
            "portions_available": "5",
            "per_household": "2",
            "large_threshold": "6",
            "large_portions": "1",
            "scope": "grids",
        },
        **EN,
    )
    assert resp.status_code == 200
    assert "At least the portions per household." in resp.content.decode()
    assert not ReliefBatch.objects.exists()


def test_grid_leader_records_own_grid_and_gets_404_on_grid_b(
    client, personas, ledger, issued, grid_a, grid_b
):
    client.force_login(personas["grid_leader"])
    a1 = ReliefAllocation.objects.get(batch=issued, household=ledger["h1"])
    a3 = ReliefAllocation.objects.get(batch=issued, household=ledger["h3"])
    resp = client.post(reverse("relief:record", args=[a1.pk]), {"status": "delivered"})
    assert resp.status_code == 302
    a1.refresh_from_db()
    assert a1.status == "delivered" and a1.recorded_by == personas["grid_leader"]
    assert (
        client.post(reverse("relief:record", args=[a3.pk]), {"status": "delivered"}).status_code
        == 404
    )
    a3.refresh_from_db()
    assert a3.status == "pending"
    assert client.get(reverse("relief:grid", args=[issued.pk, grid_b.pk])).status_code == 404
    assert client.get(reverse("relief:grid", args=[issued.pk, 0])).status_code == 404
    page = client.get(reverse("relief:batch", args=[issued.pk]), **EN).content.decode()
    assert grid_a.name in page and grid_b.name not in page


def test_phone_page_lists_doors_with_masked_phones(client, personas, ledger, issued, grid_a):
    client.force_login(personas["grid_leader"])
    page = client.get(reverse("relief:grid", args=[issued.pk, grid_a.pk]), **EN).content.decode()
    assert "1单元 101" in page and "1单元 102" in page
    assert not t.shows_number(page, "201")  # grid B's door
    assert "139****5678" in page and "13912345678" not in page
    assert "王小明" not in page and "王小*" in page


def test_scan_a_pass_records_the_household_delivered(client, personas, ledger, issued, grid_a):
    p = passes.pass_issue(actor=personas["admin"], resident=ledger["r1b"])
    client.force_login(personas["grid_leader"])
    url = reverse("relief:scan", args=[issued.pk, grid_a.pk])
    resp = client.post(url, {"token": token_for(p.code)}, **EN)
    a1 = ReliefAllocation.objects.get(batch=issued, household=ledger["h1"])
    assert resp.status_code == 302 and f"found={a1.pk}" in resp["Location"]
    a1.refresh_from_db()
    assert a1.status == "delivered"
    # A household of grid B is not on grid A's list: nothing is recorded.
    p3 = passes.pass_issue(actor=personas["admin"], resident=ledger["r3"])
    resp = client.post(url, {"token": token_for(p3.code)}, **EN)
    msgs = [str(m) for m in resp.wsgi_request._messages]
    assert any("not on this grid's list" in m for m in msgs)
    assert ReliefAllocation.objects.get(batch=issued, household=ledger["h3"]).status == "pending"
    resp = client.post(url, {"token": "garbage"}, **EN)
    assert any("not a Shouwang pass" in str(m) for m in resp.wsgi_request._messages)


def test_print_page_and_excel(client, personas, ledger, issued, grid_a):
    client.force_login(personas["staff"])
    page = client.get(reverse("relief:print", args=[issued.pk, grid_a.pk]), **EN).content.decode()
    assert page.count("data-allocation=") == 2 and "Signature" in page
    assert "139****5678" in page
    resp = client.get(reverse("relief:xlsx", args=[issued.pk, grid_a.pk]), **EN)
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "1单元 101" in cells and "139****5678" in cells and "13912345678" not in cells
    assert AuditEvent.objects.filter(action="relief.export").count() == 1


def test_undelivered_list_and_follow_up(client, personas, ledger, issued):
    admin = personas["admin"]
    a1 = ReliefAllocation.objects.get(batch=issued, household=ledger["h1"])
    a2 = ReliefAllocation.objects.get(batch=issued, household=ledger["h2"])
    services.allocation_record(actor=admin, allocation=a1, status="delivered")
    services.allocation_record(actor=admin, allocation=a2, status="not_home")
    client.force_login(personas["grid_leader"])
    page = client.get(reverse("relief:undelivered", args=[issued.pk]), **EN).content.decode()
    assert f'id="a{a2.pk}"' in page and f'id="a{a1.pk}"' not in page
    assert not t.shows_number(page, "201")  # grid B's household is not the grid leader's
    client.post(reverse("relief:follow_up", args=[a2.pk]), {"follow_up": "电话联系，明早再送"})
    a2.refresh_from_db()
    assert a2.follow_up == "电话联系，明早再送"


def test_recount_page_and_issue_difference(client, personas, ledger, issued, community):
    newcomer = fill(t.make_household(community, building=ledger["h1"].building, door="109"), 2)
    client.force_login(personas["admin"])
    page = client.get(reverse("relief:recount", args=[issued.pk]), **EN).content.decode()
    assert "1单元 109" in page and "Issue the difference" in page
    client.post(reverse("relief:recount_issue", args=[issued.pk]))
    assert ReliefAllocation.objects.filter(batch=issued, household=newcomer).exists()


def test_staff_household_page_shows_the_allocations(client, personas, ledger, issued):
    client.force_login(personas["staff"])
    page = client.get(reverse("registry:household", args=[ledger["h1"].pk]), **EN).content.decode()
    assert 'id="relief"' in page and issued.title in page


def test_drafts_are_hidden_from_grid_leaders(client, personas, ledger, batch_of, issued):
    draft = batch_of(title="草稿批次")
    client.force_login(personas["grid_leader"])
    page = client.get(reverse("relief:index"), **EN).content.decode()
    assert issued.title in page and draft.title not in page


def test_closed_batch_refuses_records(client, personas, ledger, issued):
    client.force_login(personas["admin"])
    client.post(reverse("relief:close", args=[issued.pk]))
    a1 = ReliefAllocation.objects.get(batch=issued, household=ledger["h1"])
    resp = client.post(reverse("relief:record", args=[a1.pk]), {"status": "delivered"}, **EN)
    assert resp.status_code == 409 and "closed" in resp.content.decode()


def test_phone_page_shows_one_building_or_only_the_doors_left_and_keeps_it_after_a_tick(
    client, personas, ledger, community, grid_a, batch_of
):
    b2 = t.make_building(community, "华美小区", "2号楼", grid=grid_a)
    h = t.make_household(community, building=b2, door="301")
    t.make_resident(h, name="赵六", phone="+8613700001111")
    batch = batch_of(portions_available=10)
    services.batch_issue(actor=personas["admin"], batch=batch)
    client.force_login(personas["grid_leader"])
    url = reverse("relief:grid", args=[batch.pk, grid_a.pk])

    page = client.get(url, **EN).content.decode()
    assert "All buildings" in page and "1单元 101" in page and "1单元 301" in page
    page = client.get(url, {"building": b2.pk}, **EN).content.decode()
    assert "1单元 301" in page and "1单元 101" not in page

    a1 = ReliefAllocation.objects.get(batch=batch, household=ledger["h1"])
    resp = client.post(
        reverse("relief:record", args=[a1.pk]),
        {"status": "delivered", "building": str(a1.building_id), "todo": "1"},
    )
    assert resp["Location"] == f"{url}?building={a1.building_id}&todo=1#a{a1.pk}"
    page = client.get(url, {"todo": "1"}, **EN).content.decode()
    assert "1单元 101" not in page and "1单元 102" in page and "1单元 301" in page
    # Not at home is still to do (the team goes back); refused is not.
    a2 = ReliefAllocation.objects.get(batch=batch, household=ledger["h2"])
    services.allocation_record(actor=personas["admin"], allocation=a2, status="not_home")
    a3 = ReliefAllocation.objects.get(batch=batch, household=h)
    services.allocation_record(actor=personas["admin"], allocation=a3, status="refused")
    page = client.get(url, {"todo": "1"}, **EN).content.decode()
    assert "1单元 102" in page and "1单元 301" not in page
    # Anything else in the address is ignored, not passed on.
    page = client.get(url, {"building": "x", "todo": "yes"}, **EN).content.decode()
    assert "1单元 101" in page and "1单元 301" in page
    resp = client.post(
        reverse("relief:record", args=[a1.pk]), {"status": "pending", "building": "1 OR 1"}
    )
    assert resp["Location"] == f"{url}#a{a1.pk}"
