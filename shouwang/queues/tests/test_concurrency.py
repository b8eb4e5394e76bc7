"""Many requests at once, each on its own database connection: never more tickets than the day
has, never two for one household, numbers gapless; draw codes gapless; one call per version.

On PostgreSQL the threads use the test database. On SQLite the test database lives in memory
with a shared cache, where a second writer fails at once with "database table is locked"
(SQLITE_LOCKED ignores the busy timeout) instead of waiting as it does in production, where the
database is a file in WAL mode. So on SQLite the `db_file` fixture copies the test database into
a file and points this thread and every worker thread at it, with the project's own options
(IMMEDIATE transactions, the busy timeout, WAL)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest

from shouwang.core.errors import Conflict
from shouwang.core.models import AuditEvent
from shouwang.core.testing import make_community, run_at_once
from shouwang.queues import services
from shouwang.queues.models import QueueEvent, Registration, SaleDay, Ticket
from shouwang.queues.tests.test_take import make_day, make_households, make_point

pytestmark = pytest.mark.django_db(transaction=True)


def _fresh(day) -> SaleDay:
    return SaleDay.objects.get(pk=day.pk)


@pytest.fixture
def community(db_file):
    # After db_file: on SQLite every row of the test goes to the file the threads use.
    return make_community("CONC")


def test_a_burst_for_300_households_gets_exactly_the_25_tickets(db_file, community):
    day = make_day(make_point(community), tickets_total=25)
    households = make_households(community, 300)
    shares = [households[i::40] for i in range(40)]  # 40 threads, 7 or 8 households each

    def press(share):
        out = []
        for h in share:
            try:
                out.append(services.ticket_take(day=_fresh(day), household=h))
            except services.SoldOut:
                out.append(None)
        return out

    results, refusals = run_at_once(db_file, press, shares)
    assert not refusals
    taken = [t for share in results for t in share if t is not None]
    assert len(taken) == 25 and all(t.created for t in taken)
    assert sum(t is None for share in results for t in share) == 275
    tickets = list(Ticket.objects.filter(day=day))
    assert sorted(t.number for t in tickets) == list(range(1, 26))
    assert len({t.household_id for t in tickets}) == 25
    assert sorted(t.seq for t in tickets) == [n * 1024 for n in range(1, 26)]
    assert _fresh(day).issued == 25


def test_one_household_pressing_from_20_threads_gets_one_ticket(db_file, community):
    day = make_day(make_point(community))
    (h,) = make_households(community, 1)
    results, refusals = run_at_once(
        db_file, lambda _: services.ticket_take(day=_fresh(day), household=h), range(20)
    )
    assert not refusals and len(results) == 20
    assert Ticket.objects.filter(day=day).count() == 1
    assert {r.ticket.pk for r in results} == {Ticket.objects.get(day=day).pk}
    assert sum(r.created for r in results) == 1
    assert _fresh(day).issued == 1
    # The next household still gets number 2: the losing presses used no number.
    (other,) = make_households(community, 1)
    assert services.ticket_take(day=_fresh(day), household=other).ticket.number == 2


def test_two_per_household_pressing_from_many_threads(db_file, community):
    """Each household presses from 10 threads at once: never more than its 2 tickets, slots and
    numbers without gaps, no press crashes."""
    day = make_day(make_point(community), per_household=2, tickets_total=100)
    households = make_households(community, 4)
    results, refusals = run_at_once(
        db_file,
        lambda h: services.ticket_take(day=_fresh(day), household=h),
        [h for h in households for _ in range(10)],
    )
    assert not refusals and len(results) == 40
    per_household = Counter(Ticket.objects.filter(day=day).values_list("household_id", flat=True))
    assert set(per_household) == {h.pk for h in households}
    assert max(per_household.values()) <= 2
    for h in households:
        assert sorted(
            Ticket.objects.filter(day=day, household=h).values_list("slot", flat=True)
        ) == (list(range(1, per_household[h.pk] + 1)))
    n = sum(per_household.values())
    assert sorted(Ticket.objects.filter(day=day).values_list("number", flat=True)) == list(
        range(1, n + 1)
    )
    assert _fresh(day).issued == n
    assert sum(r.created for r in results) == n


class _BothLookFirst:
    """Stands in for `services.transaction`: the first atomic block of each thread waits until
    both threads are there, so both have read the household's tickets before either inserts —
    the interleaving two phones of one family pressing at once produce (seen on both databases
    with plain threads, but not on every run)."""

    def __init__(self, real):
        self._real = real
        self._barrier = threading.Barrier(2)
        self._seen = threading.local()

    def atomic(self, *args, **kwargs):
        if not getattr(self._seen, "done", False):
            self._seen.done = True
            self._barrier.wait(timeout=10)
        return self._real.atomic(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._real, name)


def test_two_presses_at_once_get_a_household_its_two_tickets(db_file, community, monkeypatch):
    """Pressed one after the other, two presses get a household with 2 per household its two
    tickets; pressed at the same moment they must too."""
    day = make_day(make_point(community), per_household=2, tickets_total=100)
    (h,) = make_households(community, 1)
    monkeypatch.setattr(services, "transaction", _BothLookFirst(services.transaction))
    results, refusals = run_at_once(
        db_file, lambda _: services.ticket_take(day=_fresh(day), household=h), range(2)
    )
    assert not refusals
    assert sorted(Ticket.objects.filter(day=day, household=h).values_list("slot", flat=True)) == [
        1,
        2,
    ]
    assert [r.created for r in results] == [True, True]
    assert _fresh(day).issued == 2


def test_draw_registrations_from_many_threads_get_gapless_codes(db_file, community):
    day = make_day(make_point(community), mode=SaleDay.Mode.DRAW, tickets_total=10)
    households = make_households(community, 60)
    # 40 threads: 60 households, and 20 of them press twice.
    shares = [households[i::40] + households[i : i + 1] for i in range(20)]
    shares += [households[i::40] for i in range(20, 40)]
    results, refusals = run_at_once(
        db_file,
        lambda share: [services.ticket_take(day=_fresh(day), household=h) for h in share],
        shares,
    )
    assert not refusals
    regs = list(Registration.objects.filter(day=day))
    assert sorted(r.code for r in regs) == list(range(1, 61))
    assert len({r.household_id for r in regs}) == 60
    assert _fresh(day).registered == 60
    assert sum(t.created for share in results for t in share) == 60
    assert not Ticket.objects.filter(day=day).exists()


def test_the_draw_runs_once_when_many_ask_at_the_moment_it_is_due(db_file, community):
    day = make_day(make_point(community), mode=SaleDay.Mode.DRAW, tickets_total=20)
    early = make_households(community, 12)
    for h in early:
        services.ticket_take(day=_fresh(day), household=h)
    late = make_households(community, 30)
    after = day.draw_at + dt.timedelta(seconds=1)

    def press(h):
        try:
            return services.ticket_take(day=_fresh(day), household=h, now=after)
        except services.SoldOut:
            return None

    results, refusals = run_at_once(db_file, press, late)
    assert not refusals
    assert AuditEvent.objects.filter(action="queue.draw").count() == 1
    d = _fresh(day)
    assert d.drawn_at is not None and d.issued == 20
    tickets = list(Ticket.objects.filter(day=d))
    assert sorted(t.number for t in tickets) == list(range(1, 21))
    # The 12 registered households hold numbers 1–12; 8 of the 30 late ones got 13–20.
    by_number = {t.number: t.household_id for t in tickets}
    assert {by_number[n] for n in range(1, 13)} == {h.pk for h in early}
    assert sum(r is not None for r in results) == 8


@pytest.fixture
def waiting_day(community):
    day = make_day(make_point(community), tickets_total=40)
    for h in make_households(community, 30):
        services.ticket_take(day=_fresh(day), household=h)
    return _fresh(day)


def test_a_call_pressed_from_20_threads_with_one_version_calls_one_number(db_file, waiting_day):
    version = waiting_day.version
    results, refusals = run_at_once(
        db_file,
        lambda _: services.call_next(day=waiting_day, version=version),
        range(20),
    )
    assert len(results) == 1 and results[0].number == 1
    assert len(refusals) == 19
    assert all(isinstance(e, Conflict) and e.code == "stale" for e in refusals)
    assert list(
        Ticket.objects.filter(status=Ticket.Status.CALLED).values_list("number", flat=True)
    ) == [1]
    assert QueueEvent.objects.filter(kind=QueueEvent.Kind.CALL).count() == 1
    assert _fresh(waiting_day).version == version + 1


def test_calls_without_a_version_each_call_another_number(db_file, waiting_day):
    results, refusals = run_at_once(
        db_file, lambda _: services.call_next(day=waiting_day), range(20)
    )
    assert not refusals
    assert sorted(t.number for t in results) == list(range(1, 21))
    called = Ticket.objects.filter(status=Ticket.Status.CALLED)
    assert sorted(called.values_list("number", flat=True)) == list(range(1, 21))
    assert set(called.values_list("call_count", flat=True)) == {1}
    assert QueueEvent.objects.filter(kind=QueueEvent.Kind.CALL).count() == 20
    d = _fresh(waiting_day)
    assert d.version == waiting_day.version + 20
    assert d.snapshot["waiting"] == list(range(21, 31))


def test_tickets_taken_while_the_counter_calls(db_file, community):
    """Takes and calls on one day row at once: both go through, numbers stay gapless, and the
    snapshot the last call wrote agrees with the tickets."""
    day = make_day(make_point(community), tickets_total=50)
    for h in make_households(community, 10):
        services.ticket_take(day=_fresh(day), household=h)
    late = make_households(community, 20)
    jobs = [("take", h) for h in late] + [("call", None)] * 10

    def work(job):
        kind, h = job
        if kind == "take":
            return services.ticket_take(day=_fresh(day), household=h).ticket
        return services.call_next(day=day)

    results, refusals = run_at_once(db_file, work, jobs)
    assert not refusals and len(results) == 30
    d = _fresh(day)
    assert d.issued == 30
    numbers = sorted(Ticket.objects.filter(day=d).values_list("number", flat=True))
    assert numbers == list(range(1, 31))
    assert Ticket.objects.filter(day=d, status=Ticket.Status.CALLED).count() == 10
    services.call_next(day=d)  # rewrites the snapshot from the rows
    d = _fresh(day)
    assert len(d.snapshot["waiting"]) == 19 and d.snapshot["issued"] == 30
