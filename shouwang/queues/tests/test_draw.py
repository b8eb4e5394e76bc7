"""The draw: registrations until `draw_at`, shuffled by SHA-256("<seed>:<code>"), numbers in that
order, the rest first come. Anyone holding the published seed and codes gets the same order."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess

import pytest
from django.utils import timezone

from shouwang.core.errors import Conflict, DomainError
from shouwang.core.models import AuditEvent
from shouwang.queues import services
from shouwang.queues.models import Channel, Notify, Registration, SaleDay, Ticket
from shouwang.queues.tests.test_take import make_day, make_households, make_point

SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def point(community):
    return make_point(community)


def draw_day(point, **kw) -> SaleDay:
    return make_day(point, mode=SaleDay.Mode.DRAW, **kw)


def register(day, households, **kw) -> list[Registration]:
    out = []
    for h in households:
        taken = services.ticket_take(day=SaleDay.objects.get(pk=day.pk), household=h, **kw)
        assert taken.ticket is None and taken.registration is not None
        out.append(taken.registration)
    return out


def fresh(day) -> SaleDay:
    return SaleDay.objects.get(pk=day.pk)


def by_hand(seed: str, codes) -> list[int]:
    """The draw as the public page explains it, written here without the service's code."""
    return sorted(codes, key=lambda c: hashlib.sha256(f"{seed}:{c}".encode()).hexdigest())


def test_the_seed_is_fixed_at_creation_and_only_its_hash_is_public(point):
    day = draw_day(point)
    assert len(day.draw_seed) == 64 and int(day.draw_seed, 16) >= 0
    assert day.draw_seed_hash == hashlib.sha256(day.draw_seed.encode()).hexdigest()
    assert day.draw_seed not in str(day.snapshot)
    other = draw_day(point)
    assert other.draw_seed != day.draw_seed


def test_asking_before_the_draw_registers_with_codes_in_order(point, community):
    day = draw_day(point)
    a, b = make_households(community, 2)
    ra = services.ticket_take(day=day, household=a)
    rb = services.ticket_take(day=fresh(day), household=b)
    assert ra.created and ra.ticket is None and ra.registration.code == 1
    assert rb.registration.code == 2 and str(rb.registration) == "R2"
    again = services.ticket_take(day=fresh(day), household=a)
    assert not again.created and again.registration.pk == ra.registration.pk
    assert again.follow_key == ra.follow_key
    d = fresh(day)
    assert d.registered == 2 and d.issued == 0 and d.drawn_at is None
    assert not Ticket.objects.exists()
    assert Registration.objects.get(pk=ra.registration.pk).won is None


def test_the_draw_is_refused_before_draw_at(point, community):
    day = draw_day(point)
    register(day, make_households(community, 3))
    with pytest.raises(Conflict) as e:
        services.draw_run(day=day, now=day.draw_at - SECOND)
    assert e.value.code == "draw_not_due"
    assert timezone.localtime(day.draw_at).strftime("%H:%M") in str(e.value.message)
    d = fresh(day)
    assert d.drawn_at is None and d.issued == 0 and not Ticket.objects.exists()


def test_the_order_of_numbers_is_the_published_order(point, community):
    day = draw_day(point, tickets_total=12)
    households = make_households(community, 30)
    regs = register(day, households)
    code_of = {r.household_id: r.code for r in regs}
    services.draw_run(day=day, now=day.draw_at)
    numbered = [code_of[t.household_id] for t in Ticket.objects.filter(day=day).order_by("number")]
    codes = sorted(code_of.values())
    assert codes == list(range(1, 31))
    assert numbered == services.draw_order(day.draw_seed, codes)[:12]
    assert numbered == by_hand(day.draw_seed, codes)[:12]
    assert numbered != codes[:12], "the draw shuffled nothing"
    # The same codes with another seed come out in another order.
    assert by_hand("0" * 64, codes) != by_hand(day.draw_seed, codes)


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs sha256sum")
def test_the_draw_can_be_rerun_with_sha256sum(point, community):
    """What the draw page tells residents: printf '%s:%s' SEED CODE | sha256sum, then sort."""
    day = draw_day(point, tickets_total=5)
    regs = register(day, make_households(community, 8))
    services.draw_run(day=day, now=day.draw_at)
    keys = {}
    for r in regs:
        out = subprocess.run(
            ["sha256sum"],
            input=f"{day.draw_seed}:{r.code}".encode(),
            capture_output=True,
            check=True,
        ).stdout.split()[0]
        keys[r.code] = out.decode()
    rerun = sorted(keys, key=keys.get)
    code_of = {r.household_id: r.code for r in regs}
    numbered = [code_of[t.household_id] for t in Ticket.objects.filter(day=day).order_by("number")]
    assert numbered == rerun[:5]


def test_the_draw_is_idempotent(point, community):
    day = draw_day(point, tickets_total=4)
    register(day, make_households(community, 6))
    first = services.draw_run(day=day, now=day.draw_at)
    tickets = list(Ticket.objects.filter(day=day).values_list("number", "household_id"))
    again = services.draw_run(day=day, now=day.draw_at + dt.timedelta(hours=1))
    assert again.drawn_at == first.drawn_at and again.version == first.version
    assert list(Ticket.objects.filter(day=day).values_list("number", "household_id")) == tickets
    assert AuditEvent.objects.filter(action="queue.draw").count() == 1
    assert fresh(day).issued == 4


def test_more_registrations_than_tickets(point, community):
    day = draw_day(point, tickets_total=5)
    households = make_households(community, 9)
    register(day, households)
    d = services.draw_run(day=day, now=day.draw_at)
    assert d.issued == 5 and d.left == 0 and d.drawn_at == day.draw_at
    regs = list(Registration.objects.filter(day=day))
    winners = [r for r in regs if r.won]
    losers = [r for r in regs if r.won is False]
    assert len(winners) == 5 and len(losers) == 4
    assert all(r.ticket is None for r in losers)
    for r in winners:
        t = r.ticket
        assert t.household_id == r.household_id
        assert t.follow_key == r.follow_key, "the page the resident has open follows the ticket"
        assert t.status == Ticket.Status.WAITING and t.seq == t.number * 1024
    # Nothing is left for the losers, nor for anyone who did not register.
    loser = next(h for h in households if h.pk == losers[0].household_id)
    with pytest.raises(services.SoldOut):
        services.ticket_take(day=fresh(day), household=loser)
    (late,) = make_households(community, 1)
    with pytest.raises(services.SoldOut):
        services.ticket_take(day=fresh(day), household=late)
    assert fresh(day).snapshot["waiting"] == [1, 2, 3, 4, 5]
    assert fresh(day).snapshot["drawn"] is True


def test_fewer_registrations_everyone_wins_and_the_rest_go_first_come(point, community):
    day = draw_day(point, tickets_total=10)
    early = make_households(community, 4)
    regs = register(day, early)
    services.draw_run(day=day, now=day.draw_at)
    assert all(r.won for r in Registration.objects.filter(day=day))
    assert fresh(day).issued == 4
    after = day.draw_at + dt.timedelta(minutes=5)
    late = make_households(community, 7)
    got = []
    for h in late:
        try:
            got.append(services.ticket_take(day=fresh(day), household=h, now=after))
        except services.SoldOut:
            got.append(None)
    assert [g.ticket.number for g in got[:6]] == [5, 6, 7, 8, 9, 10]
    assert all(g.registration is None and g.created for g in got[:6])
    assert got[6] is None
    # A winner asking again gets its drawn ticket back.
    again = services.ticket_take(day=fresh(day), household=early[0], now=after)
    assert not again.created and again.ticket.follow_key == regs[0].follow_key


def test_asking_after_the_draw_time_runs_the_draw_and_gives_a_ticket(point, community):
    day = draw_day(point, tickets_total=10)
    register(day, make_households(community, 3))
    (late,) = make_households(community, 1)
    taken = services.ticket_take(day=fresh(day), household=late, now=day.draw_at + SECOND)
    assert taken.created and taken.registration is None and taken.ticket.number == 4
    d = fresh(day)
    assert d.drawn_at is not None and d.issued == 4
    assert AuditEvent.objects.filter(action="queue.draw").count() == 1


def test_draw_if_due(point, community):
    day = draw_day(point, tickets_total=3)
    register(day, make_households(community, 2))
    assert services.draw_if_due(fresh(day), now=day.draw_at - SECOND).drawn_at is None
    assert fresh(day).drawn_at is None
    assert services.draw_if_due(fresh(day), now=day.draw_at).drawn_at == day.draw_at
    assert fresh(day).issued == 2
    # First-come days have nothing to draw.
    plain = make_day(point)
    assert services.draw_if_due(plain, now=day.draw_at).drawn_at is None


def test_draws_due_runs_the_due_draws_only(point, community):
    now = timezone.now()
    due = draw_day(point, draw_at=now + dt.timedelta(minutes=10))
    later = draw_day(point, draw_at=now + dt.timedelta(hours=2))
    done = draw_day(point, draw_at=now + dt.timedelta(minutes=5))
    register(due, make_households(community, 2))
    services.draw_run(day=done, now=done.draw_at)
    make_day(point)  # first come
    ran = services.draws_due(now=now + dt.timedelta(minutes=20))
    assert [d.pk for d in ran] == [due.pk]
    assert fresh(due).drawn_at is not None and fresh(due).issued == 2
    assert fresh(later).drawn_at is None


def test_a_draw_with_nobody_registered_leaves_every_ticket_first_come(point, community):
    day = draw_day(point, tickets_total=2)
    d = services.draw_run(day=day, now=day.draw_at)
    assert d.drawn_at is not None and d.issued == 0
    (h,) = make_households(community, 1)
    assert services.ticket_take(day=fresh(day), household=h, now=day.draw_at).ticket.number == 1


def test_the_winners_ticket_keeps_how_they_asked(point, community, personas):
    from shouwang.residents.models import BehalfAction
    from shouwang.residents.services import consent_grant

    (h,) = make_households(community, 1)
    consent = consent_grant(
        actor=personas["admin"],
        household=h,
        relation="family",
        granted_on=timezone.localdate(),
        proxy_name="王女儿",
        proxy_phone="13600001234",
    )
    day = draw_day(point)
    (reg,) = register(
        day,
        [h],
        channel=Channel.PROXY,
        consent=consent,
        notify=Notify.SMS,
        sms_phone="+8613600001234",
    )
    action = BehalfAction.objects.get()
    assert action.target_type == "queues.registration" and action.target_id == str(reg.pk)
    services.draw_run(day=day, now=day.draw_at)
    t = Ticket.objects.get(day=day)
    assert (t.channel, t.consent_id, t.notify) == (Channel.PROXY, consent.pk, Notify.SMS)
    assert t.sms_phone_enc == reg.sms_phone_enc and t.sms_phone_masked == "136****1234"
    assert Registration.objects.get(pk=reg.pk).ticket_id == t.pk


def test_a_draw_day_needs_a_draw_time_inside_the_window(point):
    now = timezone.now()
    with pytest.raises(DomainError) as e:
        make_day(point, mode=SaleDay.Mode.DRAW, draw_at=None)
    assert "draw_at" in e.value.fields
    with pytest.raises(DomainError) as e:
        make_day(point, mode=SaleDay.Mode.DRAW, draw_at=now + dt.timedelta(hours=5))
    assert "draw_at" in e.value.fields


def test_mode_and_draw_time_stay_once_people_have_registered(point, community):
    day = draw_day(point)
    register(day, make_households(community, 1))
    with pytest.raises(DomainError) as e:
        services.day_update(actor=None, day=day, mode=SaleDay.Mode.FIRST_COME)
    assert "mode" in e.value.fields
    with pytest.raises(DomainError) as e:
        services.day_update(actor=None, day=day, draw_at=day.draw_at + dt.timedelta(minutes=5))
    assert "draw_at" in e.value.fields
    # Other fields may still change.
    assert services.day_update(actor=None, day=day, title="鸡蛋").title == "鸡蛋"


def test_a_day_closed_before_its_draw_does_not_draw(point, community):
    """The sale is called off before the draw: nobody should get a number that can never be
    called (the counter refuses every press on a closed day)."""
    day = draw_day(point)
    register(day, make_households(community, 3))
    services.day_close(actor=None, day=day)
    services.draws_due(now=day.draw_at + SECOND)
    services.draw_run(day=fresh(day), now=day.draw_at + SECOND)
    assert not Ticket.objects.filter(day=day).exists()
    assert fresh(day).issued == 0
