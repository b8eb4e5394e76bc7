"""Clear by shift (每班清): the off-going operator hands over by name, with a frozen clock across
the shift boundary."""

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.core.errors import DomainError
from shouwang.core.testing import make_user
from shouwang.helpline import shifts
from shouwang.helpline.models import EventKind, Handover, HelpRequest, RequestEvent, Status
from shouwang.helpline.testing import make_request

pytestmark = pytest.mark.django_db


def at(day: int, hh: int, mm: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2021, 12, day, hh, mm))


@pytest.fixture
def desk(community, personas):
    """Day operator `staff`, next shift `op2`; requests logged during the 08–16 shift."""
    op2 = make_user("staff", community, username="op2")
    mine = make_request(community, owner=personas["staff"], summary="我的", at=at(24, 9))
    nobody = make_request(community, summary="没人管", at=at(24, 10))
    admins = make_request(community, owner=personas["admin"], summary="主任的", at=at(24, 11))
    # Logged at 9:00, a life-threatening one is due at 9:30: overdue at the handover.
    late = make_request(community, owner=personas["staff"], urgency=1, summary="急", at=at(24, 9))
    done = make_request(community, owner=personas["staff"], summary="已办", at=at(24, 9))
    HelpRequest.objects.filter(pk=done.pk).update(status=Status.CLOSED, resolved_at=at(24, 10))
    return {
        "op2": op2,
        "mine": mine,
        "nobody": nobody,
        "admins": admins,
        "late": late,
        "done": done,
    }


def test_handover_lists_every_live_request_and_moves_mine_and_unowned(community, personas, desk):
    staff, op2 = personas["staff"], desk["op2"]
    h = shifts.handover(
        staff, community.pk, received_by=op2, note="3号楼等回电", now=at(24, 15, 50)
    )
    assert h.created
    assert (h.shift_start, h.shift_end) == (at(24, 8), at(24, 16))
    assert (h.handed_by, h.received_by, h.automatic) == (staff, op2, False)
    items = {i.request_id: i for i in h.items.all()}
    assert set(items) == {desk[k].pk for k in ("mine", "nobody", "admins", "late")}
    for key in ("mine", "nobody", "late"):
        desk[key].refresh_from_db()
        assert desk[key].owner == op2, key
        assert items[desk[key].pk].owner_after == op2
    assert items[desk["mine"].pk].owner_before == staff
    assert items[desk["nobody"].pk].owner_before is None
    # The admin's own request stays theirs; it is listed all the same.
    desk["admins"].refresh_from_db()
    assert desk["admins"].owner == personas["admin"]
    assert items[desk["admins"].pk].owner_after == personas["admin"]
    assert [i.request_id for i in h.items.filter(overdue=True)] == [desk["late"].pk]
    moved = RequestEvent.objects.filter(kind=EventKind.HANDED_OVER)
    assert {e.request_id for e in moved} == {desk[k].pk for k in ("mine", "nobody", "late")}
    e = moved.get(request=desk["mine"])
    assert (e.by, e.from_user, e.to_user, e.at) == (staff, staff, op2, at(24, 15, 50))


def test_one_handover_per_shift_end(community, personas, desk):
    first = shifts.handover(
        personas["staff"], community.pk, received_by=desk["op2"], now=at(24, 15, 50)
    )
    again = shifts.handover(
        personas["admin"], community.pk, received_by=personas["staff"], now=at(24, 15, 55)
    )
    assert again.pk == first.pk and not again.created
    assert Handover.objects.count() == 1
    assert RequestEvent.objects.filter(kind=EventKind.HANDED_OVER).count() == 3


def test_just_after_the_boundary_the_ended_shift_is_handed_over(community, personas, desk):
    """An operator who stays ten minutes past 16:00 hands over the day shift, not the evening."""
    h = shifts.handover(
        personas["staff"], community.pk, received_by=desk["op2"], now=at(24, 16, 10)
    )
    assert (h.shift_start, h.shift_end) == (at(24, 8), at(24, 16))
    # Once it is handed over, the next handover is the evening shift's.
    h2 = shifts.handover(
        desk["op2"], community.pk, received_by=personas["staff"], now=at(24, 16, 20)
    )
    assert h2.created and h2.shift_end == at(25, 0)
    # Past the grace period it is the current shift in any case.
    assert shifts.shift_to_hand(community.pk, at(25, 0, 45)) == (at(25, 0), at(25, 8))


def test_across_midnight_the_evening_shift_is_handed_to_the_night(community, personas, desk):
    staff, op2 = personas["staff"], desk["op2"]
    shifts.handover(staff, community.pk, received_by=op2, now=at(24, 15, 55))
    night = make_request(community, owner=op2, summary="夜里来电", at=at(24, 23, 40))
    h = shifts.handover(op2, community.pk, received_by=staff, now=at(25, 0, 5))
    assert (h.shift_start, h.shift_end) == (at(24, 16), at(25, 0))
    night.refresh_from_db()
    assert night.owner == staff
    # Everything op2 received at 16:00 went back to staff at midnight.
    assert set(
        HelpRequest.objects.filter(owner=staff, status__in=["open"]).values_list("pk", flat=True)
    ) >= {
        desk["mine"].pk,
        desk["nobody"].pk,
        night.pk,
    }


def test_refusals(community, personas, desk):
    staff = personas["staff"]
    with pytest.raises(DomainError) as e:
        shifts.handover(staff, community.pk, received_by=None, now=at(24, 15))
    assert "received_by" in e.value.fields
    with pytest.raises(DomainError) as e:
        shifts.handover(staff, community.pk, received_by=staff, now=at(24, 15))
    assert "received_by" in e.value.fields
    with pytest.raises(DomainError) as e:  # a guard takes no calls
        shifts.handover(staff, community.pk, received_by=personas["guard"], now=at(24, 15))
    assert "received_by" in e.value.fields
    with pytest.raises(DomainError):
        shifts.handover(staff, community.pk, received_by=personas["outsider"], now=at(24, 15))
    assert not Handover.objects.exists()


def test_acknowledge_by_the_receiver_or_the_office(community, personas, desk):
    h = shifts.handover(
        personas["staff"], community.pk, received_by=desk["op2"], now=at(24, 15, 50)
    )
    with pytest.raises(DomainError) as e:
        shifts.acknowledge(personas["grid_leader"], h)
    assert e.value.status == 403
    shifts.acknowledge(desk["op2"], h, now=at(24, 16, 5))
    h.refresh_from_db()
    assert h.acknowledged_at == at(24, 16, 5)
    shifts.acknowledge(personas["admin"], h, now=at(24, 17))  # once is enough
    h.refresh_from_db()
    assert h.acknowledged_at == at(24, 16, 5)


def freeze(monkeypatch, when):
    monkeypatch.setattr(timezone, "now", lambda: when)


def test_shift_page_hands_over_by_name(client, monkeypatch, community, personas, desk):
    freeze(monkeypatch, at(24, 15, 45))
    client.force_login(personas["staff"])
    page = client.get("/helpline/shifts/").content.decode()
    assert "This shift: 12-24 08:00 – 12-24 16:00" in page
    assert desk["late"].reference in page and desk["done"].reference not in page
    assert "op2" in page  # in the select of who takes over
    resp = client.post(
        "/helpline/shifts/handover/", {"received_by": desk["op2"].pk, "note": "注意"}
    )
    h = Handover.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/helpline/handovers/{h.pk}/"
    page = client.get(resp["Location"]).content.decode()
    assert desk["mine"].reference in page and "moved" in page and "overdue" in page
    # The receiver sees it waiting on the shift page and acknowledges it.
    client.force_login(desk["op2"])
    assert (
        "handed the shift ending 12-24 16:00 over to you"
        in client.get("/helpline/shifts/").content.decode()
    )
    client.post(f"/helpline/handovers/{h.pk}/ack/")
    h.refresh_from_db()
    assert h.acknowledged_at == at(24, 15, 45)


def test_shift_page_refuses_handing_over_to_oneself(client, monkeypatch, community, personas, desk):
    freeze(monkeypatch, at(24, 15, 45))
    client.force_login(personas["staff"])
    resp = client.post("/helpline/shifts/handover/", {"received_by": personas["staff"].pk})
    assert resp.status_code == 200  # the form again, with the error on the field
    assert "Select a valid choice" in resp.content.decode()
    assert not Handover.objects.exists()


def test_grid_leader_sees_only_their_grid_on_the_list(
    client, monkeypatch, community, personas, ledger
):
    freeze(monkeypatch, at(24, 15, 45))
    a = make_request(community, household=ledger["h1"], summary="甲网格", at=at(24, 9))
    b = make_request(community, household=ledger["h3"], summary="乙网格", at=at(24, 9))
    h = shifts.handover(
        None, community.pk, automatic=True, shift=(at(24, 8), at(24, 16)), now=at(24, 16, 40)
    )
    client.force_login(personas["grid_leader"])
    page = client.get(f"/helpline/handovers/{h.pk}/").content.decode()
    assert a.reference in page and b.reference not in page
    page = client.get("/helpline/shifts/").content.decode()
    assert a.reference in page and b.reference not in page


def test_api_handover_and_ack(client, monkeypatch, community, personas, desk):
    freeze(monkeypatch, at(24, 15, 45))
    client.force_login(personas["staff"])
    resp = client.post(
        "/api/v1/helpline/handovers",
        {"received_by_id": desk["op2"].pk, "note": "交班"},
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["received_by"] == "op2" and len(body["items"]) == 4
    assert sum(i["overdue"] for i in body["items"]) == 1
    again = client.post(
        "/api/v1/helpline/handovers",
        {"received_by_id": desk["op2"].pk},
        content_type="application/json",
    )
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    shift = client.get("/api/v1/helpline/shift").json()
    assert shift["handed_over"] and shift["live"] == 4 and shift["overdue"] == 1
    client.force_login(personas["grid_leader"])  # takes calls, but it was not handed to them
    assert client.post(f"/api/v1/helpline/handovers/{body['id']}/ack").status_code == 403
    client.force_login(desk["op2"])
    assert client.post(f"/api/v1/helpline/handovers/{body['id']}/ack").json()["acknowledged_at"]
