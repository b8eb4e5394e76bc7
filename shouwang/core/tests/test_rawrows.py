"""rawrows: instances from raw rows and one-row inserts must be the ORM's own, field for field
(datetimes aware, booleans, JSON, foreign keys), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from shouwang.core import rawrows
from shouwang.queues import services
from shouwang.queues.models import QueuePoint, SaleDay, Ticket


def _fields(obj, model):
    return {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}


@pytest.fixture
def day(personas):
    staff = personas["staff"]
    point = services.point_save(actor=staff, name="松林超市摊位")
    now = timezone.now()
    return services.day_create(
        actor=staff,
        point=point,
        date=timezone.localdate(),
        title="蔬菜包",
        take_opens_at=now - dt.timedelta(hours=1),
        take_closes_at=now + dt.timedelta(hours=3),
        sale_starts_at=now + dt.timedelta(hours=1),
        sale_ends_at=now + dt.timedelta(hours=4),
        tickets_total=5,
    )


def test_fetch_gives_what_the_orm_gives(day):
    got = rawrows.fetch(SaleDay, "id = %s", [day.pk])
    orm = SaleDay.objects.get(pk=day.pk)
    assert _fields(got, SaleDay) == _fields(orm, SaleDay)
    assert timezone.is_aware(got.take_opens_at)
    assert isinstance(got.snapshot, dict)  # JSON decoded, as by the ORM
    assert got._state.adding is False and got._state.db == "default"
    assert rawrows.fetch(SaleDay, "id = %s", [day.pk + 999]) is None


def test_a_partial_load_defers_the_rest(day):
    names = ("id", "active", "name")
    with_cols = rawrows.columns(QueuePoint, "p", names)
    assert with_cols.startswith("p.") and rawrows.width(QueuePoint, names) == 3
    got = rawrows.fetch(QueuePoint, "id = %s", [day.point_id], names)
    assert got.active is True and got.name == "松林超市摊位"
    assert "community_id" in got.get_deferred_fields()
    assert got.community_id == day.community_id  # read on first use


def test_insert_is_a_saved_instance_with_defaults(day, ledger):
    t = rawrows.insert(
        Ticket(
            day=day,
            community_id=day.community_id,
            household=ledger["h1"],
            number=1,
            seq=1024,
            follow_key="k" * 22,
        )
    )
    assert t.pk is not None and t._state.adding is False
    orm = Ticket.objects.get(pk=t.pk)
    assert _fields(orm, Ticket) == _fields(t, Ticket)
    assert orm.status == Ticket.Status.WAITING and timezone.is_aware(orm.taken_at)


def test_insert_raises_djangos_integrity_error(day, ledger):
    def one():
        return Ticket(
            day=day,
            community_id=day.community_id,
            household=ledger["h1"],
            number=1,
            seq=1024,
            follow_key=services.new_follow_key(),
        )

    rawrows.insert(one())
    with pytest.raises(IntegrityError), transaction.atomic():
        rawrows.insert(one())
    assert Ticket.objects.count() == 1


def test_fetch_without_init_matches_from_db_and_falls_back_when_init_is_listened(day):
    """build() fills the instance's __dict__ instead of running Model.__init__ — unless an init
    signal has a receiver for the model, when it goes through from_db as before."""
    from django.db.models.signals import post_init

    fast = rawrows.fetch(SaleDay, "id = %s", [day.pk])
    assert type(fast) is SaleDay and "_state" in fast.__dict__
    assert _fields(fast, SaleDay) == _fields(SaleDay.objects.get(pk=day.pk), SaleDay)
    assert fast.get_deferred_fields() == set()
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=SaleDay)
    try:
        listened = rawrows.fetch(SaleDay, "id = %s", [day.pk])
    finally:
        post_init.disconnect(receiver, sender=SaleDay)
    assert seen == [listened]  # Model.__init__ ran and sent the signal
    assert _fields(listened, SaleDay) == _fields(fast, SaleDay)


def test_new_is_what_the_constructor_makes(day):
    made = rawrows.new(Ticket, day_id=day.pk, number=7, seq=7000, follow_key="k")
    orm = Ticket(day_id=day.pk, number=7, seq=7000, follow_key="k")
    mine, theirs = _fields(made, Ticket), _fields(orm, Ticket)
    # taken_at is auto_now_add (set on save): None in both until then
    assert mine == theirs
    assert made._state.adding is True and made._state.db is None
    with pytest.raises(TypeError, match="no field"):
        rawrows.new(Ticket, day=day)  # by attname only: day_id
