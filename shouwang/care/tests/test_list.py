"""Who is on the care list, and who is due or overdue: the community's tags, the rhythm of the
pairing or the policy, local days — computed for the whole list in a fixed number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shouwang.care import selectors
from shouwang.care.models import Policy
from shouwang.care.testing import make_follow_up, make_pairing
from shouwang.care.tests.helpers_care import at_local, tag
from shouwang.core import testing as t
from shouwang.registry.models import CareTag, Presence

pytestmark = pytest.mark.django_db

DAY = dt.date(2022, 1, 10)


def names(qs):
    return sorted(r.name for r in qs)


def test_the_default_tags_put_people_on_the_list(personas, ledger):
    tag(ledger["r1"], CareTag.LIVING_ALONE)
    # 80+, chronic illness and no smartphone are not default tags (a committee can add them).
    tag(ledger["r2"], CareTag.AGE_80 | CareTag.CHRONIC | CareTag.NO_SMARTPHONE)
    tag(ledger["r3"], CareTag.BEDRIDDEN)
    tag(ledger["ro"], CareTag.LIVING_ALONE)  # another community
    assert names(selectors.care_list(personas["admin"])) == ["王小明", "赵五"]


def test_the_policy_chooses_the_tags(personas, ledger, community):
    tag(ledger["r1"], CareTag.AGE_80)
    tag(ledger["r2"], CareTag.AGE_60)
    Policy.objects.create(community=community, tags=CareTag.AGE_60)
    assert names(selectors.care_list(personas["admin"])) == ["李四"]


def test_moved_out_people_are_not_on_the_list_and_paired_people_are(personas, ledger):
    tag(ledger["r1"], CareTag.AGE_80)
    ledger["r1"].presence = Presence.MOVED_OUT
    ledger["r1"].save(update_fields=["presence"])
    make_pairing(ledger["r2"], carer=personas["staff"])  # no tag, but someone looks after them
    assert names(selectors.care_list(personas["admin"])) == ["李四"]


def test_due_and_overdue_by_local_day_and_rhythm(personas, ledger, grid_a, community):
    r_today, r_yesterday, r_two_days = ledger["r1"], ledger["r1b"], ledger["r2"]
    never = ledger["r3"]
    for r in (r_today, r_yesterday, r_two_days, never):
        tag(r)
    make_follow_up(r_today, at=at_local(DAY, 8))
    # 23:30 the day before, local time: yesterday, though it is the same UTC date as today 07:00.
    make_follow_up(
        r_yesterday, at=at_local(DAY - dt.timedelta(days=1), 23) + dt.timedelta(minutes=30)
    )
    make_follow_up(r_two_days, at=at_local(DAY - dt.timedelta(days=2), 9))
    rows = {r.name: r for r in selectors.care_list(personas["admin"], today=DAY)}
    assert rows["王小明"].state == selectors.DONE
    assert rows["王大明"].state == selectors.DUE
    assert rows["李四"].state == selectors.OVERDUE
    assert rows["赵五"].state == selectors.OVERDUE and rows["赵五"].last_at is None
    # Worst first: overdue (never contacted before the oldest contact), then due, then done.
    order = [r.name for r in selectors.care_list(personas["admin"], today=DAY)]
    assert order == ["赵五", "李四", "王大明", "王小明"]
    # Every 3 days for 李四: contacted two days ago, due again tomorrow.
    make_pairing(r_two_days, carer=personas["staff"], every_days=3)
    rows = {r.name: r for r in selectors.care_list(personas["admin"], today=DAY)}
    assert rows["李四"].state == selectors.DONE and rows["李四"].every == 3
    assert {
        r.name: r.state
        for r in selectors.care_list(personas["admin"], today=DAY + dt.timedelta(days=1))
    }["李四"] == selectors.DUE
    # The policy's rhythm applies to everyone without their own.
    Policy.objects.update_or_create(community=community, defaults={"every_days": 2})
    rows = {r.name: r for r in selectors.care_list(personas["admin"], today=DAY)}
    assert rows["王大明"].state == selectors.DONE
    assert selectors.counts(selectors.care_list(personas["admin"], today=DAY)) == {
        "overdue": 1,
        "due": 0,
        "done": 3,
        "total": 4,
    }
    assert names(selectors.care_list(personas["admin"], today=DAY, state="overdue")) == ["赵五"]


def test_grid_leaders_see_their_grid_and_their_own_people(personas, ledger):
    for r in (ledger["r1"], ledger["r3"]):
        tag(r)
    leader = personas["grid_leader"]
    assert names(selectors.care_list(leader)) == ["王小明"]
    make_pairing(ledger["r3"], carer=leader)  # grid B, but paired with them
    assert names(selectors.care_list(leader)) == ["王小明", "赵五"]
    with pytest.raises(Exception) as e:
        selectors.person_for(personas["outsider"], ledger["r1"].pk)
    assert getattr(e.value, "status", None) == 404


def test_filters_by_grid_carer_and_unpaired(personas, ledger, grid_a):
    for r in (ledger["r1"], ledger["r2"], ledger["r3"]):
        tag(r)
    make_pairing(ledger["r2"], carer=personas["staff"])
    admin = personas["admin"]
    assert names(selectors.care_list(admin, grid_id=grid_a.pk)) == ["李四", "王小明"]
    assert names(selectors.care_list(admin, carer_id=personas["staff"].pk)) == ["李四"]
    assert names(selectors.care_list(admin, unpaired=True)) == ["王小明", "赵五"]


def test_the_list_costs_the_same_queries_for_many_people(personas, community, grid_a):
    building = t.make_building(community, "大楼小区", "8号楼", grid=grid_a)

    def add(n):
        for i in range(n):
            h = t.make_household(community, building=building, door=f"{len(str(i))}{i:03d}{n}")
            r = t.make_resident(h, name=f"老人{n}-{i}", phone="")
            tag(r)
            make_pairing(r, carer=personas["staff"])
            make_follow_up(r)

    def cost():
        with CaptureQueriesContext(connection) as ctx:
            rows = selectors.with_carers(list(selectors.care_list(personas["admin"])))
            selectors.counts(selectors.care_list(personas["admin"]))
        return len(ctx.captured_queries), len(rows)

    add(3)
    cost()  # the policy is made on the first read
    small, n_small = cost()
    add(30)
    large, n_large = cost()
    assert n_large == n_small + 30
    assert large == small


def test_the_list_is_paged(client, personas, community, monkeypatch):
    from shouwang.care.views import people
    from shouwang.core.testing import make_household, make_resident

    monkeypatch.setattr(people, "PAGE_LIMIT", 2)
    for i in range(5):
        h = make_household(community, door=f"90{i}")
        make_resident(h, name=f"独居{i}", tags=int(CareTag.LIVING_ALONE))
    client.force_login(personas["staff"])
    first = client.get("/care/").content.decode()
    assert "page 1 of 3" in first and 'rel="next"' in first and 'rel="prev"' not in first
    last = client.get("/care/?state=&page=9").content.decode()  # past the end: the last page
    assert "page 3 of 3" in last and 'rel="prev"' in last and "page=2" in last
    shown = [n for n in (f"独居{i}" for i in range(5)) if n in last]
    assert len(shown) == 1
