"""What watchers see: `public_state` turns one snapshot (numbers only) and the day's `issued`
into a page's state without touching the database; the snapshot itself holds no personal data."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from django.utils import timezone

from shouwang.core.testing import make_household, make_resident
from shouwang.queues import services
from shouwang.queues.models import Notify, SaleDay, Ticket
from shouwang.queues.tests.test_take import make_day, make_households, make_point

# 3 and 2 at the counter (3 called last); 4, 5, 1 (sent to the back), 6 waiting; 7 given back;
# then 8 and 9 were taken after the snapshot was written.
SNAPSHOT = {
    "v": 12,
    "serving": [3, 2],
    "waiting": [4, 5, 1, 6],
    "issued": 7,
    "served": 0,
    "no_show": 0,
    "spt": 120.0,
    "closed": False,
    "drawn": False,
    "goods": [3, 1],
    "at": "2022-01-05T09:00:00+08:00",
}


def state(number=None, **kw):
    args = {"snapshot": SNAPSHOT, "issued": 9, "tickets_total": 20, "come_when": 2}
    args.update(kw)
    return services.public_state(number=number, **args)


def test_the_day_as_a_whole():
    s = state()
    assert s == {
        "v": 12,
        "serving": [3, 2],
        "next": [4, 5, 1, 6, 8, 9],
        "issued": 9,
        "total": 20,
        "left": 11,
        "waiting": 6,
        "served": 0,
        "spt": 120.0,
        "closed": False,
        "goods": [3, 1],
        "come_when": 2,
    }
    assert state(version=13)["v"] == 13
    assert state(issued=20)["left"] == 0


@pytest.mark.parametrize(
    ("number", "status", "ahead", "eta", "come_now"),
    [
        (4, "waiting", 0, 0, True),
        (5, "waiting", 1, 2, True),
        (1, "waiting", 2, 4, True),  # sent to the back: its place, not its number
        (6, "waiting", 3, 6, False),
        (8, "waiting", 4, 8, False),  # taken after the snapshot: behind everyone in it
        (9, "waiting", 5, 10, False),
        (3, "called", 0, 0, True),
        (2, "called", 0, 0, True),
        (7, "done", None, None, False),  # given back (or served, or a no-show)
        (10, "unknown", None, None, False),  # not handed out yet
    ],
)
def test_a_numbers_place(number, status, ahead, eta, come_now):
    s = state(number)
    assert s["number"] == number
    assert (s["status"], s["ahead"], s["eta_min"], s["come_now"]) == (status, ahead, eta, come_now)


def test_the_threshold_is_come_when_or_fewer_ahead():
    assert state(6, come_when=3)["come_now"] is True
    assert state(6, come_when=2)["come_now"] is False


def test_no_number_no_place():
    assert not {"number", "status", "ahead", "eta_min", "come_now"} & set(state())


def test_next_shows_eight():
    snap = {**SNAPSHOT, "waiting": list(range(1, 11)), "serving": [], "issued": 10}
    s = services.public_state(snapshot=snap, issued=12, tickets_total=20, come_when=10)
    assert s["next"] == [1, 2, 3, 4, 5, 6, 7, 8] and s["waiting"] == 12


def test_an_empty_snapshot_before_the_first_press():
    s = services.public_state(snapshot={}, issued=3, tickets_total=5, come_when=10, number=2)
    assert (s["status"], s["ahead"], s["next"], s["waiting"]) == ("waiting", 1, [1, 2, 3], 3)
    assert s["eta_min"] == 1 and s["v"] == 0  # 60 s each until the day has a rate


def test_public_state_is_pure():
    """No database (this test has no database access: a query would fail it) and no change to
    the snapshot it was given."""
    before = copy.deepcopy(SNAPSHOT)
    for n in (None, 1, 4, 8, 10):
        state(n)
    assert SNAPSHOT == before


# --- from the database --------------------------------------------------------------------


def fresh(day) -> SaleDay:
    return SaleDay.objects.get(pk=day.pk)


def test_day_state_follows_the_counter(community):
    day = make_day(make_point(community), come_when=1, expected_service_seconds=90)
    for h in make_households(community, 4):
        services.ticket_take(day=fresh(day), household=h)
    s = services.day_state(fresh(day), number=3)
    assert (s["status"], s["ahead"], s["come_now"], s["eta_min"]) == ("waiting", 2, False, 3)
    services.call_next(day=fresh(day))
    s = services.day_state(fresh(day), number=3)
    assert (s["status"], s["ahead"], s["come_now"]) == ("waiting", 1, True)
    assert s["serving"] == [1] and s["v"] == fresh(day).version
    services.call_next(day=fresh(day), serve_current=True)
    services.call_next(day=fresh(day), serve_current=True)
    assert services.day_state(fresh(day), number=3)["status"] == "called"
    services.call_next(day=fresh(day), serve_current=True)
    assert services.day_state(fresh(day), number=3)["status"] == "done"
    assert services.day_state(fresh(day), number=5)["status"] == "unknown"


def test_every_number_at_the_counter_reads_called(community):
    day = make_day(make_point(community))
    for h in make_households(community, 8):
        services.ticket_take(day=fresh(day), household=h)
    for _ in range(6):  # "numbers 1 to 6, please come": called, none served yet
        services.call_next(day=fresh(day))
    assert Ticket.objects.filter(day=day, number=1).get().status == Ticket.Status.CALLED
    s = services.day_state(fresh(day), number=1)
    assert s["status"] == "called", s


def test_the_rate_comes_from_the_last_served(community):
    day = make_day(make_point(community), expected_service_seconds=75)
    for h in make_households(community, 5):
        services.ticket_take(day=fresh(day), household=h)
    for _ in range(3):
        services.call_next(day=fresh(day), serve_current=True)
    assert services.service_seconds(fresh(day)) == 75.0  # two served: the day's figure
    services.call_next(day=fresh(day), serve_current=True)  # three served
    start = timezone.now() - dt.timedelta(minutes=10)
    for i, n in enumerate((1, 2, 3)):
        Ticket.objects.filter(day=day, number=n).update(
            served_at=start + dt.timedelta(seconds=40 * i)
        )
    assert services.service_seconds(fresh(day)) == 40.0
    services.recall(day=fresh(day))  # any press rewrites the snapshot
    assert fresh(day).snapshot["spt"] == 40.0


def test_the_snapshot_holds_numbers_only(community):
    day = make_day(make_point(community), come_when=1)
    households = [make_household(community, door=f"甲{1101 + i}室") for i in range(4)]
    names = ["王秀英", "李建国", "张桂兰", "刘德明"]
    for h, name in zip(households, names, strict=True):
        make_resident(h, name=name, phone="+8613812345678")
        services.ticket_take(
            day=fresh(day), household=h, notify=Notify.SMS, sms_phone="+8613812345678"
        )
    services.call_next(day=fresh(day))
    services.ticket_cancel(ticket=Ticket.objects.get(day=day, number=3))
    d = fresh(day)
    snap = d.snapshot
    assert set(snap) == {
        "v",
        "serving",
        "waiting",
        "issued",
        "served",
        "no_show",
        "spt",
        "closed",
        "drawn",
        "goods",
        "at",
    }
    for key, value in snap.items():
        if key in ("serving", "waiting", "goods"):
            assert all(type(n) is int for n in value), key
        elif key in ("closed", "drawn"):
            assert type(value) is bool, key
        elif key == "spt":
            assert type(value) in (int, float), key
        elif key == "at":
            assert dt.datetime.fromisoformat(value).tzinfo is not None
        else:
            assert type(value) is int, key
    assert snap["serving"] == [1] and snap["waiting"] == [2, 4]
    shown = json.dumps(snap, ensure_ascii=False) + json.dumps(
        services.day_state(d, number=2), ensure_ascii=False
    )
    private = [*names, "13812345678", "138****5678", d.draw_seed]
    private += [h.dwelling.door for h in households]
    private += list(Ticket.objects.filter(day=day).values_list("follow_key", flat=True))
    for value in private:
        assert value not in shown, value
