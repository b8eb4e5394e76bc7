"""The intake service's core: due times, references, idempotent retries."""

import datetime as dt

import pytest
from django.utils import timezone

from shouwang.core.errors import DomainError
from shouwang.helpline.models import EventKind, Group, Status, Urgency
from shouwang.helpline.selectors import categories_for
from shouwang.helpline.testing import category, make_request

pytestmark = pytest.mark.django_db


def test_default_categories_cover_every_group(community):
    groups = set(categories_for(community.pk).values_list("group", flat=True))
    assert groups == set(Group.values)


def test_due_time_is_the_category_limit_shortened_by_urgency(community, personas):
    at = timezone.now().replace(microsecond=0)
    calm = make_request(community, group=Group.LIVELIHOOD, at=at)
    assert calm.due_at - at == dt.timedelta(hours=24)
    life = make_request(community, group=Group.LIVELIHOOD, urgency=Urgency.LIFE, at=at)
    assert life.due_at - at == dt.timedelta(minutes=30)
    health = make_request(community, group=Group.SPECIAL, urgency=Urgency.HEALTH, at=at)
    assert health.due_at - at == dt.timedelta(hours=2)


def test_reference_is_local_date_and_number(community):
    at = dt.datetime(2026, 11, 22, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 23rd in Shanghai
    req = make_request(community, at=at)
    req.refresh_from_db()
    assert req.reference == f"R1123-{req.pk}"
    assert req.status == Status.OPEN
    assert [e.kind for e in req.events.all()] == [EventKind.LOGGED]


def test_same_client_key_makes_one_request(community, personas):
    first = make_request(community, client_key="k-1", owner=personas["staff"])
    again = make_request(community, client_key="k-1", owner=personas["staff"])
    assert first.pk == again.pk
    assert [e.kind for e in first.events.all()] == [EventKind.LOGGED, EventKind.ASSIGNED]


def test_blank_summary_and_bad_phone_are_refused_with_the_field(community):
    with pytest.raises(DomainError) as e:
        make_request(community, summary="   ")
    assert "summary" in e.value.fields
    with pytest.raises(DomainError) as e:
        make_request(community, caller_phone="12345")
    assert "caller_phone" in e.value.fields


def test_owner_must_take_calls_in_the_community(community, personas):
    with pytest.raises(DomainError) as e:
        make_request(community, owner=personas["guard"])
    assert "owner" in e.value.fields


def test_category_of_another_community_is_refused(community):
    from shouwang.core.testing import make_community

    other = make_community()
    with pytest.raises(DomainError):
        make_request(community, category=category(other))
