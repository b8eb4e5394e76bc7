"""Lab results: the file import (all or nothing, row errors, idempotent), typed results, and the
positive workflow (flags, texts, re-test list; single tubes: positives and cleared flags)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from shouwang.core.audit import AuditEvent
from shouwang.core.errors import Conflict
from shouwang.residents.models import SmsMessage
from shouwang.residents.sms import MemoryGateway
from shouwang.screening import results
from shouwang.screening.models import (
    Positive,
    ResultImport,
    RetestFlag,
    Tube,
    Visit,
    VisitList,
)
from shouwang.screening.tests.rounds_helpers import make_round, make_tube, swab

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"
    MemoryGateway.outbox.clear()
    yield
    MemoryGateway.outbox.clear()


@pytest.fixture
def pooled(personas, ledger):
    """Round 1: tube P1 holds r1, r1b (h1) and r2 (h2); tube P2 holds r3 (h3)."""
    r = make_round(personas["admin"])
    p1 = make_tube(r, "P1")
    for res in ("r1", "r1b", "r2"):
        swab(p1, ledger[res])
    p2 = make_tube(r, "P2")
    swab(p2, ledger["r3"])
    return r, p1, p2


def _csv(text: str) -> bytes:
    return text.encode("utf-8-sig")


def test_import_chinese_csv_positive_pooled_tube(
    personas, ledger, pooled, django_capture_on_commit_callbacks
):
    r, p1, p2 = pooled
    data = _csv("管号,结果,CT值,检测时间\nP1,阳性,28.5,2022-04-10 15:30\nP2,阴性,,\n")
    with django_capture_on_commit_callbacks(execute=True):
        report = results.results_import(
            actor=personas["staff"], rnd=r, source=data, filename="lab.csv", commit=True
        )
    assert report.ok and report.committed
    assert (report.rows, report.positives, report.negatives) == (2, 1, 1)
    p1.refresh_from_db()
    p2.refresh_from_db()
    assert p1.result == "positive" and p1.ct_value == Decimal("28.50")
    assert timezone.localtime(p1.result_at).strftime("%Y-%m-%d %H:%M") == "2022-04-10 15:30"
    assert p2.result == "negative"
    flags = RetestFlag.objects.filter(tube=p1, cleared_at=None)
    assert {f.resident for f in flags} == {ledger["r1"], ledger["r1b"], ledger["r2"]}
    vl = VisitList.objects.get(source_tube=p1)
    assert vl.reason == "retest" and vl.round == r
    assert {v.household for v in vl.visits.all()} == {ledger["h1"], ledger["h2"]}
    # One text per household with a phone (h1 through r1's phone, h2 through r2's).
    assert sorted(m[0] for m in MemoryGateway.outbox) == ["+8613912345678", "+8618600001111"]
    assert {m[2] for m in MemoryGateway.outbox} == {"screening_retest"}
    assert SmsMessage.objects.filter(kind="screening_retest").count() == 2
    assert p1.result_import_id == report.import_id
    assert AuditEvent.objects.filter(action="screening.results_import").count() == 1


def test_reimporting_the_same_file_does_nothing(
    personas, pooled, django_capture_on_commit_callbacks
):
    r, p1, _ = pooled
    data = _csv("管号,结果\nP1,阳性\n")
    with django_capture_on_commit_callbacks(execute=True):
        results.results_import(
            actor=personas["staff"], rnd=r, source=data, filename="a.csv", commit=True
        )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = results.results_import(
            actor=personas["staff"], rnd=r, source=data, filename="a-copy.csv", commit=True
        )
    assert again.already and not callbacks
    assert ResultImport.objects.count() == 1
    assert VisitList.objects.count() == 1
    assert RetestFlag.objects.count() == 3
    assert len(MemoryGateway.outbox) == 2
    # Another file giving the same result: a row already recorded, nothing set off again.
    other = results.results_import(
        actor=personas["staff"],
        rnd=r,
        source=_csv("tube code,result\nP1,positive\n"),
        filename="b.csv",
        commit=True,
    )
    assert other.unchanged == 1 and other.positives == 0
    assert VisitList.objects.count() == 1 and len(MemoryGateway.outbox) == 2


def test_bad_rows_are_all_reported_and_nothing_is_imported(personas, pooled):
    r, p1, p2 = pooled
    data = _csv(
        "某某实验室检测报告\n"
        "管号,结果,CT值,检测时间\n"
        "P1,阴性,,\n"
        "NOPE,阴性,,\n"
        "P2,可疑,,\n"
        ",阴性,,\n"
        "P2,阴性,abc,明天\n"
    )
    report = results.results_import(
        actor=personas["staff"], rnd=r, source=data, filename="lab.csv", commit=True
    )
    assert not report.committed
    got = [(e.line, e.column) for e in report.errors]
    assert got == [(4, "code"), (5, "result"), (6, "code"), (7, "ct"), (7, "at")]
    assert "NOPE" in report.errors[0].message
    assert Tube.objects.filter(result="pending").count() == 2
    assert not ResultImport.objects.exists()


def test_a_recorded_result_is_not_changed_by_an_import(personas, pooled):
    r, p1, _ = pooled
    results.result_record(actor=personas["staff"], tube=p1, result="negative")
    report = results.results_import(
        actor=personas["staff"],
        rnd=r,
        source=_csv("管号,结果\nP1,阳性\n"),
        filename="x.csv",
        commit=True,
    )
    assert not report.committed and report.errors[0].line == 2
    p1.refresh_from_db()
    assert p1.result == "negative"
    assert not RetestFlag.objects.exists()


def test_same_tube_twice_with_different_results_is_an_error(personas, pooled):
    r, *_ = pooled
    report = results.results_import(
        actor=personas["staff"],
        rnd=r,
        source=_csv("管号,结果\nP1,阴性\nP1,阳性\n"),
        filename="x.csv",
    )
    assert [(e.line, e.column) for e in report.errors] == [(3, "result")]


def test_check_only_writes_nothing(personas, pooled):
    r, *_ = pooled
    report = results.results_import(
        actor=personas["staff"], rnd=r, source=_csv("管号,结果\nP1,阳性\n"), filename="x.csv"
    )
    assert report.ok and not report.committed and report.positive_tubes == ["P1"]
    assert not RetestFlag.objects.exists() and not ResultImport.objects.exists()


def test_xlsx_file(personas, pooled):
    import openpyxl

    r, p1, p2 = pooled
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "试管编号", "检测结果", "Ct值"])
    ws.append([1, "P1", "阴性", None])
    ws.append([2, "P2", "阴性", 35.1])
    buf = io.BytesIO()
    wb.save(buf)
    report = results.results_import(
        actor=personas["staff"], rnd=r, source=buf.getvalue(), filename="lab.xlsx", commit=True
    )
    assert report.committed, report.errors
    p2.refresh_from_db()
    assert p2.result == "negative" and p2.ct_value == Decimal("35.10")


def test_a_file_without_the_headers_is_refused(personas, pooled):
    r, *_ = pooled
    from shouwang.registry.tabular import TableError

    with pytest.raises(TableError) as e:
        results.results_import(
            actor=personas["staff"], rnd=r, source=_csv("a,b\n1,2\n"), filename="x.csv"
        )
    assert e.value.code == "header_missing"
    with pytest.raises(TableError) as e:
        results.results_import(
            actor=personas["staff"], rnd=r, source=_csv("管号,结果\n,\n"), filename="x.csv"
        )
    assert e.value.code == "file_empty"


# --- single tubes ---------------------------------------------------------------------------


def test_single_tubes_clear_flags_and_a_positive_makes_a_positive(
    personas, ledger, pooled, django_capture_on_commit_callbacks
):
    staff = personas["staff"]
    r, p1, _ = pooled
    with django_capture_on_commit_callbacks(execute=True):
        out = results.result_record(actor=staff, tube=p1, result="positive")
    assert out.flagged == 3 and out.visit_list is not None
    retest = make_round(staff, number=2, kind="door")
    s1 = make_tube(retest, "S1", capacity=1)
    swab(s1, ledger["r1"])
    s2 = make_tube(retest, "S2", capacity=1)
    swab(s2, ledger["r2"])
    neg = results.result_record(actor=staff, tube=s1, result="negative")
    assert neg.cleared == 1
    assert RetestFlag.objects.get(resident=ledger["r1"]).cleared_by_tube == s1
    pos = results.result_record(actor=staff, tube=s2, result="positive")
    assert pos.positives == 1 and pos.cleared == 1
    p = Positive.objects.get()
    assert (p.resident, p.source, p.tube) == (ledger["r2"], "round", s2)
    assert list(RetestFlag.objects.filter(cleared_at=None)) == [
        RetestFlag.objects.get(resident=ledger["r1b"])
    ]
    # The same result again: nothing more.
    again = results.result_record(actor=staff, tube=s2, result="positive")
    assert not again.changed and Positive.objects.count() == 1
    with pytest.raises(Conflict):
        results.result_record(actor=staff, tube=s2, result="negative")


def test_invalid_can_be_replaced(personas, pooled):
    r, p1, _ = pooled
    results.result_record(actor=personas["staff"], tube=p1, result="invalid")
    out = results.result_record(actor=personas["staff"], tube=p1, result="negative")
    assert out.changed


def test_a_person_in_a_positive_pooled_tube_twice_has_one_flag(personas, ledger):
    r = make_round(personas["admin"])
    t = make_tube(r, "P9")
    swab(t, ledger["r1"])
    swab(t, ledger["r1"], counted=False)  # a second sample kept from an offline device
    swab(t, None, walk_in_name="过路人")
    out = results.result_record(actor=personas["staff"], tube=t, result="positive")
    assert out.flagged == 1 and out.walk_ins == 1
    assert Visit.objects.count() == 1


# --- pages, API, command --------------------------------------------------------------------


def test_results_page_import_and_tube_page(client, personas, ledger, pooled):
    r, p1, p2 = pooled
    client.force_login(personas["staff"])
    url = reverse("screening:results", args=[r.pk])
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("lab.csv", _csv("管号,结果\nP2,阴性\nZZ,阴性\n"))
    resp = client.post(url, {"file": upload, "commit": "1"})
    assert resp.status_code == 200
    assert [e.line for e in resp.context["report"].errors] == [3]
    upload = SimpleUploadedFile("lab.csv", _csv("管号,结果\nP2,阴性\n"))
    resp = client.post(url, {"file": upload, "commit": "1"})
    assert resp.status_code == 302
    p2.refresh_from_db()
    assert p2.result == "negative"
    assert client.get(url, {"code": "P1"})["Location"] == reverse("screening:tube", args=[p1.pk])
    tube_url = reverse("screening:tube", args=[p1.pk])
    body = client.get(tube_url).content.decode()
    assert "王*明" in body or "王" in body
    resp = client.post(tube_url, {"result": "positive", "ct_value": "30.2"})
    assert resp.status_code == 302
    assert RetestFlag.objects.filter(tube=p1).count() == 3
    resp = client.post(tube_url, {"result": "positive"}, follow=True)
    assert RetestFlag.objects.filter(tube=p1).count() == 3
    assert VisitList.objects.filter(source_tube=p1).count() == 1


def test_results_pages_are_the_offices(client, personas, pooled):
    r, p1, _ = pooled
    client.force_login(personas["sampler"])
    assert client.get(reverse("screening:results", args=[r.pk])).status_code == 403
    assert (
        client.post(reverse("screening:tube", args=[p1.pk]), {"result": "positive"}).status_code
        == 403
    )
    assert not RetestFlag.objects.exists()


def test_api_import_and_typed_result(client, personas, pooled):
    r, p1, p2 = pooled
    client.force_login(personas["staff"])
    upload = SimpleUploadedFile("lab.csv", _csv("管号,结果\nP2,阴性\n"))
    resp = client.post(
        f"/api/v1/screening/rounds/{r.pk}/results", {"file": upload, "commit": "true"}
    )
    assert resp.status_code == 200 and resp.json()["committed"] is True
    resp = client.post(
        f"/api/v1/screening/tubes/{p1.pk}/result",
        {"result": "positive", "ct_value": "27.3"},
        content_type="application/json",
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["changed"] and body["flagged"] == 3 and body["visit_list_id"]
    resp = client.post(
        f"/api/v1/screening/tubes/{p1.pk}/result",
        {"result": "negative"},
        content_type="application/json",
    )
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "screening_result_final"


def test_command(tmp_path, personas, pooled, capsys):
    r, p1, _ = pooled
    f = tmp_path / "lab.csv"
    f.write_bytes(_csv("管号,结果\nP1,阴性\n"))
    out = io.StringIO()
    call_command("screening_results", str(r.pk), str(f), stdout=out)
    assert "Checked" in out.getvalue()
    p1.refresh_from_db()
    assert p1.result == "pending"
    call_command("screening_results", str(r.pk), str(f), "--commit", stdout=out)
    p1.refresh_from_db()
    assert p1.result == "negative"
    out = io.StringIO()
    call_command("screening_results", str(r.pk), str(f), "--commit", stdout=out)
    assert "already imported" in out.getvalue()


def test_a_closed_rounds_retest_list_goes_to_an_open_round_of_today(personas, ledger):
    from shouwang.screening import services

    admin = personas["admin"]
    yesterday = make_round(admin, number=1, date=timezone.localdate() - dt.timedelta(days=1))
    t1 = make_tube(yesterday, "Y1")
    swab(t1, ledger["r3"])
    services.round_close(actor=admin, rnd=yesterday)
    # No round open today: a door-to-door round for the flagged households' buildings.
    out = results.result_record(actor=admin, tube=t1, result="positive", texts=False)
    door = out.visit_list.round
    assert door.kind == "door" and door.date == timezone.localdate() and door.closed_at is None
    assert list(door.buildings.all()) == [ledger["h3"].building]
    assert door.pool_size == 1
    # With today's mass round open, the list goes there.
    today = make_round(admin, number=2)
    t2 = make_tube(yesterday, "Y2")
    swab(t2, ledger["r1"])
    out = results.result_record(actor=admin, tube=t2, result="positive", texts=False)
    assert out.visit_list.round in (today, door)
    assert out.visit_list.round.closed_at is None
