"""The paper fallback: the printable sheet (masked IDs, the rules line), typing a sheet in — all
or nothing with the bad row named, blank rows skipped, a second entry of the same sheet warned,
the decisions' reasons from Shouwang's own rules at the row's time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.checkpoints import paper
from shouwang.checkpoints.models import Checkpoint, PaperBatch, Passage
from shouwang.control.models import Level
from shouwang.control.testing import put_under
from shouwang.core.errors import Conflict, DomainError


@pytest.fixture
def gate(community):
    return Checkpoint.objects.create(community=community, name="东门卡口")


@pytest.fixture
def day():
    return timezone.localdate() - dt.timedelta(days=1)


def test_sheet_lists_the_building_with_masked_ids(client, personas, ledger, gate, day):
    client.force_login(personas["guard"])
    b = ledger["h1"].building
    r = client.get(f"/checkpoints/paper/sheet/?checkpoint={gate.pk}&building={b.pk}&date={day}")
    html = r.content.decode()
    assert r.status_code == 200
    assert "王小明" in html and "王大明" in html and "李四" in html and "赵五" not in html
    assert ledger["r1"].id_number not in html and ledger["r1"].id_number_masked in html
    assert "Temperature under 37.3" in html and "negative test within 48 h" in html
    # Without a choice: back to the chooser.
    assert client.get("/checkpoints/paper/sheet/").status_code == 302


def test_rules_line_names_the_building_level(ledger, gate):
    put_under(ledger["h1"].building, Level.CONTROLLED)
    assert "This building: " in paper.rules_line(gate.community_id, ledger["h1"].building)


def _enter(personas, ledger, gate, day, values, **kw):
    return paper.paper_enter(
        actor=personas["guard"],
        checkpoint=gate,
        building=ledger["h1"].building,
        day=day,
        values=values,
        **kw,
    )


def test_entry_all_rows_in_one_batch_blank_rows_skipped(personas, ledger, gate, day):
    r1, r1b, r2 = ledger["r1"], ledger["r1b"], ledger["r2"]
    out = _enter(
        personas,
        ledger,
        gate,
        day,
        {
            r1.pk: {"time": "0815", "direction": "o", "temperature": "365"},
            r1b.pk: {"time": "", "direction": "", "temperature": ""},
            r2.pk: {"time": "9:40", "direction": "进", "temperature": "36.8", "back": True},
        },
    )
    assert out.batch.rows == 2 and PaperBatch.objects.count() == 1
    rows = {p.resident_id: p for p in Passage.objects.filter(paper=out.batch)}
    assert set(rows) == {r1.pk, r2.pk}
    p = rows[r1.pk]
    assert p.via == "paper" and p.direction == "out" and str(p.temperature) == "36.5"
    assert timezone.localtime(p.at).strftime("%Y-%m-%d %H:%M") == f"{day} 08:15"
    assert p.decision == "allow"
    assert rows[r2.pk].decision == "deny"  # turned back, as the sheet says
    # No test in the ledger: the rules would have asked for a check.
    assert "no_test" in p.reasons.split(",")


def test_a_bad_row_refuses_the_whole_sheet_and_is_named(personas, ledger, gate, day):
    r1, r2 = ledger["r1"], ledger["r2"]
    with pytest.raises(DomainError) as e:
        _enter(
            personas,
            ledger,
            gate,
            day,
            {
                r1.pk: {"time": "0815", "direction": "o", "temperature": "36.5"},
                r2.pk: {"time": "25:10", "direction": "x", "temperature": "36.5"},
            },
        )
    msg = str(e.value.message)
    assert "Nothing was saved" in msg and "李四" in msg and "102" in msg and "25:10" in msg
    assert (
        set(e.value.fields) == {f"r{r2.pk}"} and "i (in) or o (out)" in e.value.fields[f"r{r2.pk}"]
    )
    assert PaperBatch.objects.count() == 0 and Passage.objects.count() == 0


def test_every_row_blank(personas, ledger, gate, day):
    with pytest.raises(DomainError) as e:
        _enter(personas, ledger, gate, day, {ledger["r1"].pk: {"time": " "}})
    assert e.value.code == "paper_empty"


def test_a_resident_of_another_building_is_refused(personas, ledger, gate, day):
    with pytest.raises(DomainError) as e:
        _enter(personas, ledger, gate, day, {ledger["r3"].pk: {"time": "0800", "direction": "i"}})
    assert f"r{ledger['r3'].pk}" in e.value.fields


def test_second_entry_of_the_same_sheet_warns_then_confirmed(personas, ledger, gate, day):
    values = {ledger["r1"].pk: {"time": "0815", "direction": "o", "temperature": "36.5"}}
    _enter(personas, ledger, gate, day, values)
    with pytest.raises(Conflict) as e:
        _enter(personas, ledger, gate, day, values)
    assert e.value.code == "paper_duplicate" and "entered already" in str(e.value.message)
    assert PaperBatch.objects.count() == 1
    _enter(personas, ledger, gate, day, values, confirm_duplicate=True)
    assert PaperBatch.objects.count() == 2 and Passage.objects.count() == 2


def test_reasons_use_the_level_at_the_row_time(personas, ledger, gate, day):
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
    put_under(ledger["h1"].building, Level.SEALED, starts_at=start)
    out = _enter(
        personas,
        ledger,
        gate,
        day,
        {
            ledger["r1"].pk: {"time": "0815", "direction": "o", "temperature": "36.5"},
            ledger["r1b"].pk: {"time": "1015", "direction": "o", "temperature": "36.5"},
        },
    )
    rows = {p.resident_id: p for p in Passage.objects.filter(paper=out.batch)}
    assert "sealed" not in rows[ledger["r1"].pk].reasons.split(",")
    assert "sealed" in rows[ledger["r1b"].pk].reasons.split(",")
    assert rows[ledger["r1b"].pk].level == Level.SEALED
    assert [r.resident for r in out.to_follow_up] == [ledger["r1b"]]


def test_future_date_refused(personas, ledger, gate):
    with pytest.raises(DomainError) as e:
        _enter(
            personas,
            ledger,
            gate,
            timezone.localdate() + dt.timedelta(days=1),
            {ledger["r1"].pk: {"time": "0815", "direction": "o"}},
        )
    assert "date" in e.value.fields


def test_entry_page(client, personas, ledger, gate, day):
    client.force_login(personas["guard"])
    b = ledger["h1"].building
    url = f"/checkpoints/paper/entry/?checkpoint={gate.pk}&building={b.pk}&date={day}"
    html = client.get(url).content.decode()
    assert f'name="t{ledger["r1"].pk}"' in html and "王小明" in html
    post = {"checkpoint": gate.pk, "building": b.pk, "date": str(day)}
    r = client.post(url, {**post, f"t{ledger['r1'].pk}": "0815", f"d{ledger['r1'].pk}": "q"})
    html = r.content.decode()
    assert r.status_code == 200 and "Nothing was saved" in html and 'value="0815"' in html
    r = client.post(url, {**post, f"t{ledger['r1'].pk}": "0815", f"d{ledger['r1'].pk}": "o"})
    assert r.status_code == 302 and Passage.objects.count() == 1
    r = client.post(url, {**post, f"t{ledger['r1'].pk}": "0815", f"d{ledger['r1'].pk}": "o"})
    html = r.content.decode()
    assert "entered already" in html and 'name="again"' in html and Passage.objects.count() == 1
    r = client.post(
        url, {**post, f"t{ledger['r1'].pk}": "0815", f"d{ledger['r1'].pk}": "o", "again": "1"}
    )
    assert r.status_code == 302 and Passage.objects.count() == 2
    html = client.get("/checkpoints/paper/").content.decode()
    assert "东门卡口" in html


def test_volunteer_may_not_enter_paper(client, personas, ledger, gate, day):
    client.force_login(personas["volunteer"])
    assert client.get("/checkpoints/paper/").status_code == 403
