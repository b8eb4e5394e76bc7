"""Adding and changing people by hand: the import's rules, one person at a time."""

from datetime import date

import pytest

from shouwang.accounts.services import token_create
from shouwang.core import testing as t
from shouwang.core.errors import Conflict, DomainError, Forbidden
from shouwang.core.models import AuditEvent
from shouwang.registry.models import CareTag, Household
from shouwang.registry.services import resident_create, resident_update


def test_add_a_newborn_derives_sex_and_birth_date(personas, ledger):
    h = ledger["h1"]
    number = t.valid_id(date(2022, 3, 1), sex="F")
    r = resident_create(
        actor=personas["staff"],
        household=h,
        data={
            "name": "小宝",
            "id_number": number,
            "relation": "child",
            "tags": int(CareTag.INFANT),
        },
    )
    assert (r.sex, r.birth_date) == ("F", date(2022, 3, 1))
    assert Household.objects.get(pk=h.pk).size == 3
    e = AuditEvent.objects.get(action="resident.create")
    assert number not in e.summary


def test_bad_fields_are_all_named(personas, ledger):
    with pytest.raises(DomainError) as exc:
        resident_create(
            actor=personas["admin"],
            household=ledger["h1"],
            data={"name": "", "id_number": "123", "phone": "021-64001234"},
        )
    assert set(exc.value.fields) == {"name", "id_number", "phone"}


def test_duplicate_id_and_second_head_are_conflicts(personas, ledger):
    with pytest.raises(Conflict) as exc:
        resident_create(
            actor=personas["admin"],
            household=ledger["h2"],
            data={"name": "重复", "id_number": ledger["r1"].id_number},
        )
    assert exc.value.code == "id_duplicate"
    with pytest.raises(Conflict) as exc:
        resident_create(
            actor=personas["admin"],
            household=ledger["h1"],
            data={"name": "二号户主", "id_number": t.valid_id(), "relation": "head"},
        )
    assert exc.value.code == "head_exists"


def test_guard_may_not_edit(personas, ledger):
    with pytest.raises(Forbidden):
        resident_update(actor=personas["guard"], resident=ledger["r1"], data={"presence": "away"})


def test_moving_out_shrinks_the_household_and_phone_change_moves_the_contact(personas, ledger):
    r1, h1 = ledger["r1"], ledger["h1"]
    resident_update(actor=personas["staff"], resident=ledger["r1b"], data={"presence": "moved_out"})
    assert Household.objects.get(pk=h1.pk).size == 1
    resident_update(actor=personas["staff"], resident=r1, data={"phone": "186 0000 9999"})
    h1.refresh_from_db()
    r1.refresh_from_db()
    assert r1.phone == "+8618600009999"
    assert h1.contact_phone_masked == "186****9999"
    e = AuditEvent.objects.filter(action="resident.update").latest("id")
    assert e.summary == "changed: phone" and "9999" not in e.summary


def test_unchanged_update_writes_nothing(personas, ledger):
    resident_update(
        actor=personas["staff"], resident=ledger["r1"], data={"name": ledger["r1"].name}
    )
    assert not AuditEvent.objects.filter(action="resident.update").exists()


def test_add_and_edit_over_http(client, personas, ledger):
    client.force_login(personas["staff"])
    h = ledger["h2"]
    resp = client.post(
        f"/households/{h.pk}/members/new/",
        {
            "name": "新租客",
            "id_type": "resident_id",
            "id_number": "1234",
            "phone": "",
            "relation": "other",
            "residency": "tenant",
            "presence": "present",
            "tags": [],
        },
    )
    assert resp.status_code == 400
    assert "id_number" in resp.context["form"].errors
    number = t.valid_id()
    resp = client.post(
        f"/households/{h.pk}/members/new/",
        {
            "name": "新租客",
            "id_type": "resident_id",
            "id_number": number,
            "phone": "13800001234",
            "relation": "other",
            "residency": "tenant",
            "presence": "present",
            "tags": [str(int(CareTag.NO_SMARTPHONE))],
        },
    )
    assert resp.status_code == 302
    person = h.members.get(name="新租客")
    assert person.tags == CareTag.NO_SMARTPHONE
    page = client.get(f"/residents/{person.pk}/edit/")
    assert page.status_code == 200
    assert "13800001234" not in page.content.decode(), "the edit form shows the phone masked"
    resp = client.post(
        f"/residents/{person.pk}/edit/",
        {
            "name": "新租客",
            "phone": person.phone_masked,
            "relation": "other",
            "residency": "tenant",
            "presence": "away",
            "tags": [],
        },
    )
    assert resp.status_code == 302
    person.refresh_from_db()
    assert (person.presence, person.tags, person.phone) == ("away", 0, "+8613800001234")


def test_api_add_and_patch(client, personas, ledger):
    token = token_create(user=personas["admin"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    h = ledger["h3"]
    resp = client.post(
        f"/api/v1/registry/households/{h.pk}/members",
        {"name": "接口人", "id_number": t.valid_id(), "relation": "spouse"},
        content_type="application/json",
        **auth,
    )
    assert resp.status_code == 201, resp.content
    rid = resp.json()["id"]
    resp = client.patch(
        f"/api/v1/registry/residents/{rid}",
        {"phone": "12345"},
        content_type="application/json",
        **auth,
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["fields"].keys() == {"phone"}
    resp = client.patch(
        f"/api/v1/registry/residents/{rid}",
        {"presence": "hospital"},
        content_type="application/json",
        **auth,
    )
    assert resp.json()["presence"] == "hospital"
    other = ledger["ho"]
    resp = client.post(
        f"/api/v1/registry/households/{other.pk}/members",
        {"name": "越界", "id_number": t.valid_id()},
        content_type="application/json",
        **auth,
    )
    assert resp.status_code == 404


def test_register_a_household_behind_an_existing_door(personas, ledger):
    from shouwang.registry.services import household_create

    h1 = ledger["h1"]
    number = t.valid_id()
    h = household_create(
        actor=personas["staff"],
        building=h1.building,
        unit="1单元",
        door=h1.dwelling.door,
        head={"name": "新租户", "id_number": number, "phone": "13800002222", "residency": "tenant"},
    )
    assert h.dwelling_id == h1.dwelling_id, "the same door, a second household"
    h.refresh_from_db()
    assert (h.size, h.head.name, h.head.relation, h.contact_phone_masked) == (
        1,
        "新租户",
        "head",
        "138****2222",
    )
    assert AuditEvent.objects.filter(action="household.create").count() == 1


def test_register_a_household_rolls_back_on_a_bad_head(personas, ledger):
    from shouwang.registry.services import household_create

    before = Household.objects.count()
    with pytest.raises(DomainError) as exc:
        household_create(
            actor=personas["staff"],
            building=ledger["h1"].building,
            unit="",
            door="新门",
            head={"name": "", "id_number": "1"},
        )
    assert set(exc.value.fields) == {"name", "id_number"}
    assert Household.objects.count() == before
    assert not ledger["h1"].building.dwellings.filter(door="新门").exists()


def test_register_over_http_and_api(client, personas, ledger):
    client.force_login(personas["admin"])
    b = ledger["h3"].building
    page = client.get("/households/new/")
    assert page.status_code == 200
    other = ledger["ho"].building
    assert other.pk not in [x.pk for x in page.context["form"].fields["building"].queryset]
    resp = client.post(
        "/households/new/",
        {
            "building": b.pk,
            "unit": "",
            "door": "202",
            "name": "新户主",
            "id_type": "resident_id",
            "id_number": t.valid_id(),
            "phone": "",
            "residency": "registered",
            "presence": "present",
        },
    )
    assert resp.status_code == 302, resp.content
    token = token_create(user=personas["admin"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = {
        "building_id": b.pk,
        "door": "203",
        "head": {"name": "接口户主", "id_number": t.valid_id()},
    }
    resp = client.post("/api/v1/registry/households", body, content_type="application/json", **auth)
    assert resp.status_code == 201, resp.content
    assert resp.json()["members"][0]["relation"] == "head"
    body["building_id"] = other.pk
    resp = client.post("/api/v1/registry/households", body, content_type="application/json", **auth)
    assert resp.status_code == 404


def test_age_tags_follow_the_birth_date_as_in_the_import(personas, ledger):
    from datetime import timedelta

    from django.utils import timezone

    baby_birth = timezone.localdate() - timedelta(days=200)
    baby = resident_create(
        actor=personas["staff"],
        household=ledger["h2"],
        data={"name": "小宝宝", "id_number": t.valid_id(baby_birth)},
    )
    elder = resident_create(
        actor=personas["staff"],
        household=ledger["h2"],
        data={
            "name": "老寿星",
            "id_number": t.valid_id(date(1940, 1, 2)),
            "tags": int(CareTag.LIVING_ALONE),
        },
    )
    assert baby.tags == CareTag.INFANT
    assert elder.tags == CareTag.AGE_60 | CareTag.AGE_80 | CareTag.LIVING_ALONE
