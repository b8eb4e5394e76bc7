"""Antigen self-tests: reported from the household page (with a photo, replaced the same day),
entered by grid staff one tap per person; a positive report records a Positive; antigen rounds
count the reports in coverage."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from shouwang.core.errors import DomainError
from shouwang.core.models import AuditEvent
from shouwang.residents import services as resident_services
from shouwang.screening import antigen, coverage
from shouwang.screening.models import AntigenReport, Positive, RoundKind
from shouwang.screening.tests.test_coverage import make_round


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _jpeg() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, "JPEG")
    return SimpleUploadedFile("test.jpg", buf.getvalue(), content_type="image/jpeg")


@pytest.fixture
def household_client(client, ledger, personas):
    _link, token = resident_services.link_issue(actor=personas["admin"], household=ledger["h1"])
    assert client.get(f"/h/{token}/").status_code == 302
    return client


def test_second_report_replaces_the_first(ledger, personas):
    r1 = ledger["r1"]
    a = antigen.report_save(actor=None, resident=r1, result="invalid")
    b = antigen.report_save(actor=None, resident=r1, result="negative")
    assert a.pk == b.pk
    assert AntigenReport.objects.get(resident=r1).result == "negative"
    assert AuditEvent.objects.filter(action="screening.antigen.report").count() == 2


def test_positive_records_a_positive_once(ledger):
    r1 = ledger["r1"]
    rep = antigen.report_save(actor=None, resident=r1, result="positive")
    antigen.report_save(actor=None, resident=r1, result="positive")
    [p] = Positive.objects.all()
    assert (p.source, p.antigen_id, p.resident_id, p.detected_on) == (
        "antigen",
        rep.pk,
        r1.pk,
        timezone.localdate(),
    )


@pytest.mark.parametrize("result", ["", "maybe"])
def test_bad_result_refused(ledger, result):
    with pytest.raises(DomainError):
        antigen.report_save(actor=None, resident=ledger["r1"], result=result)
    assert not AntigenReport.objects.exists()


def test_dates_households_today_staff_two_days_back(ledger, personas):
    today = timezone.localdate()
    with pytest.raises(DomainError):
        antigen.report_save(
            actor=None, resident=ledger["r1"], result="negative", date=today - dt.timedelta(days=1)
        )
    with pytest.raises(DomainError):
        antigen.report_save(
            actor=personas["staff"],
            resident=ledger["r1"],
            result="negative",
            date=today + dt.timedelta(days=1),
            via="staff",
        )
    antigen.report_save(
        actor=personas["staff"],
        resident=ledger["r1"],
        result="negative",
        date=today - dt.timedelta(days=2),
        via="staff",
    )


def test_household_page_reports_with_photo(
    household_client, ledger, django_capture_on_commit_callbacks
):
    page = household_client.get(f"/my/households/{ledger['h1'].pk}/")
    html = page.content.decode()
    assert 'id="antigen"' in html and "王大明" in html
    url = f"/screening/households/{ledger['h1'].pk}/antigen/"
    resp = household_client.post(
        url, {"resident": ledger["r1"].pk, "result": "negative", "photo": _jpeg()}
    )
    assert resp.status_code == 302 and resp["Location"].endswith("#antigen")
    rep = AntigenReport.objects.get(resident=ledger["r1"])
    assert rep.via == "household" and rep.photo
    first_photo = rep.photo.name
    # The same day again: replaced, the old photo gone.
    with django_capture_on_commit_callbacks(execute=True):
        household_client.post(url, {"resident": ledger["r1"].pk, "result": "invalid"})
    rep.refresh_from_db()
    assert rep.result == "invalid" and not rep.photo
    assert not rep.photo.storage.exists(first_photo)
    # Not a member of this household: refused.
    resp = household_client.post(url, {"resident": ledger["r3"].pk, "result": "negative"})
    assert resp.status_code == 404
    # Another household's page: refused.
    resp = household_client.post(
        f"/screening/households/{ledger['h3'].pk}/antigen/",
        {"resident": ledger["r3"].pk, "result": "negative"},
    )
    assert resp.status_code == 404
    assert not AntigenReport.objects.filter(resident=ledger["r3"]).exists()


def test_photo_that_is_not_an_image_is_refused(household_client, ledger):
    url = f"/screening/households/{ledger['h1'].pk}/antigen/"
    bad = SimpleUploadedFile("x.jpg", b"not a photo", content_type="image/jpeg")
    household_client.post(url, {"resident": ledger["r1"].pk, "result": "negative", "photo": bad})
    assert not AntigenReport.objects.exists()


def test_staff_photo_view_scoped(client, ledger, personas, household_client):
    household_client.post(
        f"/screening/households/{ledger['h1'].pk}/antigen/",
        {"resident": ledger["r1"].pk, "result": "positive", "photo": _jpeg()},
    )
    rep = AntigenReport.objects.get()
    client.force_login(personas["staff"])
    resp = client.get(f"/screening/antigen/{rep.pk}/photo/")
    assert resp.status_code == 200 and resp["Content-Type"] == "image/jpeg"
    assert b"".join(resp.streaming_content)[:2] == b"\xff\xd8"
    client.force_login(personas["outsider"])
    assert client.get(f"/screening/antigen/{rep.pk}/photo/").status_code == 404


def test_staff_entry_one_tap_per_person(client, ledger, personas):
    client.force_login(personas["grid_leader"])
    page = client.get("/screening/antigen/").content.decode()
    assert "王小明" in page  # a grid leader lands on their grid's list
    assert "赵五" not in page  # grid B
    resp = client.post(
        "/screening/antigen/record/",
        {"resident": ledger["r1b"].pk, "result": "negative", "next": "/screening/antigen/"},
    )
    assert resp.status_code == 302
    rep = AntigenReport.objects.get(resident=ledger["r1b"])
    assert rep.via == "staff" and rep.reported_by == personas["grid_leader"]
    # Grid B's resident: not theirs.
    resp = client.post(
        "/screening/antigen/record/", {"resident": ledger["r3"].pk, "result": "negative"}
    )
    assert resp.status_code == 404
    client.force_login(personas["staff"])
    page = client.get(f"/screening/antigen/?building={ledger['h3'].building_id}").content.decode()
    assert "赵五" in page and "王小明" not in page


def test_api_record_and_list(client, ledger, personas):
    client.force_login(personas["staff"])
    resp = client.post(
        "/api/v1/screening/antigen",
        {"resident_id": ledger["r2"].pk, "result": "positive"},
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    assert Positive.objects.filter(resident=ledger["r2"], source="antigen").exists()
    rows = client.get("/api/v1/screening/antigen").json()
    assert [(r["name"], r["result"], r["via"]) for r in rows] == [("李四", "positive", "staff")]
    resp = client.post(
        "/api/v1/screening/antigen",
        {"resident_id": ledger["r2"].pk, "result": "bogus"},
        content_type="application/json",
    )
    assert resp.status_code == 400


def test_antigen_round_coverage_page(client, ledger, personas):
    rnd = make_round(ledger["h1"].community, kind=RoundKind.ANTIGEN)
    antigen.report_save(actor=None, resident=ledger["r1"], result="negative")
    client.force_login(personas["admin"])
    data = client.get(f"/api/v1/screening/rounds/{rnd.pk}/coverage").json()
    assert (data["expected"], data["sampled"], data["missing"]) == (4, 1, 3)
    assert coverage.missing_ids(rnd) == {ledger["r1b"].pk, ledger["r2"].pk, ledger["r3"].pk}
    assert "reported" in client.get(f"/screening/rounds/{rnd.pk}/coverage/").content.decode()
