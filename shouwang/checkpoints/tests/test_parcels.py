"""Parcels at the gate shelf: the chain in order and idempotent, the text message after commit
(never on rollback), the household seeing and confirming its parcel, the pages and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from shouwang.checkpoints import parcels
from shouwang.checkpoints.models import Checkpoint, Parcel, ParcelStatus
from shouwang.core.errors import Conflict
from shouwang.residents import services as resident_services
from shouwang.residents.models import SmsMessage
from shouwang.residents.sms import MemoryGateway

NOW = dt.datetime(2022, 4, 12, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


@pytest.fixture(autouse=True)
def _memory_sms(settings):
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"
    MemoryGateway.outbox.clear()
    yield
    MemoryGateway.outbox.clear()


@pytest.fixture
def gate(community):
    return Checkpoint.objects.create(community=community, name="东门卡口")


def _log(personas, gate, household, **kw):
    return parcels.parcel_log(
        actor=personas["guard"],
        checkpoint=gate,
        household=household,
        courier=kw.pop("courier", "顺丰"),
        description=kw.pop("description", "药品"),
        shelf=kw.pop("shelf", "A3"),
        now=kw.pop("now", NOW),
        **kw,
    )


def test_chain_in_order_with_times_and_who(personas, ledger, gate):
    guard, vol = personas["guard"], personas["volunteer"]
    p = _log(personas, gate, ledger["h1"])
    assert p.status == ParcelStatus.LOGGED and p.logged_by == guard
    p = parcels.parcel_step(actor=guard, parcel=p, step="disinfected", now=NOW)
    assert p.status == ParcelStatus.DISINFECTED and p.disinfected_by == guard
    assert p.held_until == NOW + dt.timedelta(minutes=parcels.HOLD_MINUTES)
    later = NOW + dt.timedelta(hours=3)
    p = parcels.parcel_step(actor=guard, parcel=p, step="handed", volunteer=vol, now=later)
    assert p.status == ParcelStatus.HANDED and p.handed_to == vol and p.handed_at == later
    p = parcels.parcel_step(actor=vol, parcel=p, step="delivered", now=later)
    assert p.status == ParcelStatus.DELIVERED and p.delivered_by == vol
    assert not p.confirmed_by_household


def test_out_of_order_steps_are_refused_with_what_comes_first(personas, ledger, gate):
    guard = personas["guard"]
    p = _log(personas, gate, ledger["h1"])
    with pytest.raises(Conflict) as e:
        parcels.parcel_step(actor=guard, parcel=p, step="handed", now=NOW)
    assert e.value.code == "step_order" and "Disinfected" in str(e.value.message)
    with pytest.raises(Conflict):
        parcels.parcel_step(actor=guard, parcel=p, step="delivered", now=NOW)
    assert Parcel.objects.get(pk=p.pk).status == ParcelStatus.LOGGED


def test_hand_over_refused_while_held(personas, ledger, gate):
    guard = personas["guard"]
    p = _log(personas, gate, ledger["h1"])
    p = parcels.parcel_step(actor=guard, parcel=p, step="disinfected", now=NOW)
    with pytest.raises(Conflict) as e:
        parcels.parcel_step(
            actor=guard, parcel=p, step="handed", now=NOW + dt.timedelta(minutes=30)
        )
    assert e.value.code == "held" and "12:00" in str(e.value.message)  # held until 12:00 local


def test_hold_time_from_settings(personas, ledger, gate, settings):
    settings.CHECKPOINT_PARCEL_HOLD_MINUTES = 30
    p = _log(personas, gate, ledger["h1"])
    p = parcels.parcel_step(actor=personas["guard"], parcel=p, step="disinfected", now=NOW)
    assert p.held_until == NOW + dt.timedelta(minutes=30)


def test_steps_are_idempotent(personas, ledger, gate):
    guard = personas["guard"]
    p = _log(personas, gate, ledger["h1"])
    first = parcels.parcel_step(actor=guard, parcel=p, step="disinfected", now=NOW)
    again = parcels.parcel_step(
        actor=personas["staff"], parcel=p, step="disinfected", now=NOW + dt.timedelta(hours=1)
    )
    assert again.disinfected_at == first.disinfected_at and again.disinfected_by == guard
    later = NOW + dt.timedelta(hours=3)
    parcels.parcel_step(actor=guard, parcel=p, step="handed", now=later)
    # A late "disinfected" press after the hand-over changes nothing either.
    p2 = parcels.parcel_step(actor=guard, parcel=p, step="disinfected", now=later)
    assert p2.status == ParcelStatus.HANDED


def test_double_tap_on_log_is_one_parcel(
    personas, ledger, gate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        a = _log(personas, gate, ledger["h1"])
        b = _log(personas, gate, ledger["h1"], now=NOW + dt.timedelta(seconds=20))
    assert a.pk == b.pk and Parcel.objects.count() == 1
    assert len(MemoryGateway.outbox) == 1
    # Another parcel for the same home (another shelf place) is a second one.
    _log(personas, gate, ledger["h1"], shelf="B1", now=NOW + dt.timedelta(seconds=30))
    assert Parcel.objects.count() == 2


def test_sms_after_commit_masked_and_without_personal_data(
    personas, ledger, gate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        p = _log(personas, gate, ledger["h1"], description="胰岛素")
    assert MemoryGateway.outbox == []  # nothing before the commit
    for cb in callbacks:
        cb()
    [(phone, text, kind)] = MemoryGateway.outbox
    assert phone == "+8613912345678" and kind == "parcel"  # the head 王小明's phone
    assert "东门卡口" in text and "A3" in text
    assert "王" not in text and "胰岛素" not in text and "101" not in text
    assert Parcel.objects.get(pk=p.pk).sms_sent_at is not None
    row = SmsMessage.objects.get(kind="parcel")
    assert row.to_masked == "139****5678" and row.ok


def test_no_sms_on_rollback(personas, ledger, gate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                _log(personas, gate, ledger["h1"])
                raise RuntimeError("the request failed after the log")
    assert MemoryGateway.outbox == [] and Parcel.objects.count() == 0


def test_household_without_phone_is_not_texted(
    personas, ledger, gate, django_capture_on_commit_callbacks
):
    from shouwang.core.testing import make_household, make_resident

    h = make_household(ledger["h1"].community, building=ledger["h1"].building, door="909")
    make_resident(h, name="孤老", phone="")
    with django_capture_on_commit_callbacks(execute=True):
        p = _log(personas, gate, h)
    assert MemoryGateway.outbox == [] and Parcel.objects.get(pk=p.pk).sms_sent_at is None


# --- the household's page -------------------------------------------------------------------


@pytest.fixture
def household_client(client, ledger, personas):
    _link, token = resident_services.link_issue(actor=personas["admin"], household=ledger["h1"])
    assert client.get(f"/h/{token}/").status_code == 302
    return client


def test_household_sees_and_confirms_its_parcel(household_client, personas, ledger, gate):
    guard = personas["guard"]
    p = _log(personas, gate, ledger["h1"], now=timezone.now() - dt.timedelta(hours=4))
    other = _log(personas, gate, ledger["h2"], now=timezone.now() - dt.timedelta(hours=4))
    page = household_client.get(f"/my/households/{ledger['h1'].pk}/").content.decode()
    assert "Parcels at the gate" in page and "on the gate shelf" in page
    assert "I have received it" not in page  # not with the volunteer yet
    url = f"/checkpoints/households/{ledger['h1'].pk}/parcels/{p.pk}/received/"
    r = household_client.post(url, follow=True)
    assert "still at the gate" in r.content.decode()
    assert Parcel.objects.get(pk=p.pk).status == ParcelStatus.LOGGED
    parcels.parcel_step(
        actor=guard, parcel=p, step="disinfected", now=timezone.now() - dt.timedelta(hours=3)
    )
    parcels.parcel_step(actor=guard, parcel=p, step="handed", volunteer=personas["volunteer"])
    page = household_client.get(f"/my/households/{ledger['h1'].pk}/").content.decode()
    assert "I have received it" in page
    r = household_client.post(url)
    assert r.status_code == 302 and r["Location"].endswith("#parcels")
    p.refresh_from_db()
    assert p.status == ParcelStatus.DELIVERED and p.confirmed_by_household
    assert p.delivered_by is None
    assert household_client.post(url).status_code == 302  # twice: unchanged
    # Another household's parcel through this household's address: 404.
    bad = f"/checkpoints/households/{ledger['h1'].pk}/parcels/{other.pk}/received/"
    assert household_client.post(bad).status_code == 404
    bad = f"/checkpoints/households/{ledger['h2'].pk}/parcels/{other.pk}/received/"
    assert household_client.post(bad).status_code == 404


def test_staff_household_page_shows_parcels(client, personas, ledger, gate):
    _log(personas, gate, ledger["h1"], now=timezone.now())
    client.force_login(personas["staff"])
    html = client.get(f"/households/{ledger['h1'].pk}/").content.decode()
    assert "Parcels at the gate" in html and "顺丰" in html
    html = client.get(f"/households/{ledger['h2'].pk}/").content.decode()
    assert "Parcels at the gate" not in html


# --- pages ----------------------------------------------------------------------------------


def test_log_page_finds_the_door_and_texts(
    client, personas, ledger, gate, django_capture_on_commit_callbacks
):
    client.force_login(personas["guard"])
    assert client.get("/checkpoints/parcels/new/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            "/checkpoints/parcels/new/",
            {"checkpoint": gate.pk, "household": "1号楼 101", "courier": "京东", "shelf": "C2"},
        )
    assert r.status_code == 302
    p = Parcel.objects.get()
    assert p.household == ledger["h1"] and p.shelf == "C2"
    assert len(MemoryGateway.outbox) == 1


def test_log_page_unknown_door_and_several_matches(client, personas, ledger, gate):
    client.force_login(personas["guard"])
    r = client.post("/checkpoints/parcels/new/", {"checkpoint": gate.pk, "household": "1号楼 999"})
    assert r.status_code == 200 and "No household found" in r.content.decode()
    r = client.post("/checkpoints/parcels/new/", {"checkpoint": gate.pk, "household": "1号楼"})
    assert "No household found" in r.content.decode() or "pick one" in r.content.decode()
    r = client.post("/checkpoints/parcels/new/", {"checkpoint": gate.pk, "household": "10"})
    assert Parcel.objects.count() == 0


def test_step_page_and_lists(client, personas, ledger, gate):
    p = _log(personas, gate, ledger["h1"], now=timezone.now() - dt.timedelta(hours=5))
    client.force_login(personas["guard"])
    html = client.get("/checkpoints/parcels/").content.decode()
    assert "华美小区 1号楼 1单元 101" in html and "Disinfected" in html
    r = client.post(f"/checkpoints/parcels/{p.pk}/step/", {"step": "handed"}, follow=True)
    assert "Not yet" in r.content.decode()
    client.post(f"/checkpoints/parcels/{p.pk}/step/", {"step": "disinfected"})
    p.refresh_from_db()
    assert p.status == ParcelStatus.DISINFECTED
    Parcel.objects.filter(pk=p.pk).update(held_until=timezone.now() - dt.timedelta(minutes=1))
    vol = personas["volunteer"]
    client.post(f"/checkpoints/parcels/{p.pk}/step/", {"step": "handed", "volunteer": vol.pk})
    p.refresh_from_db()
    assert p.handed_to == vol
    client.force_login(vol)
    html = client.get("/checkpoints/parcels/mine/").content.decode()
    assert "华美小区 1号楼 1单元 101" in html
    html = client.get(f"/checkpoints/parcels/?building={ledger['h1'].building_id}").content.decode()
    assert "华美小区 1号楼 1单元 101" in html


def test_lists_are_one_query_per_list(
    client, personas, ledger, gate, django_assert_max_num_queries
):
    for i in range(6):
        _log(personas, gate, ledger["h1" if i % 2 else "h3"], shelf=f"A{i}")
    client.force_login(personas["guard"])
    with django_assert_max_num_queries(14):
        assert client.get("/checkpoints/parcels/").status_code == 200


# --- API ------------------------------------------------------------------------------------


def test_api_log_and_steps(client, personas, ledger, gate, django_capture_on_commit_callbacks):
    client.force_login(personas["guard"])
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            "/api/v1/checkpoints/parcels",
            {"checkpoint_id": gate.pk, "household_id": ledger["h3"].pk, "shelf": "D4"},
            content_type="application/json",
        )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["next_step"] == "disinfected" and body["status"] == "logged"
    pid = body["id"]
    r = client.post(
        f"/api/v1/checkpoints/parcels/{pid}/steps",
        {"step": "delivered"},
        content_type="application/json",
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "step_order"
    r = client.post(
        f"/api/v1/checkpoints/parcels/{pid}/steps",
        {"step": "disinfected"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["held_until"]
    assert [p["id"] for p in client.get("/api/v1/checkpoints/parcels").json()] == [pid]
    # Another community's household: not found.
    r = client.post(
        "/api/v1/checkpoints/parcels",
        {"checkpoint_id": gate.pk, "household_id": ledger["ho"].pk},
        content_type="application/json",
    )
    assert r.status_code == 404
