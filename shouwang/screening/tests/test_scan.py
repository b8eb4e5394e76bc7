"""The scan endpoints (views/scan.py, scan.py): every answer and every refusal, through Django's
full stack and through the lean front (quick.py) that production puts before it."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone

from shouwang.core.audit import AuditEvent
from shouwang.core.testing import FrontClientHandler, valid_id
from shouwang.residents import services as passes
from shouwang.residents.tokens import token_for
from shouwang.screening import quick, scan, station
from shouwang.screening.models import (
    PointKind,
    Round,
    Sample,
    SamplingPoint,
    Tube,
    Visit,
    VisitList,
    VisitReason,
)

# --- builders, clients -------------------------------------------------------------------------


def make_round(community, *, date=None, number=1, **kw):
    return Round.objects.create(
        community=community,
        number=number,
        date=date or timezone.localdate(),
        starts_at=dt.time(7),
        ends_at=dt.time(20),
        **kw,
    )


def make_point(community, kind=PointKind.COMPOUND, name="1号楼下"):
    return SamplingPoint.objects.create(
        community=community, name=name, kind=kind, opens_at=dt.time(7), closes_at=dt.time(20)
    )


def now_iso() -> str:
    return timezone.now().isoformat()


def a_scan(tube="T0001", *, capacity=10, queued=False, **who) -> dict:
    return {
        "uid": str(uuid.uuid4()),
        "at": now_iso(),
        "tube": tube,
        "capacity": capacity,
        "queued": queued,
        **who,
    }


class QuickHandler(FrontClientHandler):
    """The test client's handler with the scan front in front of Django, as config/wsgi.py puts
    it: an answer it gives carries `quick=True`."""

    def match(self, environ):
        return quick.match(environ)

    def respond(self, request, matched):
        response = quick.QuickScan(None).respond(request, matched)
        assert response is not None
        return response


class ScanClient:
    """Posts JSON to the scan endpoints with a station key, through Django or the front."""

    def __init__(self, front: bool, key: str | None = None):
        self.front = front
        self.client = Client()
        if front:
            self.client.handler = QuickHandler()
        self.key = key

    def post(self, path: str, body, *, key=None, raw: bytes | None = None):
        key = key if key is not None else self.key
        headers = {"X-Shouwang-Station": key} if key else {}
        resp = self.client.post(
            f"/screening/scan/{path}",
            raw if raw is not None else json.dumps(body),
            content_type="application/json",
            headers=headers,
        )
        assert getattr(resp, "quick", False) is self.front
        return resp

    def scan(self, body, **kw):
        return self.post("", body, **kw)

    def undo(self, uid, **kw):
        return self.post("undo/", {"uid": uid, "at": now_iso()}, **kw)

    def close(self, tube, **kw):
        return self.post("close/", {"tube": tube, "at": now_iso()}, **kw)

    def batch(self, items, **kw):
        return self.post("batch/", {"items": items}, **kw)


@pytest.fixture
def round_(personas):
    return make_round(personas["admin"].community)


@pytest.fixture
def point(personas):
    return make_point(personas["admin"].community)


@pytest.fixture
def sampler(personas):
    return personas["sampler"]


@pytest.fixture
def key(sampler, round_, point):
    return station.issue(sampler, round_, point, language="en")


@pytest.fixture(params=["django", "front"])
def api(request, key):
    return ScanClient(request.param == "front", key)


@pytest.fixture
def pass_of(personas):
    def make(resident):
        return token_for(passes.pass_issue(actor=personas["admin"], resident=resident).code)

    return make


def ok(resp, status="recorded") -> dict:
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["ok"] is True and body["status"] == status, body
    return body


def refused(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert body["ok"] is False and body["code"] == code, body
    assert body["message"]
    return body


# --- the answer ---------------------------------------------------------------------------------


def test_a_pass_scan_is_recorded_with_both_times(api, ledger, pass_of, round_, point, sampler):
    body = a_scan(**{"pass": pass_of(ledger["r1"])})
    body["at"] = (timezone.now() - dt.timedelta(minutes=3)).isoformat()
    out = ok(api.scan(body))
    assert out["uid"] == body["uid"]
    assert out["person"] == {
        "resident": ledger["r1"].pk,
        "name": "王**",
        "household": "1号楼 1单元 101",
    }
    assert out["tube"] == {"code": "T0001", "count": 1, "capacity": 10, "full": False}
    assert out["flags"] == []
    assert out["message"] == "王** — tube T0001: 1 of 10."
    s = Sample.objects.get()
    assert (s.round, s.resident, s.point, s.sampler, s.via) == (
        round_,
        ledger["r1"],
        point,
        sampler,
        Sample.Via.PASS,
    )
    assert str(s.uid) == body["uid"] and s.counted and not s.flagged and s.voided_at is None
    assert abs((s.device_at - dt.datetime.fromisoformat(body["at"])).total_seconds()) < 0.001
    assert (timezone.now() - s.server_at).total_seconds() < 5
    assert s.server_at - s.device_at > dt.timedelta(minutes=2)
    t = Tube.objects.get()
    assert (t.code, t.capacity, t.round, t.point, t.opened_by) == (
        "T0001",
        10,
        round_,
        point,
        sampler,
    )


def test_a_replay_gives_the_same_answer_and_no_new_row(api, ledger, pass_of):
    body = a_scan(**{"pass": pass_of(ledger["r1"])})
    first = ok(api.scan(body))
    again = ok(api.scan(body), "replayed")
    again_queued = ok(api.scan({**body, "queued": True}), "replayed")
    for a in (again, again_queued):
        assert (a["uid"], a["person"], a["tube"], a["flags"]) == (
            first["uid"],
            first["person"],
            first["tube"],
            first["flags"],
        )
    assert Sample.objects.count() == 1


def test_the_tube_counts_up_and_says_when_it_is_full(api, ledger, pass_of):
    out = ok(api.scan(a_scan(capacity=2, **{"pass": pass_of(ledger["r1"])})))
    assert out["tube"] == {"code": "T0001", "count": 1, "capacity": 2, "full": False}
    out = ok(api.scan(a_scan(capacity=2, resident=ledger["r2"].pk)))
    assert out["tube"] == {"code": "T0001", "count": 2, "capacity": 2, "full": True}
    assert "The tube is full" in out["message"]
    assert Sample.objects.get(resident=ledger["r2"]).via == Sample.Via.SEARCH
    # A live scan into the full tube is refused; a queued one (already swabbed) is kept.
    refused(api.scan(a_scan(capacity=2, resident=ledger["r3"].pk)), 409, "tube_full")
    out = ok(api.scan(a_scan(capacity=2, queued=True, resident=ledger["r3"].pk)))
    assert out["tube"]["count"] == 3
    # A single tube.
    out = ok(api.scan(a_scan("S1", capacity=1, resident=ledger["r1b"].pk)))
    assert out["tube"] == {"code": "S1", "count": 1, "capacity": 1, "full": True}


def test_the_tube_size_defaults_to_the_rounds_pool(api, ledger, round_):
    round_.pool_size = 20
    round_.save()
    body = a_scan(resident=ledger["r1"].pk)
    del body["capacity"]
    assert ok(api.scan(body))["tube"]["capacity"] == 20


# --- the same person twice ------------------------------------------------------------------------


def test_a_live_scan_of_someone_sampled_this_round_is_refused(api, ledger, pass_of):
    token = pass_of(ledger["r1"])
    first = a_scan(**{"pass": token})
    first["at"] = timezone.localtime().replace(hour=9, minute=12).isoformat()
    ok(api.scan(first))
    out = refused(api.scan(a_scan("T0002", **{"pass": token})), 409, "duplicate")
    assert out["message"] == "Already sampled at 09:12 in tube T0001 — do not swab."
    assert out["tube"] == "T0001" and out["sampled_at"]
    assert Sample.objects.count() == 1 and not Tube.objects.filter(code="T0002").exists()


def test_a_queued_scan_of_someone_counted_is_kept_uncounted(api, ledger, pass_of):
    ok(api.scan(a_scan(resident=ledger["r1"].pk)))
    out = ok(api.scan(a_scan("T0002", queued=True, resident=ledger["r1"].pk)), "duplicate_kept")
    assert out["tube"] == {"code": "T0002", "count": 1, "capacity": 10, "full": False}
    assert "not counted" in out["message"]
    assert Sample.objects.filter(counted=True).count() == 1
    kept = Sample.objects.get(counted=False)
    assert kept.tube.code == "T0002" and kept.resident == ledger["r1"]


def test_someone_voided_may_be_sampled_again(api, ledger):
    first = ok(api.scan(a_scan(resident=ledger["r1"].pk)))
    ok(api.undo(first["uid"]), "voided")
    ok(api.scan(a_scan(resident=ledger["r1"].pk)))
    assert Sample.objects.filter(counted=True, voided_at__isnull=True).count() == 1


# --- who ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("SW00000000000000", 400, "pass_forged"),
        ("hello", 400, "pass_unreadable"),
        ("   ", 400, "pass_empty"),
    ],
)
def test_unreadable_passes_are_refused_as_every_scanner_refuses_them(api, raw, status, code):
    body = a_scan(**{"pass": raw})
    if code == "pass_empty":
        body["pass"] = "-"  # not empty for the request, empty once normalised
    out = refused(api.scan(body), status, code)
    assert out["uid"] == body["uid"]
    assert Sample.objects.count() == 0


def test_unknown_revoked_and_foreign_passes_are_refused(api, ledger, pass_of, personas):
    refused(api.scan(a_scan(**{"pass": token_for("ABCDEFGH")})), 404, "pass_unknown")
    old = pass_of(ledger["r1"])
    pass_of(ledger["r1"])  # reissued: the old one is revoked
    out = refused(api.scan(a_scan(**{"pass": old})), 400, "pass_revoked")
    assert "was revoked on" in out["message"]
    foreign = token_for(passes.pass_issue(actor=personas["outsider"], resident=ledger["ro"]).code)
    refused(api.scan(a_scan(**{"pass": foreign})), 404, "pass_elsewhere")
    refused(api.scan(a_scan(resident=ledger["ro"].pk)), 404, "not_found")
    refused(api.scan(a_scan(resident=10**9)), 404, "not_found")
    assert Sample.objects.count() == 0


def test_a_walk_in_is_registered_in_the_scan(api, community):
    number = valid_id(dt.date(1990, 3, 4), region="110101")
    out = ok(
        api.scan(a_scan(walk_in={"name": "陈 过客", "id_number": number, "phone": "139 1234 0000"}))
    )
    assert out["person"] == {"resident": None, "name": "陈**", "household": ""}
    s = Sample.objects.get()
    assert s.resident is None and s.via == Sample.Via.WALK_IN and s.counted
    assert s.walk_in_name == "陈过客"
    assert number not in s.walk_in_id_enc and s.walk_in_id_masked.endswith(number[-4:])
    assert s.walk_in_phone_masked == "139****0000" and "13912340000" not in s.walk_in_phone_enc
    from shouwang.core import crypto

    assert crypto.decrypt(s.walk_in_id_enc) == number
    assert crypto.decrypt(s.walk_in_phone_enc) == "+8613912340000"
    # The same walk-in again: live refused, queued kept uncounted.
    again = {"name": "陈过客", "id_number": number, "phone": ""}
    refused(api.scan(a_scan("T0002", walk_in=again)), 409, "duplicate")
    ok(api.scan(a_scan("T0002", queued=True, walk_in=again)), "duplicate_kept")


@pytest.mark.parametrize(
    ("walk_in", "field", "problem"),
    [
        ({"name": "", "id_number": "x", "phone": ""}, "walk_in.name", "name_missing"),
        (
            {"name": "陈过客", "id_number": "110101199003041234", "phone": ""},
            "walk_in.id_number",
            None,
        ),
        ({"name": "陈过客", "id_number": valid_id(), "phone": "12345"}, "walk_in.phone", None),
    ],
)
def test_a_walk_in_is_checked_as_the_ledger_checks(api, walk_in, field, problem):
    out = refused(api.scan(a_scan(walk_in=walk_in)), 400, "invalid")
    assert out["field"] == field
    if problem:
        assert out["problem"] == problem
    assert Sample.objects.count() == 0


def test_a_walk_in_who_is_in_the_ledger_is_counted_as_that_resident(api, ledger):
    from shouwang.core import crypto

    number = crypto.decrypt(ledger["r1"].id_number_enc)
    ok(api.scan(a_scan(resident=ledger["r1"].pk)))
    walk_in = {"name": "王小明", "id_number": number, "phone": ""}
    refused(api.scan(a_scan("T0002", walk_in=walk_in)), 409, "duplicate")


# --- flags ----------------------------------------------------------------------------------


def test_out_of_scope_is_flagged(api, ledger, round_):
    round_.buildings.set([ledger["h3"].building])
    assert ok(api.scan(a_scan(resident=ledger["r3"].pk)))["flags"] == []
    out = ok(api.scan(a_scan(resident=ledger["r1"].pk)))
    assert out["flags"] == ["out_of_scope"]
    # A replay says it again.
    assert ok(api.scan({**a_scan(), "uid": out["uid"], "resident": ledger["r1"].pk}), "replayed")[
        "flags"
    ] == ["out_of_scope"]


def test_a_sealed_building_at_a_street_point_is_flagged(
    ledger, round_, sampler, monkeypatch, community
):
    sealed = ledger["h1"].building_id
    monkeypatch.setattr(scan, "sealed_building_ids", lambda cid: frozenset({sealed}))
    street = make_point(community, PointKind.STREET, "南门街口")
    at_street = ScanClient(False, station.issue(sampler, round_, street, language="en"))
    at_home = ScanClient(
        False, station.issue(sampler, round_, make_point(community), language="en")
    )
    out = ok(at_street.scan(a_scan(resident=ledger["r1"].pk)))
    assert out["flags"] == ["sealed_at_street"]
    assert Sample.objects.get(resident=ledger["r1"]).flagged
    assert ok(at_street.scan(a_scan(resident=ledger["r3"].pk)))["flags"] == []
    assert ok(at_home.scan(a_scan(resident=ledger["r1b"].pk)))["flags"] == []


def test_a_door_to_door_scan_marks_the_visit(api, ledger, round_, sampler, community):
    vl = VisitList.objects.create(
        community=community, round=round_, name="卧床", reason=VisitReason.BEDRIDDEN
    )
    visit = Visit.objects.create(visit_list=vl, household=ledger["h1"])
    ok(api.scan(a_scan("D1", capacity=1, visit=visit.pk, resident=ledger["r1"].pk)))
    visit.refresh_from_db()
    assert (visit.status, visit.by) == (Visit.Status.VISITED, sampler) and visit.at
    s = Sample.objects.get()
    assert (s.visit, s.via) == (visit, Sample.Via.DOOR)
    other_round = make_round(community, number=2)
    vl2 = VisitList.objects.create(
        community=community, round=other_round, name="x", reason=VisitReason.BEDRIDDEN
    )
    v2 = Visit.objects.create(visit_list=vl2, household=ledger["h2"])
    refused(api.scan(a_scan("D2", visit=v2.pk, resident=ledger["r2"].pk)), 404, "visit_unknown")
    assert not Tube.objects.filter(code="D2").exists()  # the tube was not opened either


# --- the round and the tube -----------------------------------------------------------------


def test_a_closed_round_refuses_live_scans_and_keeps_queued_ones(api, ledger, round_):
    round_.closed_at = timezone.now() - dt.timedelta(minutes=10)
    round_.save()
    out = refused(api.scan(a_scan(resident=ledger["r1"].pk)), 409, "round_closed")
    assert "closed at" in out["message"]
    before = a_scan(queued=True, resident=ledger["r1"].pk)
    before["at"] = (timezone.now() - dt.timedelta(minutes=20)).isoformat()
    assert ok(api.scan(before))["flags"] == []
    after = a_scan(queued=True, resident=ledger["r2"].pk)
    assert ok(api.scan(after))["flags"] == ["after_close"]


def test_a_round_of_another_day_refuses_live_scans(api, ledger, round_):
    round_.date = timezone.localdate() - dt.timedelta(days=1)
    round_.save()
    refused(api.scan(a_scan(resident=ledger["r1"].pk)), 409, "round_other_day")
    ok(api.scan(a_scan(queued=True, resident=ledger["r1"].pk)))


def test_a_tube_used_in_another_round_is_refused_live(api, ledger, round_, community, key):
    old = make_round(community, number=2, date=timezone.localdate() - dt.timedelta(days=2))
    Tube.objects.create(
        community=community, round=old, code="T0001", capacity=10, opened_at=timezone.now()
    )
    refused(api.scan(a_scan(resident=ledger["r1"].pk)), 409, "tube_other_round")
    out = ok(api.scan(a_scan(queued=True, resident=ledger["r1"].pk)))
    assert out["flags"] == ["tube_other_round"]


def test_closing_a_tube_is_idempotent_and_audited(api, ledger, sampler):
    ok(api.scan(a_scan(resident=ledger["r1"].pk)))
    out = ok(api.close("t0001"), "closed")
    assert out["tube"]["code"] == "T0001" and out["tube"]["count"] == 1
    closed_at = Tube.objects.get().closed_at
    assert closed_at is not None
    ok(api.close("T0001"), "closed")
    assert Tube.objects.get().closed_at == closed_at
    events = AuditEvent.objects.filter(action="screening.tube.close")
    assert events.count() == 1 and events.get().actor == sampler
    refused(api.scan(a_scan(resident=ledger["r2"].pk)), 409, "tube_closed")
    ok(api.scan(a_scan(queued=True, resident=ledger["r2"].pk)))
    refused(api.close("NOPE"), 404, "tube_unknown")


def test_undo_voids_once_and_is_audited(api, ledger, sampler):
    uid = ok(api.scan(a_scan(resident=ledger["r1"].pk)))["uid"]
    out = ok(api.undo(uid), "voided")
    assert out["tube"]["count"] == 0
    s = Sample.objects.get()
    assert s.voided_at is not None and s.voided_by == sampler
    ok(api.undo(uid), "voided")
    assert Sample.objects.get().voided_at == s.voided_at
    assert AuditEvent.objects.filter(action="screening.sample.void").count() == 1
    refused(api.undo(str(uuid.uuid4())), 404, "not_found")
    # A replay of the voided scan says so.
    body = {**a_scan(resident=ledger["r1"].pk), "uid": uid}
    assert "voided" in ok(api.scan(body), "replayed")["flags"]


def test_a_tube_with_a_result_refuses_scans_and_undos(api, ledger):
    uid = ok(api.scan(a_scan(resident=ledger["r1"].pk)))["uid"]
    Tube.objects.update(result="negative")
    refused(api.scan(a_scan(resident=ledger["r2"].pk)), 409, "tube_closed")
    refused(api.undo(uid), 409, "tube_has_result")


# --- the batch -------------------------------------------------------------------------------


def test_a_batch_does_each_item_once_in_order(api, ledger):
    first = a_scan(resident=ledger["r1"].pk)
    del first["queued"]  # a batch is the offline queue: queued unless said otherwise
    items = [
        first,
        first,
        a_scan(resident=ledger["r1"].pk),
        {"undo": first["uid"]},
        a_scan(resident=ledger["r2"].pk, capacity=2),
        {"close": "T0001"},
        {"close": "T0001"},
        {"uid": "nope"},
    ]
    del items[2]["queued"]
    resp = api.batch(items)
    assert resp.status_code == 200
    results = resp.json()["results"]
    assert [r.get("status") or r.get("code") for r in results] == [
        "recorded",
        "replayed",
        "duplicate_kept",
        "voided",
        "recorded",
        "closed",
        "closed",
        "bad_request",
    ]
    assert Sample.objects.count() == 3
    again = api.batch(items).json()["results"]
    assert [r.get("status") or r.get("code") for r in again] == [
        "replayed",
        "replayed",
        "replayed",
        "voided",
        "replayed",
        "closed",
        "closed",
        "bad_request",
    ]
    assert Sample.objects.count() == 3


def test_a_batch_is_refused_whole_when_the_key_is_not_good(api, ledger, sampler):
    sampler.is_active = False
    sampler.save()
    refused(api.batch([a_scan(resident=ledger["r1"].pk)]), 401, "station")
    refused(api.post("batch/", {"items": "x"}, key=api.key), 401, "station")


# --- the key and the request ---------------------------------------------------------------------


def test_no_key_or_a_bad_key_is_401(api, ledger):
    body = a_scan(resident=ledger["r1"].pk)
    api.key = None
    refused(api.scan(body), 401, "station")
    refused(api.scan(body, key="1.2.3.0.en:abc:def"), 401, "station")
    refused(api.undo(body["uid"], key="x"), 401, "station")
    assert Sample.objects.count() == 0


def test_the_key_stops_working_when_the_user_may_no_longer_sample(
    api, ledger, sampler, round_, personas
):
    body = a_scan(resident=ledger["r1"].pk)
    sampler.role = "guard"
    sampler.save()
    refused(api.scan(body), 401, "station")
    sampler.role = "sampler"
    sampler.is_active = False
    sampler.save()
    refused(api.scan(body), 401, "station")
    refused(api.close("T0001"), 401, "station")
    refused(api.undo(body["uid"]), 401, "station")
    # A key for a round of another community (a forged pairing) is no key.
    outsider_round = make_round(personas["outsider"].community)
    bad = station.issue(personas["sampler"], outsider_round, language="en")
    sampler.is_active = True
    sampler.save()
    refused(api.scan(body, key=bad), 401, "station")
    Round.objects.filter(pk=round_.pk).delete()
    refused(api.scan(body), 401, "station")
    assert Sample.objects.count() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"uid": "not-a-uuid"},
        {"uid": None},
        {"at": "yesterday"},
        {"at": None},
        {"tube": ""},
        {"tube": "x" * 41},
        {"capacity": 0},
        {"capacity": 51},
        {"capacity": "ten"},
        {"resident": "abc"},
        {"pass": "SW…", "resident": 1},
        {"resident": None},
        {"walk_in": "陈过客", "resident": None},
        {"visit": "x"},
    ],
)
def test_requests_that_are_not_scans_are_400(api, ledger, change):
    body = {**a_scan(resident=ledger["r1"].pk), **change}
    refused(api.scan(body), 400, "bad_request")
    assert Sample.objects.count() == 0


def test_not_json_is_400_and_get_is_405(api):
    refused(api.post("", None, raw=b"{nope"), 400, "bad_request")
    refused(api.post("", None, raw=b"[1, 2]"), 400, "bad_request")
    assert Client().get("/screening/scan/").status_code == 405


def test_answers_are_in_the_stations_language(ledger, sampler, round_, point):
    c = ScanClient(True, station.issue(sampler, round_, point, language="zh-hans"))
    resp = c.scan(a_scan(**{"pass": "SW00000000000000"}))
    assert resp["Content-Language"] == "zh-hans"
    assert resp.json()["code"] == "pass_forged"
    assert "Shouwang" not in resp.json()["message"]  # the catalogue's Chinese
    assert resp["Cache-Control"] == "no-store"
    assert resp["X-Content-Type-Options"] == "nosniff"


def test_the_front_can_be_turned_off(ledger, key, settings):
    settings.QUICK_SCAN = False
    c = ScanClient(False, key)
    c.client.handler = QuickHandler()  # asks the front first: it declines
    ok(c.scan(a_scan(resident=ledger["r1"].pk)))


def test_the_wsgi_entry_point_answers_scans_in_front(ledger, key, monkeypatch):
    """config/wsgi.py's application: a scan never reaches Django's handler."""
    import io

    from config import wsgi
    from shouwang.screening.quick import QuickScan

    front = wsgi.application  # the fronts wrap each other: find the scan's
    while not isinstance(front, QuickScan):
        front = front.app
    called = []
    inner = front.app
    monkeypatch.setattr(front, "app", lambda *a: called.append(a) or inner(*a))
    body = json.dumps(a_scan(resident=ledger["r1"].pk)).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/screening/scan/",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_SHOUWANG_STATION": key,
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "10.0.0.9",
    }
    started = []
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = wsgi.application(environ, lambda status, headers: started.append(status))
        content = b"".join(result)
        result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert started == ["200 OK"] and not called
    assert json.loads(content)["status"] == "recorded"


# --- the cost ---------------------------------------------------------------------------------


def test_a_steady_state_scan_is_one_select_and_one_insert(
    ledger, pass_of, key, django_assert_num_queries
):
    from shouwang.screening.views.scan import answer

    ok_first = answer("scan", key, json.dumps(a_scan(resident=ledger["r2"].pk)).encode())
    assert ok_first[0] == 200  # the tube is open now
    token = pass_of(ledger["r1"])
    with django_assert_num_queries(2) as ctx:
        status, out, _lang = answer("scan", key, json.dumps(a_scan(**{"pass": token})).encode())
    assert status == 200 and out["status"] == "recorded"
    assert ctx.captured_queries[0]["sql"].startswith("SELECT")
    assert "INSERT" in ctx.captured_queries[1]["sql"]
    # A refusal of someone sampled already: the SELECT alone.
    with django_assert_num_queries(1):
        status, out, _lang = answer("scan", key, json.dumps(a_scan(**{"pass": token})).encode())
    assert status == 409


def test_the_household_is_building_unit_door():
    assert scan.household_label("3号楼", "2单元", "301") == "3号楼 2单元 301"
    assert scan.household_label("3号楼", None, "301") == "3号楼 301"
