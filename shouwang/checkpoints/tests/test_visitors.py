"""Visitors and couriers: registration with the decision and a passage in, the phone encrypted and
masked, clear errors (bad phone, missing host), idempotent retries, leaving, the pages, the API."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from shouwang.checkpoints import visitors
from shouwang.checkpoints.models import Checkpoint, Passage, Visitor
from shouwang.control.models import Level
from shouwang.control.testing import put_under
from shouwang.core import crypto
from shouwang.core.errors import DomainError


@pytest.fixture
def gate(community):
    return Checkpoint.objects.create(community=community, name="东门卡口")


def _register(personas, gate, **kw):
    args = {
        "actor": personas["guard"],
        "checkpoint": gate,
        "kind": "visitor",
        "name": "送药人",
        "phone": "139 1111 2222",
        "purpose": "送药",
        "temperature": "36.5",
        "proof": "negative",
    }
    args.update(kw)
    return visitors.visitor_register(**args)


def test_register_logs_a_passage_with_the_decision(personas, ledger, gate):
    v = _register(personas, gate, host=ledger["h1"])
    assert v.decision == "allow" and v.reasons == ""
    assert v.phone_masked == "139****2222" and "13911112222" not in v.phone_enc
    assert crypto.decrypt(v.phone_enc) == "+8613911112222"
    [p] = Passage.objects.filter(visitor=v)
    assert (p.via, p.direction, p.decision, p.checkpoint, p.guard) == (
        "visitor",
        "in",
        "allow",
        gate,
        personas["guard"],
    )
    assert p.temperature == Decimal("36.5")


def test_bad_phone_is_refused_with_how_to_fix(personas, ledger, gate):
    with pytest.raises(DomainError) as e:
        _register(personas, gate, host=ledger["h1"], phone="0215550101")
    assert "phone" in e.value.fields and "landline" in str(e.value.fields["phone"])
    with pytest.raises(DomainError) as e:
        _register(personas, gate, host=ledger["h1"], phone="1391111")
    assert "11" in str(e.value.fields["phone"])
    with pytest.raises(DomainError) as e:
        _register(personas, gate, host=ledger["h1"], phone="")
    assert "phone" in e.value.fields
    assert Visitor.objects.count() == 0 and Passage.objects.count() == 0


def test_missing_host_and_purpose_for_a_visitor(personas, gate):
    with pytest.raises(DomainError) as e:
        _register(personas, gate, host=None, purpose="")
    assert {"host", "purpose"} <= set(e.value.fields)
    assert "1号楼 101" in str(e.value.fields["host"])


def test_courier_needs_a_company_not_a_host(personas, gate):
    with pytest.raises(DomainError) as e:
        _register(personas, gate, kind="courier", purpose="")
    assert set(e.value.fields) == {"company"}
    v = _register(personas, gate, kind="courier", company="顺丰", purpose="")
    assert v.kind == "courier" and v.host is None


def test_host_of_another_community_is_refused(personas, ledger, gate):
    with pytest.raises(DomainError) as e:
        _register(personas, gate, host=ledger["ho"])
    assert "host" in e.value.fields


def test_fever_and_sealed_host_and_no_proof(personas, ledger, gate):
    v = _register(personas, gate, host=ledger["h1"], temperature="37.6")
    assert v.decision == "deny" and "fever" in v.reasons
    put_under(ledger["h1"].building, Level.SEALED)
    v = _register(personas, gate, host=ledger["h1"])
    assert v.decision == "deny" and "host_sealed" in v.reasons
    assert Passage.objects.get(visitor=v).level == Level.SEALED
    v = _register(personas, gate, host=ledger["h3"], proof="none")
    assert v.decision == "check" and v.reasons == "no_proof"


def test_bad_temperature(personas, ledger, gate):
    with pytest.raises(DomainError) as e:
        _register(personas, gate, host=ledger["h1"], temperature="3.65")
    assert "temperature" in e.value.fields
    v = _register(personas, gate, host=ledger["h1"], temperature="365")
    assert v.temperature == Decimal("36.5")


def test_retry_with_the_same_uid_is_one_visitor(personas, ledger, gate):
    uid = uuid.uuid4()
    a = _register(personas, gate, host=ledger["h1"], uid=uid)
    b = _register(personas, gate, host=ledger["h1"], uid=str(uid))
    assert a.pk == b.pk and Visitor.objects.count() == 1 and Passage.objects.count() == 1


def test_left_once(personas, ledger, gate):
    v = _register(personas, gate, host=ledger["h1"])
    v = visitors.visitor_left(actor=personas["guard"], visitor=v)
    first = v.left_at
    v = visitors.visitor_left(actor=personas["guard"], visitor=v)
    assert v.left_at == first
    assert list(
        Passage.objects.filter(visitor=v).values_list("direction", flat=True).order_by("at")
    ) == [
        "in",
        "out",
    ]


def test_household_find(personas, ledger):
    guard = personas["guard"]
    assert visitors.household_find(guard, "1号楼 101") == [ledger["h1"]]
    assert visitors.household_find(guard, "1-101") == [ledger["h1"]]
    assert visitors.household_find(guard, "华美小区 1号楼 1单元 101") == [ledger["h1"]]
    assert visitors.household_find(guard, "201") == [ledger["h3"]]
    assert visitors.household_find(guard, "王小明") == [ledger["h1"]]
    assert visitors.household_find(guard, "901") == []  # another community's door
    assert visitors.household_find(personas["outsider"], "1号楼 101") == []


# --- pages ----------------------------------------------------------------------------------


def test_register_page(client, personas, ledger, gate):
    client.force_login(personas["volunteer"])
    assert client.get("/checkpoints/visitors/new/").status_code == 200
    body = {
        "checkpoint": gate.pk,
        "kind": "visitor",
        "name": "张医生",
        "phone": "13911112222",
        "purpose": "上门看病",
        "host": "1号楼 101",
        "temperature": "36.4",
        "proof": "negative",
        "uid": str(uuid.uuid4()),
    }
    r = client.post("/checkpoints/visitors/new/", {**body, "phone": "12345"})
    assert r.status_code == 200 and "11" in r.content.decode()
    r = client.post("/checkpoints/visitors/new/", {**body, "host": ""})
    assert "Name the household visited" in r.content.decode()
    r = client.post("/checkpoints/visitors/new/", {**body, "host": "1号楼 909"})
    assert "No household found" in r.content.decode()
    assert Visitor.objects.count() == 0
    r = client.post("/checkpoints/visitors/new/", body)
    assert r.status_code == 302
    v = Visitor.objects.get()
    assert v.host == ledger["h1"]
    html = client.get(r["Location"]).content.decode()
    assert "139****2222" in html and "13911112222" not in html and "Allow" in html
    html = client.get("/checkpoints/visitors/").content.decode()
    assert "张医生" in html and "1 still inside" in html
    r = client.post(f"/checkpoints/visitors/{v.pk}/left/")
    assert r.status_code == 302 and Visitor.objects.get().left_at is not None


def test_several_hosts_to_pick(client, personas, ledger, gate):
    from shouwang.core.testing import make_building, make_household, make_resident

    b = make_building(ledger["h1"].community, "新虹公寓", "1号楼")
    h = make_household(ledger["h1"].community, building=b, door="101")
    make_resident(h, name="钱七", phone="")
    client.force_login(personas["guard"])
    body = {
        "checkpoint": gate.pk,
        "kind": "visitor",
        "name": "张医生",
        "phone": "13911112222",
        "purpose": "上门看病",
        "host": "1号楼 101",
        "temperature": "36.4",
        "proof": "negative",
    }
    r = client.post("/checkpoints/visitors/new/", body)
    html = r.content.decode()
    assert "pick one" in html and 'name="host_id"' in html
    r = client.post("/checkpoints/visitors/new/", {**body, "host_id": h.pk})
    assert r.status_code == 302 and Visitor.objects.get().host == h


def test_api(client, personas, ledger, gate):
    client.force_login(personas["guard"])
    uid = str(uuid.uuid4())
    body = {
        "checkpoint_id": gate.pk,
        "kind": "courier",
        "name": "快递员",
        "phone": "13911112222",
        "company": "美团",
        "temperature": "36.6",
        "proof": "negative",
        "uid": uid,
    }
    r = client.post("/api/v1/checkpoints/visitors", body, content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["phone_masked"] == "139****2222" and r.json()["decision"] == "allow"
    r2 = client.post("/api/v1/checkpoints/visitors", body, content_type="application/json")
    assert r2.json()["id"] == r.json()["id"]
    r = client.post(
        "/api/v1/checkpoints/visitors",
        {**body, "uid": None, "phone": "1234"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "phone" in r.json()["error"]["fields"]
    vid = r2.json()["id"]
    assert client.post(f"/api/v1/checkpoints/visitors/{vid}/left").json()["left_at"]
    assert [v["id"] for v in client.get("/api/v1/checkpoints/visitors").json()] == [vid]
