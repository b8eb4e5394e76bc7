"""The pass decision through the real endpoint (POST /checkpoints/pass/ with a gate key), once
through Django's full stack and once through the lean front (quick.py) that production puts
before it: one test per reason, retries, refusals, and what is logged."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from shouwang.checkpoints import gatekey, quick
from shouwang.checkpoints.models import Checkpoint, Passage
from shouwang.checkpoints.services import policy_for
from shouwang.control.testing import put_under
from shouwang.core.testing import FrontClientHandler
from shouwang.residents import services as passes
from shouwang.residents.tokens import token_for
from shouwang.screening.models import (
    AntigenReport,
    Positive,
    RetestFlag,
    Round,
    Sample,
    Tube,
    TubeResult,
)

# --- builders ----------------------------------------------------------------------------------

_n = iter(range(1, 10**6))


def make_checkpoint(community, *, compound=None, name=None) -> Checkpoint:
    return Checkpoint.objects.create(
        community=community, name=name or f"南门{next(_n)}", compound=compound
    )


def sample(resident, *, hours_ago: float, result=TubeResult.NEGATIVE, voided=False) -> Sample:
    """A swab of `resident` taken `hours_ago`, in a single tube with `result`."""
    now = timezone.now()
    at = now - dt.timedelta(hours=hours_ago)
    n = next(_n)
    rnd = Round.objects.create(
        community_id=resident.community_id,
        number=n,
        date=timezone.localdate(at),
        starts_at=dt.time(0),
        ends_at=dt.time(23, 59),
    )
    tube = Tube.objects.create(
        community_id=resident.community_id,
        round=rnd,
        code=f"T{n}",
        capacity=1,
        opened_at=at,
        result=result,
    )
    return Sample.objects.create(
        community_id=resident.community_id,
        round=rnd,
        tube=tube,
        resident=resident,
        device_at=at,
        server_at=at,
        voided_at=now if voided else None,
    )


def token(resident, actor) -> str:
    return token_for(passes.pass_issue(actor=actor, resident=resident).code)


class QuickHandler(FrontClientHandler):
    def match(self, environ):
        return quick.match(environ)

    def respond(self, request, matched):
        response = quick.QuickPass(None).respond(request, matched)
        assert response is not None
        return response


class GateClient:
    """Posts passages with a gate key, through Django or the front."""

    def __init__(self, front: bool, key: str):
        self.front = front
        self.key = key
        self.client = Client()
        if front:
            self.client.handler = QuickHandler()

    def post(self, body, *, key=None, raw: bytes | None = None):
        key = self.key if key is None else key
        resp = self.client.post(
            "/checkpoints/pass/",
            raw if raw is not None else json.dumps(body),
            content_type="application/json",
            headers={"X-Shouwang-Gate": key} if key else {},
        )
        assert getattr(resp, "quick", False) is self.front
        return resp

    def decide(self, *, direction="out", temperature="36.5", colour="", uid=None, **who):
        body = {
            "uid": uid or str(uuid.uuid4()),
            "at": timezone.now().isoformat(),
            "direction": direction,
            "temperature": temperature,
            "code_colour": colour,
            **who,
        }
        resp = self.post(body)
        assert resp.status_code == 200, resp.content
        return resp.json()


@pytest.fixture
def checkpoint(personas, ledger):
    return make_checkpoint(personas["admin"].community, compound=ledger["h1"].building.compound)


@pytest.fixture
def key(personas, checkpoint):
    return gatekey.issue(personas["guard"], checkpoint, language="en")


@pytest.fixture(params=["django", "front"])
def gate(request, key):
    return GateClient(request.param == "front", key)


@pytest.fixture
def r1(ledger):
    """王小明 of h1 (华美小区 1号楼 1单元 101), tested negative 20 hours ago."""
    sample(ledger["r1"], hours_ago=20)
    return ledger["r1"]


@pytest.fixture
def t1(r1, personas):
    return token(r1, personas["staff"])


def codes(answer) -> list[str]:
    return [r["code"] for r in answer["reasons"]]


# --- the answers -------------------------------------------------------------------------------


def test_all_clear_is_logged(gate, t1, r1, checkpoint, personas):
    a = gate.decide(**{"pass": t1})
    assert a["decision"] == "allow" and a["reasons"] == [] and a["status"] == "recorded"
    assert a["decision_label"] == "Allow"
    assert a["person"] == {"resident": r1.pk, "name": "王小*", "home": "华美小区 1号楼 1单元 101"}
    assert a["temperature"] == "36.5" and a["level"] == ""
    p = Passage.objects.get(uid=a["uid"])
    assert (p.decision, p.reasons, p.direction, p.via) == ("allow", "", "out", "pass")
    assert p.resident_id == r1.pk and p.checkpoint_id == checkpoint.pk
    assert p.guard_id == personas["guard"].pk and str(p.temperature) == "36.5"


def test_sealed_building_out_is_denied(gate, t1, r1):
    put_under(r1.household.building, "sealed")
    a = gate.decide(direction="out", **{"pass": t1})
    assert (a["decision"], codes(a)) == ("deny", ["sealed"])
    assert a["level"] == "sealed" and a["level_label"] == "Sealed"
    assert "nobody leaves home" in a["reasons"][0]["text"]
    assert Passage.objects.get(uid=a["uid"]).level == "sealed"


def test_sealed_unit_in_is_check_further(gate, t1, r1):
    put_under(r1.household.dwelling.unit, "sealed")
    a = gate.decide(direction="in", **{"pass": t1})
    assert (a["decision"], codes(a)) == ("check", ["sealed_outside"])


def test_close_contact_building_counts_as_sealed(gate, t1, r1):
    put_under(r1.household.building, "close_contact")
    assert codes(gate.decide(direction="out", **{"pass": t1})) == ["sealed"]


def test_controlled_building_leaving_the_compound_is_denied(gate, t1, r1):
    put_under(r1.household.building, "controlled")
    a = gate.decide(direction="out", **{"pass": t1})
    assert (a["decision"], codes(a)) == ("deny", ["controlled"])
    assert "nobody leaves the compound" in a["reasons"][0]["text"]


def test_controlled_coming_in_is_allowed(gate, t1, r1):
    put_under(r1.household.building.compound, "controlled")
    a = gate.decide(direction="in", **{"pass": t1})
    assert (a["decision"], codes(a), a["level"]) == ("allow", [], "controlled")


def test_the_strictest_level_over_the_home_wins(gate, t1, r1):
    put_under(r1.household.building.compound, "precaution")
    put_under(r1.household.building, "controlled")
    put_under(r1.household.dwelling.unit, "sealed")
    a = gate.decide(direction="out", **{"pass": t1})
    assert (a["level"], codes(a)) == ("sealed", ["sealed"])


def test_a_released_level_no_longer_counts(gate, t1, r1):
    c = put_under(r1.household.building, "sealed")
    c.ended_at = timezone.now()
    c.save(update_fields=["ended_at"])
    assert gate.decide(**{"pass": t1})["decision"] == "allow"


def test_precaution_is_shown_only(gate, t1, r1):
    put_under(r1.household.building.compound, "precaution")
    a = gate.decide(**{"pass": t1})
    assert (a["decision"], codes(a)) == ("allow", ["precaution"])


@pytest.mark.parametrize(
    ("t", "decision", "reasons"),
    [("37.3", "deny", ["fever"]), ("37.2", "allow", []), (None, "check", ["no_temperature"])],
)
def test_temperature(gate, t1, t, decision, reasons):
    a = gate.decide(temperature=t, **{"pass": t1})
    assert (a["decision"], codes(a)) == (decision, reasons)


def test_a_bad_temperature_is_refused_and_not_logged(gate, t1):
    resp = gate.post(
        {"uid": str(uuid.uuid4()), "direction": "in", "temperature": "3.65", "pass": t1}
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid" and resp.json()["field"] == "temperature"
    assert "36.5" in resp.json()["message"]
    assert not Passage.objects.exists()


def test_positive_within_days_and_just_outside(gate, t1, r1):
    today = timezone.localdate()
    Positive.objects.create(
        community_id=r1.community_id,
        resident=r1,
        source="round",
        detected_on=today - dt.timedelta(days=14),
    )
    assert gate.decide(**{"pass": t1})["decision"] == "allow"
    Positive.objects.create(
        community_id=r1.community_id,
        resident=r1,
        source="antigen",
        detected_on=today - dt.timedelta(days=13),
    )
    a = gate.decide(**{"pass": t1})
    assert (a["decision"], codes(a)) == ("deny", ["positive"])


def test_retest_flag_until_cleared(gate, t1, r1):
    tube = Sample.objects.get(resident=r1).tube
    flag = RetestFlag.objects.create(community_id=r1.community_id, resident=r1, tube=tube)
    a = gate.decide(**{"pass": t1})
    assert (a["decision"], codes(a)) == ("deny", ["retest"])
    flag.cleared_at = timezone.now()
    flag.save(update_fields=["cleared_at"])
    assert gate.decide(**{"pass": t1})["decision"] == "allow"


def test_no_negative_within_hours(gate, ledger, personas):
    r = ledger["r2"]
    sample(r, hours_ago=49)
    sample(r, hours_ago=2, result=TubeResult.NEGATIVE, voided=True)  # undone: no test
    sample(r, hours_ago=3, result=TubeResult.POSITIVE)
    a = gate.decide(**{"pass": token(r, personas["staff"])})
    assert (a["decision"], codes(a)) == ("check", ["no_test"])


def test_negative_just_inside_the_hours(gate, ledger, personas):
    r = ledger["r2"]
    sample(r, hours_ago=47.9)
    assert gate.decide(**{"pass": token(r, personas["staff"])})["decision"] == "allow"


def test_pending_sample_within_hours(gate, ledger, personas):
    r = ledger["r2"]
    sample(r, hours_ago=60)
    sample(r, hours_ago=5, result=TubeResult.PENDING)
    a = gate.decide(**{"pass": token(r, personas["staff"])})
    assert (a["decision"], codes(a)) == ("allow", ["test_pending"])


def test_antigen_counts_per_policy(gate, ledger, personas):
    r = ledger["r2"]
    AntigenReport.objects.create(
        community_id=r.community_id, resident=r, date=timezone.localdate(), result="negative"
    )
    t = token(r, personas["staff"])
    assert codes(gate.decide(**{"pass": t})) == ["no_test"]
    policy = policy_for(r.community_id)
    policy.antigen_counts = True
    policy.save(update_fields=["antigen_counts"])
    assert gate.decide(**{"pass": t})["decision"] == "allow"


def test_no_test_when_the_policy_asks_for_none(gate, ledger, personas):
    policy = policy_for(ledger["r2"].community_id)
    policy.test_hours = 0
    policy.save(update_fields=["test_hours"])
    assert gate.decide(**{"pass": token(ledger["r2"], personas["staff"])})["decision"] == "allow"


@pytest.mark.parametrize(
    ("colour", "decision", "reasons"),
    [
        ("red", "deny", ["red_code"]),
        ("yellow", "check", ["yellow_code"]),
        ("", "check", ["no_code"]),
        ("green", "allow", []),
    ],
)
def test_health_code_when_asked(gate, t1, r1, colour, decision, reasons):
    policy = policy_for(r1.community_id)
    policy.ask_health_code = True
    policy.save(update_fields=["ask_health_code"])
    a = gate.decide(colour=colour, **{"pass": t1})
    assert (a["decision"], codes(a)) == (decision, reasons)
    assert Passage.objects.get(uid=a["uid"]).code_colour == colour


def test_no_code_is_not_asked_by_default(gate, t1):
    assert gate.decide(**{"pass": t1})["decision"] == "allow"


def test_revoked_pass_is_check_further_and_logged(gate, t1, r1, personas):
    passes.pass_revoke(actor=personas["staff"], pass_=passes.pass_active(r1.pk), reason="lost")
    a = gate.decide(**{"pass": t1})
    assert (a["decision"], codes(a)) == ("check", ["pass_refused"])
    assert a["person"] is None and a["pass_problem"]["code"] == "pass_revoked"
    p = Passage.objects.get(uid=a["uid"])
    assert (p.decision, p.reasons, p.resident_id) == ("check", "pass_refused", None)


def test_unknown_pass(gate):
    from shouwang.residents import tokens

    a = gate.decide(**{"pass": tokens.token_for(tokens.new_code())})
    assert (a["decision"], codes(a)) == ("check", ["pass_refused"])
    assert a["pass_problem"]["code"] == "pass_unknown"


def test_mistyped_pass(gate, t1):
    a = gate.decide(**{"pass": t1[:-1] + ("A" if t1[-1] != "A" else "B")})
    assert (a["decision"], codes(a)) == ("check", ["pass_refused"])
    assert a["pass_problem"]["code"] in ("pass_forged", "pass_unreadable")


def test_another_community_s_pass(gate, ledger, personas):
    a = gate.decide(**{"pass": token(ledger["ro"], personas["outsider"])})
    assert (a["decision"], codes(a)) == ("check", ["pass_refused"])
    assert a["pass_problem"]["code"] == "pass_elsewhere" and a["person"] is None
    assert "王外人" not in json.dumps(a, ensure_ascii=False)


def test_found_by_search(gate, r1):
    a = gate.decide(resident=r1.pk)
    assert a["decision"] == "allow" and a["person"]["resident"] == r1.pk
    assert Passage.objects.get(uid=a["uid"]).via == "search"


def test_search_id_of_another_community_is_not_found(gate, ledger):
    resp = gate.post({"uid": str(uuid.uuid4()), "direction": "in", "resident": ledger["ro"].pk})
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    assert not Passage.objects.exists()


# --- retries, keys, bad requests ---------------------------------------------------------------


def test_a_retried_uid_returns_the_stored_answer(gate, t1, r1):
    uid = str(uuid.uuid4())
    first = gate.decide(uid=uid, **{"pass": t1})
    put_under(r1.household.building, "sealed")  # even if things changed since
    again = gate.decide(uid=uid, **{"pass": t1})
    assert again["status"] == "replayed"
    assert again["decision"] == first["decision"] == "allow"
    assert again["reasons"] == first["reasons"] and again["person"] == first["person"]
    assert Passage.objects.filter(uid=uid).count() == 1


def test_a_uid_of_another_checkpoint_is_refused(gate, t1, personas, checkpoint):
    uid = str(uuid.uuid4())
    gate.decide(uid=uid, **{"pass": t1})
    other = make_checkpoint(checkpoint.community)
    other_key = gatekey.issue(personas["guard"], other, language="en")
    resp = gate.post({"uid": uid, "direction": "in", "pass": t1}, key=other_key)
    assert resp.status_code == 400 and resp.json()["code"] == "bad_request"


@pytest.mark.parametrize(
    "body",
    [
        {"direction": "in"},  # no pass, no person
        {"direction": "sideways", "resident": 1},
        {"direction": "in", "resident": 1, "pass": "SW"},
        {"direction": "in", "resident": 1, "code_colour": "blue"},
        {"direction": "in", "resident": "x"},
    ],
)
def test_bad_requests(gate, body):
    resp = gate.post({"uid": str(uuid.uuid4()), **body})
    assert resp.status_code == 400
    assert resp.json()["code"] in ("bad_request", "invalid")
    assert resp.json()["message"]


def test_not_json(gate):
    resp = gate.post(None, raw=b"{nope")
    assert resp.status_code == 400 and resp.json()["code"] == "bad_request"


def test_no_key_forged_key(gate, t1):
    body = {"uid": str(uuid.uuid4()), "direction": "in", "pass": t1}
    for key in ("", "1.2.3.en:forged:sig"):
        resp = GateClient(gate.front, key).post(body)
        assert resp.status_code == 401 and resp.json()["code"] == "gate_key"
    assert not Passage.objects.exists()


def test_a_deactivated_guard_s_key_stops_at_once(gate, t1, personas):
    personas["guard"].is_active = False
    personas["guard"].save(update_fields=["is_active"])
    resp = gate.post({"uid": str(uuid.uuid4()), "direction": "in", "pass": t1})
    assert resp.status_code == 401


def test_a_role_without_guard_rights_is_refused(t1, personas, checkpoint):
    key = gatekey.issue(personas["sampler"], checkpoint, language="en")
    resp = GateClient(False, key).post({"uid": str(uuid.uuid4()), "direction": "in", "pass": t1})
    assert resp.status_code == 401


def test_a_checkpoint_out_of_use_is_refused(gate, t1, checkpoint):
    checkpoint.is_active = False
    checkpoint.save(update_fields=["is_active"])
    resp = gate.post({"uid": str(uuid.uuid4()), "direction": "in", "pass": t1})
    assert resp.status_code == 401


def test_messages_in_the_key_s_language(t1, r1, personas, checkpoint):
    put_under(r1.household.building, "sealed")
    key = gatekey.issue(personas["guard"], checkpoint, language="zh-hans")
    a = GateClient(True, key).decide(**{"pass": t1})
    assert a["decision"] == "deny"
    assert GateClient(True, key).post({}).headers["Content-Language"] == "zh-hans"


# --- the same answer both ways; the hot path's queries --------------------------------------------


def test_front_and_django_give_the_same_answer(key, t1, r1):
    put_under(r1.household.building, "controlled")
    answers = []
    for front in (False, True):
        a = GateClient(front, key).decide(direction="out", temperature=None, **{"pass": t1})
        answers.append({k: v for k, v in a.items() if k not in ("uid", "at")})
    assert answers[0] == answers[1]
    assert answers[0]["decision"] == "deny"
    assert [r["code"] for r in answers[0]["reasons"]] == ["controlled", "no_temperature"]


def test_front_off_sends_the_path_to_django(settings, key, t1):
    settings.QUICK_PASS = False
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/checkpoints/pass/",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "10",
    }
    assert quick.match(environ) is None
    settings.QUICK_PASS = True
    assert quick.match(environ) == "pass"
    assert quick.match({**environ, "REQUEST_METHOD": "GET"}) is None
    assert quick.match({**environ, "CONTENT_LENGTH": "999999"}) is None


def test_two_queries_per_decision(django_assert_num_queries, personas, checkpoint, t1):
    from shouwang.checkpoints import decision

    gate = gatekey.verify(gatekey.issue(personas["guard"], checkpoint, language="en"))
    body = {"uid": str(uuid.uuid4()), "direction": "out", "temperature": "36.4", "pass": t1}
    with django_assert_num_queries(2):
        out = decision.record(gate, body)
    assert out["decision"] == "allow"
