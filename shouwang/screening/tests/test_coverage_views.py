"""Coverage pages and API: the round's table (and its live fragment), a building's doors, the
missing list and call list export, notices without names or phones, progress, the roll-up."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from shouwang.core.models import AuditEvent
from shouwang.screening.tests.test_coverage import make_round, sample


@pytest.fixture
def rnd(ledger):
    r = make_round(ledger["h1"].community)
    sample(r, ledger["r1"])
    return r


def test_coverage_page_and_live_fragment(client, rnd, personas):
    client.force_login(personas["staff"])
    html = client.get(f"/screening/rounds/{rnd.pk}/coverage/").content.decode()
    assert "华美小区 1号楼" in html and "新虹公寓 2号楼" in html
    assert "coverage-live.js" in html  # the round runs today
    frag = client.get(f"/screening/rounds/{rnd.pk}/coverage/?fragment=1").content.decode()
    assert "<html" not in frag and "华美小区 1号楼" in frag


def test_grid_leader_sees_only_their_grid(client, rnd, ledger, personas):
    client.force_login(personas["grid_leader"])
    html = client.get(f"/screening/rounds/{rnd.pk}/coverage/").content.decode()
    assert "华美小区 1号楼" in html and "新虹公寓 2号楼" not in html
    other = ledger["h3"].building_id
    assert client.get(f"/screening/rounds/{rnd.pk}/coverage/buildings/{other}/").status_code == 404
    html = client.get(f"/screening/rounds/{rnd.pk}/missing/").content.decode()
    assert "王大明" in html and "赵五" not in html
    data = client.get(f"/api/v1/screening/rounds/{rnd.pk}/missing").json()
    assert {m["name"] for m in data} == {"王大明", "李四"}
    assert client.get(f"/api/v1/screening/rounds/{rnd.pk}/coverage").json()["expected"] == 3


def test_building_doors_page(client, rnd, ledger, personas):
    client.force_login(personas["admin"])
    b = ledger["h1"].building_id
    html = client.get(f"/screening/rounds/{rnd.pk}/coverage/buildings/{b}/").content.decode()
    assert "王大明" in html and "李四" in html
    doors = client.get(f"/api/v1/screening/rounds/{rnd.pk}/coverage/buildings/{b}").json()
    assert [(d["door"], d["missing"], d["missing_names"]) for d in doors] == [
        ("1单元 101", 1, ["王大明"]),
        ("1单元 102", 1, ["李四"]),
    ]


def test_missing_shows_masked_phones_only(client, rnd, personas):
    client.force_login(personas["staff"])
    html = client.get(f"/screening/rounds/{rnd.pk}/missing/").content.decode()
    assert "186****1111" in html and "18600001111" not in html
    data = client.get(f"/api/v1/screening/rounds/{rnd.pk}/missing").json()
    assert {m["phone_masked"] for m in data} >= {"186****1111", "137****2222"}


def test_call_list_xlsx(client, rnd, personas):
    client.force_login(personas["grid_leader"])
    resp = client.get(f"/screening/rounds/{rnd.pk}/missing.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    names = {row[4] for row in values[3:]}
    assert names == {"王大明", "李四"}
    assert all("18600001111" not in str(v) for row in values for v in row)
    assert AuditEvent.objects.filter(action="screening.missing.export").count() == 1


def test_notice_has_doors_not_names_or_phones(client, rnd, personas):
    client.force_login(personas["staff"])
    html = client.get(f"/screening/rounds/{rnd.pk}/notice/").content.decode()
    assert "华美小区 1号楼: 2 people still to be sampled" in html
    assert "1单元 101, 1单元 102" in html
    assert "新虹公寓 2号楼: 1 person still to be sampled" in html
    for private in ("王大明", "李四", "赵五", "****"):
        assert private not in html


def test_progress_page_draws_a_chart(client, rnd, personas):
    client.force_login(personas["staff"])
    html = client.get(f"/screening/rounds/{rnd.pk}/progress/").content.decode()
    assert "<svg" in html and "<polyline" in html


def test_other_community_round_is_404(client, rnd, personas):
    client.force_login(personas["outsider"])
    assert client.get(f"/screening/rounds/{rnd.pk}/coverage/").status_code == 404
    assert client.get(f"/api/v1/screening/rounds/{rnd.pk}/coverage").status_code == 404


def test_rollup_for_the_district_counts_only(client, rnd, personas):
    client.force_login(personas["district"])
    html = client.get(f"/screening/rollup/?date={rnd.date:%Y-%m-%d}").content.decode()
    assert "华美社区" in html and "王大明" not in html


def test_tally_template(rf, ledger):
    from django.template.loader import render_to_string

    from shouwang.screening.coverage import tally

    html = render_to_string("screening/_tally.html", {"tally": tally(ledger["h1"].community)})
    assert "days in a row without a new positive" in html


def test_missing_list_comes_a_page_at_a_time(client, rnd, ledger, personas, settings):
    from shouwang.screening.views import coverage as views

    views.MISSING_PER_PAGE, old = 2, views.MISSING_PER_PAGE
    try:
        client.force_login(personas["staff"])
        first = client.get(f"/screening/rounds/{rnd.pk}/missing/").content.decode()
        second = client.get(f"/screening/rounds/{rnd.pk}/missing/?page=2").content.decode()
    finally:
        views.MISSING_PER_PAGE = old
    # Three missing in all (王大明, 李四, 赵五): two on the first page, one on the second, the
    # heading counting all three on both.
    assert "3 still to be sampled" in first and "3 still to be sampled" in second
    names = ("王大明", "李四", "赵五")
    assert sum(n in first for n in names) == 2 and sum(n in second for n in names) == 1
    assert "Page 1 of 2" in first and "page=2" in first
