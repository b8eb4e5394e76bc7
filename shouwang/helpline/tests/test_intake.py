"""Intake: the caller's number opens the household, the form logs the request once, measures the
intake and refuses what is out of the operator's scope."""

import time

import pytest

from shouwang.core.errors import DomainError
from shouwang.helpline import intake
from shouwang.helpline.models import Channel, EventKind, HelpRequest, Status, Urgency
from shouwang.helpline.testing import category, make_request

pytestmark = pytest.mark.django_db


# --- households_by_phone --------------------------------------------------------------------


def test_a_members_phone_opens_the_household_with_its_members(personas, ledger):
    found = intake.households_by_phone(personas["staff"], "139 1234 5678")
    assert [m.household.pk for m in found] == [ledger["h1"].pk]
    m = found[0]
    assert m.resident == ledger["r1"]
    assert {p.name for p in m.members} == {"王小明", "王大明"}
    assert m.via_request is None and m.live == 0


def test_a_number_that_called_before_opens_that_household(community, personas, ledger):
    earlier = make_request(community, household=ledger["h2"], caller_phone="13500009999")
    found = intake.households_by_phone(personas["staff"], "+8613500009999")
    assert [m.household.pk for m in found] == [ledger["h2"].pk]
    assert found[0].resident is None
    assert found[0].via_request == earlier
    assert found[0].live == 1


def test_the_lookup_keeps_to_the_users_scope(personas, ledger):
    # r3 lives in grid B: the grid leader of grid A does not find them; staff do.
    assert intake.households_by_phone(personas["grid_leader"], "13700002222") == []
    assert len(intake.households_by_phone(personas["staff"], "13700002222")) == 1
    # Another community's resident is nobody's here.
    assert intake.households_by_phone(personas["staff"], "13900003333") == []
    assert len(intake.households_by_phone(personas["outsider"], "13900003333")) == 1


def test_moved_out_members_do_not_open_the_household(personas, ledger):
    r = ledger["r2"]
    r.presence = "moved_out"
    r.save(update_fields=["presence"])
    assert intake.households_by_phone(personas["staff"], "18600001111") == []


def test_an_empty_number_finds_nothing_and_a_bad_one_is_a_field_error(personas, ledger):
    assert intake.households_by_phone(personas["staff"], "") == []
    with pytest.raises(DomainError) as e:
        intake.households_by_phone(personas["staff"], "12345")
    assert "phone" in e.value.fields


# --- the intake page ------------------------------------------------------------------------


def _form(community, **kw):
    data = {
        "caller_phone": "13912345678",
        "category": category(community).pk,
        "urgency": Urgency.HARDSHIP,
        "summary": "需要买降压药",
        "channel": Channel.PHONE,
        "client_key": "ck-1",
        "opened": int(time.time()) - 12,
    }
    data.update(kw)
    return data


def test_find_without_javascript_opens_the_household(client, community, personas, ledger):
    client.force_login(personas["staff"])
    resp = client.post("/helpline/new/", {"caller_phone": "13912345678", "find": "1"})
    page = resp.content.decode()
    assert resp.status_code == 200
    assert f'name="household" value="{ledger["h1"].pk}" checked' in page
    assert f'name="resident" value="{ledger["r1"].pk}" data-household' in page
    assert "王大明" in page
    assert not HelpRequest.objects.exists()


def test_the_lookup_fragment_lists_the_members(client, personas, ledger):
    client.force_login(personas["staff"])
    page = client.get("/helpline/new/lookup/", {"phone": "13912345678"}).content.decode()
    assert "王小明" in page and "王大明" in page
    page = client.get("/helpline/new/lookup/", {"phone": "13811110000"}).content.decode()
    assert "No household has this number" in page
    page = client.get("/helpline/new/lookup/", {"phone": "123"}).content.decode()
    assert "field-error" in page


def test_logging_a_call_for_a_member(client, community, personas, ledger):
    staff = personas["staff"]
    client.force_login(staff)
    # The owner's select starts on the operator.
    assert client.get("/helpline/new/").context["form"]["owner"].value() == staff.pk
    resp = client.post(
        "/helpline/new/",
        _form(community, household=ledger["h1"].pk, resident=ledger["r1b"].pk, owner=staff.pk),
    )
    req = HelpRequest.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/helpline/requests/{req.pk}/"
    assert req.household == ledger["h1"] and req.resident == ledger["r1b"]
    assert req.owner == staff  # owner defaults to the operator
    assert req.urgency == Urgency.HARDSHIP and req.status == Status.OPEN
    assert req.caller_phone_masked == "139****5678"
    assert 10 <= req.intake_seconds <= 20
    assert [e.kind for e in req.events.all()] == [EventKind.LOGGED, EventKind.ASSIGNED]
    page = client.get(resp["Location"]).content.decode()
    assert req.reference in page


def test_a_double_submit_makes_one_request(client, community, personas, ledger):
    client.force_login(personas["staff"])
    first = client.post("/helpline/new/", _form(community, household=ledger["h1"].pk))
    again = client.post("/helpline/new/", _form(community, household=ledger["h1"].pk))
    assert HelpRequest.objects.count() == 1
    assert first["Location"] == again["Location"]


def test_a_fresh_form_has_its_own_client_key(client, personas):
    client.force_login(personas["staff"])
    a = client.get("/helpline/new/").context["form"].initial["client_key"]
    b = client.get("/helpline/new/").context["form"].initial["client_key"]
    assert a and b and a != b


def test_a_missing_summary_is_shown_on_the_form(client, community, personas, ledger):
    client.force_login(personas["staff"])
    resp = client.post("/helpline/new/", _form(community, summary="", household=ledger["h1"].pk))
    assert resp.status_code == 200
    assert resp.context["form"].errors["summary"]
    # The household stays picked for the second try.
    assert f'name="household" value="{ledger["h1"].pk}" checked' in resp.content.decode()
    assert not HelpRequest.objects.exists()


def test_a_grid_leader_cannot_log_for_a_household_outside_the_grid(
    client, community, personas, ledger
):
    client.force_login(personas["grid_leader"])
    resp = client.post("/helpline/new/", _form(community, household=ledger["h3"].pk))
    assert resp.status_code == 200
    assert not HelpRequest.objects.exists()


def test_a_resident_of_another_household_moves_the_request_to_theirs(
    client, community, personas, ledger
):
    client.force_login(personas["staff"])
    client.post(
        "/helpline/new/",
        _form(community, household=ledger["h1"].pk, resident=ledger["r2"].pk),
    )
    assert HelpRequest.objects.get().household == ledger["h2"]


def test_nobody_as_owner_leaves_it_to_the_shift(client, community, personas, ledger):
    client.force_login(personas["staff"])
    client.post("/helpline/new/", _form(community, owner=""))
    assert HelpRequest.objects.get().owner is None


def test_from_the_household_page_the_household_is_picked(client, personas, ledger):
    client.force_login(personas["staff"])
    house = client.get(f"/households/{ledger['h1'].pk}/").content.decode()
    assert f"/helpline/new/?household={ledger['h1'].pk}" in house
    page = client.get(f"/helpline/new/?household={ledger['h1'].pk}").content.decode()
    assert f'name="household" value="{ledger["h1"].pk}" checked' in page
    assert "王大明" in page
    # A household of another grid is not offered to the grid leader.
    client.force_login(personas["grid_leader"])
    page = client.get(f"/helpline/new/?household={ledger['h3'].pk}").content.decode()
    assert f'name="household" value="{ledger["h3"].pk}"' not in page


def test_categories_are_buttons_under_their_group(client, community, personas):
    client.force_login(personas["staff"])
    resp = client.get("/helpline/new/")
    page = resp.content.decode()
    groups = [g["key"] for g in resp.context["groups"]]
    assert groups[:3] == ["livelihood", "special", "policy"]
    assert 'name="category"' in page and "Livelihood (medicine, gas, food)" in page
