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
