"""Taking a ticket (services.ticket_take): the window, the point's scope, tickets per household,
asking twice, sold out, how the household wants to be told, and who asked on whose behalf.

The builders at the top are shared by the other service tests of this folder."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from shouwang.core import crypto
from shouwang.core.errors import Conflict, DomainError, Forbidden
from shouwang.core.models import AuditEvent
from shouwang.core.testing import make_building, make_community, make_grid, make_household
from shouwang.queues import services
from shouwang.queues.models import SEQ_STEP, Channel, Notify, QueuePoint, SaleDay, Ticket

HOUR = dt.timedelta(hours=1)
_doors = itertools.count(1)


# --- builders (imported by the other test modules of shouwang/queues/tests) ----------------------


def make_point(
    community, *, name="松林超市", location="小区东门", compounds=(), buildings=(), grids=()
) -> QueuePoint:
    p = QueuePoint.objects.create(community=community, name=name, location=location)
    p.compounds.set(compounds)
    p.buildings.set(buildings)
    p.grids.set(grids)
    return p


def make_day(point: QueuePoint, *, now=None, **fields) -> SaleDay:
    """A sale day whose ticket window is open now (opened an hour ago, closes in four hours);
    draw mode draws in 30 minutes unless `draw_at` says otherwise."""
    now = now or timezone.now()
    values = {
        "date": timezone.localdate(now),
        "title": "蔬菜包",
        "take_opens_at": now - HOUR,
        "take_closes_at": now + 4 * HOUR,
        "sale_starts_at": now + HOUR,
        "sale_ends_at": now + 5 * HOUR,
        "tickets_total": 25,
    }
    if fields.get("mode") == SaleDay.Mode.DRAW:
        values["draw_at"] = now + dt.timedelta(minutes=30)
    values.update(fields)
    return services.day_create(actor=None, point=point, **values)


def make_households(community, n: int, *, building=None) -> list:
    """`n` households in one building, made in two bulk inserts (the concurrency tests need
    hundreds)."""
    from shouwang.registry.models import Dwelling, Household, Unit

    building = building or make_building(community)
    unit, _ = Unit.objects.get_or_create(community=community, building=building, name="1单元")
    batch = next(_doors)
    dwellings = Dwelling.objects.bulk_create(
        [
            Dwelling(community=community, building=building, unit=unit, door=f"{batch}-{i}")
            for i in range(n)
        ]
    )
    return Household.objects.bulk_create(
        [Household(community=community, dwelling=d, building=building) for d in dwellings]
    )


def take(day, household, **kw) -> services.Taken:
    return services.ticket_take(day=SaleDay.objects.get(pk=day.pk), household=household, **kw)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def point(community):
    return make_point(community)


@pytest.fixture
def hh(community):
    return make_household(community)


# --- the window -------------------------------------------------------------------------------


def test_a_ticket_is_numbered_in_order_with_its_place_in_line(point, community):
    day = make_day(point)
    a, b = make_households(community, 2)
    first, second = take(day, a), take(day, b)
    assert first.created and second.created and first.registration is None
    assert (first.ticket.number, second.ticket.number) == (1, 2)
    assert (first.ticket.seq, second.ticket.seq) == (SEQ_STEP, 2 * SEQ_STEP)
    assert first.ticket.status == Ticket.Status.WAITING and first.ticket.slot == 1
    assert first.follow_key == first.ticket.follow_key and len(first.follow_key) >= 16
    assert first.follow_key != second.follow_key
    day.refresh_from_db()
    assert day.issued == 2 and day.left == 23


def test_refused_before_the_window_opens(point, hh):
    now = timezone.now()
    day = make_day(point, take_opens_at=now + HOUR, take_closes_at=now + 3 * HOUR)
    with pytest.raises(Conflict) as e:
        take(day, hh)
    assert e.value.code == "not_open_yet"
    opens = timezone.localtime(day.take_opens_at).strftime("%m-%d %H:%M")
    assert opens in str(e.value.message)
    # A minute after it opens, the same household gets number 1.
    assert take(day, hh, now=day.take_opens_at + dt.timedelta(minutes=1)).ticket.number == 1


def test_refused_once_the_window_has_closed(point, hh):
    day = make_day(point)
    with pytest.raises(Conflict) as e:
        take(day, hh, now=day.take_closes_at)
    assert e.value.code == "take_closed"
    assert not Ticket.objects.filter(day=day).exists()
    # A second before the close is still inside.
    assert take(day, hh, now=day.take_closes_at - dt.timedelta(seconds=1)).created


def test_refused_when_the_day_is_closed(point, hh, community):
    day = make_day(point)
    services.day_close(actor=None, day=day)
    with pytest.raises(Conflict) as e:
        take(day, hh)
    assert e.value.code == "day_closed"
    assert "over" in str(e.value.message)
    day.refresh_from_db()
    assert day.issued == 0


def test_a_day_closed_after_it_was_read_is_reported_as_closed_not_sold_out(point, hh):
    day = make_day(point)
    stale = SaleDay.objects.get(pk=day.pk)  # the view has read the day ...
    services.day_close(actor=None, day=day)  # ... and the staff close it before the insert
    with pytest.raises(Conflict) as e:
        services.ticket_take(day=stale, household=hh)
    assert e.value.code == "day_closed", f"got {e.value.code}: {e.value.message}"


# --- which households a point serves ----------------------------------------------------------


@pytest.fixture
def places(community):
    """Two compounds; compound A has buildings 1 (grid 1) and 2 (grid 2); B has building 3."""
    g1, g2 = make_grid(community, "一网格"), make_grid(community, "二网格")
    b1 = make_building(community, "甲小区", "1号楼", grid=g1)
    b2 = make_building(community, "甲小区", "2号楼", grid=g2)
    b3 = make_building(community, "乙小区", "3号楼")
    return {
        "g1": g1,
        "g2": g2,
        "b1": b1,
        "b2": b2,
        "b3": b3,
        "h1": make_household(community, building=b1),
        "h2": make_household(community, building=b2),
        "h3": make_household(community, building=b3),
    }


@pytest.mark.parametrize(
    ("scope", "served"),
    [
        ({}, {"h1", "h2", "h3"}),  # nothing chosen: the whole community
        ({"compounds": ["b1"]}, {"h1", "h2"}),  # compound of building 1
        ({"buildings": ["b2"]}, {"h2"}),
        ({"grids": ["g1"]}, {"h1"}),
        ({"buildings": ["b3"], "grids": ["g2"]}, {"h2", "h3"}),  # any of them
    ],
)
def test_a_point_serves_its_compounds_buildings_and_grids(community, places, scope, served):
    kw = {}
    for kind, names in scope.items():
        rows = [places[n] for n in names]
        kw[kind] = [r.compound for r in rows] if kind == "compounds" else rows
    day = make_day(make_point(community, name="服务点", **kw))
    for name in ("h1", "h2", "h3"):
        h = places[name]
        assert services.point_serves(day.point, h) is (name in served), name
        assert (day.point in services.points_serving(h)) is (name in served), name
        if name in served:
            assert take(day, h).created
        else:
            with pytest.raises(Forbidden) as e:
                take(day, h)
            assert e.value.code == "not_served"
            assert "服务点" in str(e.value.message)
    assert Ticket.objects.filter(day=day).count() == len(served)


def test_a_household_of_another_community_is_never_served(point, other_community):
    day = make_day(point)
    stranger = make_household(other_community)
    with pytest.raises(Forbidden):
        take(day, stranger)
    assert services.points_serving(stranger).count() == 0


def test_points_serving_leaves_out_inactive_points(community, hh):
    shown = make_point(community, name="开着的")
    QueuePoint.objects.filter(pk=make_point(community, name="关了的").pk).update(active=False)
    assert [p.name for p in services.points_serving(hh)] == [shown.name]


# --- tickets per household, asking twice ---------------------------------------------------------


def test_one_per_household_asking_again_returns_the_same_ticket(point, hh, community):
    day = make_day(point)
    first = take(day, hh)
    again = take(day, hh, channel=Channel.STAFF)
    assert first.created and not again.created
    assert again.ticket.pk == first.ticket.pk and again.follow_key == first.follow_key
    other = take(day, make_household(community))
    assert other.ticket.number == 2, "asking again used no number"
    day.refresh_from_db()
    assert day.issued == 2


def test_three_per_household(point, hh):
    day = make_day(point, per_household=3)
    got = [take(day, hh) for _ in range(4)]
    assert [g.created for g in got] == [True, True, True, False]
    assert [g.ticket.slot for g in got[:3]] == [1, 2, 3]
    assert [g.ticket.number for g in got[:3]] == [1, 2, 3]
    assert got[3].ticket.pk == got[2].ticket.pk
    assert Ticket.objects.filter(day=day, household=hh).count() == 3


def test_sold_out(point, community):
    day = make_day(point, tickets_total=2)
    a, b, c = make_households(community, 3)
    take(day, a), take(day, b)
    with pytest.raises(services.SoldOut) as e:
        take(day, c)
    assert e.value.code == "sold_out" and e.value.status == 409
    assert str(e.value.message) == (
        "All 2 tickets for this day have been taken. Look out for the next sale."
    )
    day.refresh_from_db()
    assert day.issued == 2 and day.left == 0
    # A household that already has its ticket still gets it back when the day is sold out.
    assert take(day, a).ticket.number == 1


def test_a_cancelled_number_is_not_given_again(point, hh, community):
    """A number given back stays given back: the household does not get a new one."""
    day = make_day(point)
    t = take(day, hh).ticket
    services.ticket_cancel(ticket=t)
    again = take(day, hh)
    assert not again.created and again.ticket.pk == t.pk
    assert again.ticket.status == Ticket.Status.CANCELLED
    assert take(day, make_household(community)).ticket.number == 2


# --- how to be told, and who asked -------------------------------------------------------------


def test_sms_needs_a_phone(point, hh):
    day = make_day(point)
    with pytest.raises(DomainError) as e:
        take(day, hh, notify=Notify.SMS, sms_phone="")
    assert e.value.code == "invalid" and "sms_phone" in e.value.fields
    assert not Ticket.objects.exists()
    day.refresh_from_db()
    assert day.issued == 0


def test_an_unknown_way_to_be_told_is_refused(point, hh):
    day = make_day(point)
    with pytest.raises(DomainError) as e:
        take(day, hh, notify="pigeon")
    assert "notify" in e.value.fields


def test_the_sms_phone_is_stored_encrypted_and_masked(point, hh):
    from django.db import connection

    day = make_day(point)
    t = take(day, hh, notify=Notify.SMS, sms_phone="+8613912345678").ticket
    t.refresh_from_db()
    assert t.notify == Notify.SMS
    assert t.sms_phone_masked == "139****5678"
    assert crypto.decrypt(t.sms_phone_enc) == "+8613912345678"
    with connection.cursor() as c:
        c.execute("SELECT * FROM queues_ticket WHERE id = %s", [t.pk])
        row = " ".join(str(v) for v in c.fetchone())
    assert "13912345678" not in row
    # Those who watch the page leave no phone behind.
    other = take(day, make_household(hh.community), notify=Notify.KNOCK).ticket
    assert (other.notify, other.sms_phone_enc, other.sms_phone_masked) == (Notify.KNOCK, "", "")


def test_the_sms_phone_is_checked_as_a_mobile_number(point, hh):
    day = make_day(point)
    with pytest.raises(DomainError) as e:
        take(day, hh, notify=Notify.SMS, sms_phone="12345")
    assert "sms_phone" in e.value.fields


def test_channel_and_the_staff_member_are_recorded(point, hh, personas):
    day = make_day(point)
    t = take(day, hh, channel=Channel.STAFF, actor=personas["staff"]).ticket
    t.refresh_from_db()
    assert t.channel == Channel.STAFF and t.taken_by == personas["staff"]
    assert t.consent is None


def test_the_household_page_records_no_user(point, hh):
    from django.contrib.auth.models import AnonymousUser

    day = make_day(point)
    t = take(day, hh, actor=AnonymousUser()).ticket
    assert t.channel == Channel.HOUSEHOLD and t.taken_by is None


def _consent(personas, household):
    from shouwang.residents.services import consent_grant

    return consent_grant(
        actor=personas["admin"],
        household=household,
        relation="building_volunteer",
        granted_on=timezone.localdate(),
        proxy_user=personas["volunteer"],
    )


def test_taking_on_a_households_behalf_is_recorded_for_the_household(personas, ledger):
    from shouwang.residents.models import BehalfAction

    h1 = ledger["h1"]
    consent = _consent(personas, h1)
    day = make_day(make_point(h1.community, name="松林超市"))
    t = take(day, h1, channel=Channel.PROXY, actor=personas["volunteer"], consent=consent).ticket
    t.refresh_from_db()
    assert t.channel == Channel.PROXY and t.consent == consent
    assert t.taken_by == personas["volunteer"]
    action = BehalfAction.objects.get()
    assert action.household_id == h1.pk and action.consent == consent
    assert action.action == "queue.ticket"
    assert action.target_type == "queues.ticket" and action.target_id == str(t.pk)
    assert "松林超市" in action.summary and "#1" in action.summary
    assert action.actor_name == consent.proxy_name
    # Asking again on their behalf records nothing new.
    take(day, h1, channel=Channel.PROXY, actor=personas["volunteer"], consent=consent)
    assert BehalfAction.objects.count() == 1
    # Without a consent, nothing is recorded on the household's behalf.
    take(day, ledger["h2"], channel=Channel.STAFF, actor=personas["staff"])
    assert BehalfAction.objects.count() == 1


def test_a_consent_of_another_household_is_refused(personas, ledger):
    from shouwang.residents.models import BehalfAction

    consent = _consent(personas, ledger["h2"])
    day = make_day(make_point(ledger["h1"].community))
    with pytest.raises(DomainError):
        take(day, ledger["h1"], channel=Channel.PROXY, consent=consent)
    assert not BehalfAction.objects.exists()


def test_a_failed_take_leaves_no_trace(point, hh, community):
    """The counter is not moved by a refused request, so numbers stay gapless."""
    day = make_day(point, tickets_total=3)
    with pytest.raises(DomainError):
        take(day, hh, notify=Notify.SMS)
    with pytest.raises(Forbidden):
        take(day, make_household(make_community()))
    assert take(day, hh).ticket.number == 1


def test_the_day_is_audited_when_created(point):
    day = make_day(point)
    assert AuditEvent.objects.filter(action="queue.day.create", target_id=str(day.pk)).exists()
    assert day.snapshot["issued"] == 0 and day.snapshot["waiting"] == []
