"""The counter: call next, served, recall, skip after the grace time (back of the queue once, or
lost), undo one press at a time, the version that refuses a stale press, closing the day, and a
household giving its number back."""

from __future__ import annotations

import datetime as dt

import pytest

from shouwang.core.errors import Conflict
from shouwang.queues import services
from shouwang.queues.models import SEQ_STEP, QueueEvent, SaleDay, Ticket
from shouwang.queues.tests.test_take import make_day, make_households, make_point

STATE = (
    "number",
    "status",
    "seq",
    "called_at",
    "first_called_at",
    "served_at",
    "ended_at",
    "call_count",
    "requeued",
)
W, C, S, N, X = (
    Ticket.Status.WAITING,
    Ticket.Status.CALLED,
    Ticket.Status.SERVED,
    Ticket.Status.NO_SHOW,
    Ticket.Status.CANCELLED,
)


def fresh(day) -> SaleDay:
    return SaleDay.objects.get(pk=day.pk)


def tickets(day) -> dict[int, Ticket]:
    return {t.number: t for t in Ticket.objects.filter(day=day)}


def statuses(day) -> dict[int, str]:
    return dict(Ticket.objects.filter(day=day).values_list("number", "status"))


def state(day) -> list[dict]:
    """Everything a counter press may change, for every ticket, and what watchers see."""
    d = fresh(day)
    rows = [dict(r) for r in Ticket.objects.filter(day=day).order_by("number").values(*STATE)]
    shown = {k: d.snapshot[k] for k in ("serving", "waiting", "served", "no_show")}
    return [*rows, shown]


def take_tickets(day, n: int) -> list[Ticket]:
    out = []
    for h in make_households(day.community, n):
        out.append(services.ticket_take(day=fresh(day), household=h).ticket)
    return out


@pytest.fixture
def day(community):
    d = make_day(make_point(community), tickets_total=30, grace_seconds=180)
    take_tickets(d, 5)
    return fresh(d)


def after_grace(day, number: int) -> dt.datetime:
    t = Ticket.objects.get(day=day, number=number)
    return t.called_at + dt.timedelta(seconds=day.grace_seconds)


# --- call, serve, recall ----------------------------------------------------------------------


def test_call_next_calls_in_order_of_place_in_line(day):
    first = services.call_next(day=day)
    assert first.number == 1 and first.status == C and first.call_count == 1
    assert first.called_at == first.first_called_at is not None
    second = services.call_next(day=day)
    assert second.number == 2
    assert statuses(day) == {1: C, 2: C, 3: W, 4: W, 5: W}
    d = fresh(day)
    assert d.snapshot["serving"] == [2, 1] and d.snapshot["waiting"] == [3, 4, 5]
    assert d.version == day.version + 2 and d.snapshot["v"] == d.version
    assert list(QueueEvent.objects.filter(day=day).values_list("kind", flat=True)) == [
        "call",
        "call",
    ]


def test_the_order_follows_seq_not_the_number(day):
    Ticket.objects.filter(day=day, number=4).update(seq=SEQ_STEP // 2)
    assert services.call_next(day=day).number == 4
    assert services.call_next(day=day).number == 1


def test_served_then_next_in_one_press(day):
    services.call_next(day=day)
    services.call_next(day=day)
    t = services.call_next(day=fresh(day), serve_current=True)
    assert t.number == 3
    assert statuses(day) == {1: S, 2: S, 3: C, 4: W, 5: W}
    served = tickets(day)[1]
    assert served.served_at == served.ended_at is not None
    assert QueueEvent.objects.filter(day=day).count() == 3
    assert fresh(day).snapshot["served"] == 2


def test_nobody_waiting(community):
    day = make_day(make_point(community))
    assert services.call_next(day=day) is None
    assert fresh(day).version == day.version and not QueueEvent.objects.exists()
    (t,) = take_tickets(day, 1)
    services.call_next(day=day)
    # "Served, next" with nobody left still marks the number at the counter served.
    assert services.call_next(day=fresh(day), serve_current=True) is None
    assert Ticket.objects.get(pk=t.pk).status == S
    assert QueueEvent.objects.last().kind == QueueEvent.Kind.SERVE


def test_serve(day):
    services.call_next(day=day)
    services.call_next(day=day)
    t = services.serve(day=fresh(day))  # the latest called
    assert t.number == 2 and t.status == S and t.served_at is not None
    t = services.serve(day=fresh(day), ticket=tickets(day)[1])
    assert t.number == 1
    with pytest.raises(Conflict) as e:
        services.serve(day=fresh(day))
    assert e.value.code == "none_called"
    with pytest.raises(Conflict) as e:
        services.serve(day=fresh(day), ticket=tickets(day)[3])
    assert e.value.code == "not_called" and "3" in str(e.value.message)


def test_recall(day):
    called = services.call_next(day=day)
    again = services.recall(day=fresh(day))
    assert again.pk == called.pk and again.call_count == 2 and again.status == C
    assert again.called_at >= called.called_at
    assert again.first_called_at == called.first_called_at
    assert QueueEvent.objects.filter(kind=QueueEvent.Kind.RECALL).count() == 1
    with pytest.raises(Conflict) as e:
        services.recall(day=fresh(day), ticket=tickets(day)[2])
    assert e.value.code == "not_called"


# --- skip ------------------------------------------------------------------------------------


def test_skip_is_refused_within_the_grace_time(day):
    services.call_next(day=day)
    with pytest.raises(Conflict) as e:
        services.skip(day=fresh(day), now=after_grace(day, 1) - dt.timedelta(seconds=1))
    assert e.value.code == "grace" and "179 s" in str(e.value.message)
    assert statuses(day)[1] == C
    assert services.skip(day=fresh(day), now=after_grace(day, 1)).status == W


def test_skip_requeue_goes_behind_everyone_holding_a_number_ahead_of_later_ones(day):
    services.call_next(day=day)
    t = services.skip(day=fresh(day), now=after_grace(day, 1))
    assert t.status == W and t.requeued == 1 and t.called_at is None
    assert t.first_called_at is not None and t.call_count == 1
    assert 5 * SEQ_STEP < t.seq < 6 * SEQ_STEP
    assert fresh(day).snapshot["waiting"] == [2, 3, 4, 5, 1]
    take_tickets(day, 1)  # number 6, taken after the skip
    order = [services.call_next(day=fresh(day), serve_current=True).number for _ in range(6)]
    assert order == [2, 3, 4, 5, 1, 6]


def test_two_skips_in_a_row_keep_their_order(day):
    services.call_next(day=day)
    services.skip(day=fresh(day), now=after_grace(day, 1))
    services.call_next(day=fresh(day))
    services.skip(day=fresh(day), now=after_grace(day, 2))
    assert fresh(day).snapshot["waiting"] == [3, 4, 5, 1, 2]


def test_a_second_skip_of_a_requeued_number_is_a_no_show(day):
    services.call_next(day=day)
    services.skip(day=fresh(day), now=after_grace(day, 1))
    for _ in range(4):  # 2, 3, 4, 5 served; then 1 again
        services.call_next(day=fresh(day), serve_current=True)
    t = services.call_next(day=fresh(day), serve_current=True)
    assert t.number == 1 and t.call_count == 2
    t = services.skip(day=fresh(day), now=after_grace(day, 1))
    assert t.status == N and t.ended_at is not None and t.requeued == 1
    assert fresh(day).snapshot["no_show"] == 1


def test_skip_policy_lost(community):
    day = make_day(make_point(community), skip_policy=SaleDay.SkipPolicy.LOST)
    take_tickets(day, 2)
    services.call_next(day=day)
    t = services.skip(day=fresh(day), now=after_grace(day, 1))
    assert t.status == N and t.requeued == 0 and t.seq == SEQ_STEP
    assert fresh(day).snapshot["waiting"] == [2]


# --- undo ------------------------------------------------------------------------------------


def _call(day):
    services.call_next(day=fresh(day))


def _serve_next(day):
    services.call_next(day=fresh(day), serve_current=True)


def _recall(day):
    services.recall(day=fresh(day))


def _serve(day):
    services.serve(day=fresh(day))


def _skip(day):
    services.skip(day=fresh(day), now=after_grace(day, statuses_called(day)[0]))


def statuses_called(day) -> list[int]:
    return list(
        Ticket.objects.filter(day=day, status=C)
        .order_by("-called_at")
        .values_list("number", flat=True)
    )


@pytest.mark.parametrize("policy", [SaleDay.SkipPolicy.REQUEUE, SaleDay.SkipPolicy.LOST])
@pytest.mark.parametrize("press", [_call, _serve_next, _recall, _serve, _skip])
def test_undo_restores_exactly_what_a_press_changed(community, press, policy):
    day = make_day(make_point(community), skip_policy=policy)
    take_tickets(day, 5)
    services.call_next(day=day)
    services.call_next(day=fresh(day))  # 1 and 2 at the counter, 3–5 waiting
    before = state(day)
    version = fresh(day).version
    press(day)
    assert state(day) != before, "the press changed nothing"
    undone = services.undo(day=fresh(day), version=fresh(day).version)
    assert undone.undone_at is not None
    assert state(day) == before
    assert fresh(day).version == version + 2
    assert QueueEvent.objects.last().kind == QueueEvent.Kind.UNDO


def test_undo_goes_back_one_press_at_a_time(day):
    start = state(day)
    services.call_next(day=day)
    after_one = state(day)
    services.call_next(day=fresh(day), serve_current=True)
    services.undo(day=fresh(day))
    assert state(day) == after_one
    services.undo(day=fresh(day))
    # Taking a ticket leaves the snapshot alone (new numbers are counted from `issued`): the
    # rows are as at the start, and the snapshot the undo wrote lists them all.
    assert state(day)[:-1] == start[:-1]
    assert fresh(day).snapshot["waiting"] == [1, 2, 3, 4, 5]
    with pytest.raises(Conflict) as e:
        services.undo(day=fresh(day))
    assert e.value.code == "nothing_to_undo"


def test_nothing_to_undo(day):
    with pytest.raises(Conflict) as e:
        services.undo(day=day)
    assert e.value.code == "nothing_to_undo"
    assert fresh(day).version == day.version


def test_undo_after_a_skip_puts_the_number_back_at_the_counter(day):
    services.call_next(day=day)
    services.skip(day=fresh(day), now=after_grace(day, 1))
    services.undo(day=fresh(day))
    t = tickets(day)[1]
    assert t.status == C and t.seq == SEQ_STEP and t.requeued == 0 and t.called_at is not None
    assert services.call_next(day=fresh(day)).number == 2


def test_undo_does_not_bring_back_a_number_given_back_since(day):
    services.call_next(day=day)
    services.skip(day=fresh(day), now=after_grace(day, 1))  # 1 goes to the back, waiting
    services.ticket_cancel(ticket=tickets(day)[1])  # the household gives it back
    try:
        services.undo(day=fresh(day))
    except Conflict:
        pass  # refusing is fine; bringing the number back is not
    assert tickets(day)[1].status == X


# --- the version ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "press",
    [
        lambda d, v: services.call_next(day=d, version=v),
        lambda d, v: services.recall(day=d, version=v),
        lambda d, v: services.serve(day=d, version=v),
        lambda d, v: services.skip(day=d, version=v, now=after_grace(d, 1)),
        lambda d, v: services.undo(day=d, version=v),
    ],
    ids=["call", "recall", "serve", "skip", "undo"],
)
def test_a_press_against_an_old_version_changes_nothing(day, press):
    old = day.version
    services.call_next(day=day, version=old)
    before = state(day)
    with pytest.raises(Conflict) as e:
        press(fresh(day), old)
    assert e.value.code == "stale" and e.value.status == 409
    assert state(day) == before
    assert fresh(day).version == old + 1
    press(fresh(day), str(old + 1))  # the form posts it as text
    assert fresh(day).version == old + 2


# --- closing the day, giving a number back ------------------------------------------------------


def test_closing_the_day(day):
    services.call_next(day=day)
    services.call_next(day=fresh(day), serve_current=True)
    d = services.day_close(actor=None, day=fresh(day))
    assert d.closed_at is not None
    assert statuses(day) == {1: S, 2: N, 3: N, 4: N, 5: N}
    assert all(t.ended_at is not None for t in tickets(day).values())
    snap = fresh(day).snapshot
    assert snap["closed"] is True and snap["waiting"] == [] and snap["serving"] == []
    assert snap["no_show"] == 4 and snap["served"] == 1
    again = services.day_close(actor=None, day=fresh(day))
    assert again.closed_at == d.closed_at and again.version == d.version
    for press in (services.call_next, services.recall, services.serve, services.undo):
        with pytest.raises(Conflict) as e:
            press(day=fresh(day))
        assert e.value.code == "day_closed", press.__name__
    with pytest.raises(Conflict) as e:
        services.skip(day=fresh(day), now=after_grace(day, 2))
    assert e.value.code == "day_closed"


def test_cancel_only_while_waiting(day):
    services.call_next(day=day)
    t3 = tickets(day)[3]
    version = fresh(day).version
    cancelled = services.ticket_cancel(ticket=t3)
    assert cancelled.status == X and cancelled.ended_at is not None
    d = fresh(day)
    assert d.version == version + 1 and d.snapshot["waiting"] == [2, 4, 5]
    assert QueueEvent.objects.filter(kind=QueueEvent.Kind.CANCEL, ticket=t3).count() == 1
    # Giving it back twice is the same as once.
    assert services.ticket_cancel(ticket=t3).status == X
    assert QueueEvent.objects.filter(kind=QueueEvent.Kind.CANCEL).count() == 1
    with pytest.raises(Conflict) as e:
        services.ticket_cancel(ticket=tickets(day)[1])  # at the counter
    assert e.value.code == "not_waiting"
    services.call_next(day=fresh(day), serve_current=True)
    assert services.call_next(day=fresh(day), serve_current=True).number == 4
    # A cancel is not a counter press: undo leaves it alone.
    services.undo(day=fresh(day))
    assert tickets(day)[3].status == X
