"""Pairing a person with a carer: one live pairing each, a staff member or a party member of the
ledger, re-pairing keeps the history, and spreading a grid's people across its carers."""

import pytest

from shouwang.care import services
from shouwang.care.models import Pairing
from shouwang.care.tests.helpers_care import tag
from shouwang.core import testing as t
from shouwang.core.errors import DomainError
from shouwang.registry.models import CareTag

pytestmark = pytest.mark.django_db


def test_pair_then_pair_again_ends_the_first(personas, ledger):
    r1, staff, admin = tag(ledger["r1"]), personas["staff"], personas["admin"]
    first = services.pair(actor=admin, resident=r1, carer=staff, every_days=2)
    assert first.ended_at is None and first.every_days == 2
    again = services.pair(actor=admin, resident=r1, carer=staff, every_days=3, note="耳背")
    assert again.pk == first.pk and again.every_days == 3  # same carer: updated, not replaced
    second = services.pair(actor=admin, resident=r1, carer=personas["grid_leader"])
    first.refresh_from_db()
    assert first.ended_at is not None and second.ended_at is None
    assert Pairing.objects.filter(resident=r1, ended_at__isnull=True).count() == 1
    services.unpair(actor=admin, resident=r1)
    assert not Pairing.objects.filter(resident=r1, ended_at__isnull=True).exists()
    with pytest.raises(DomainError) as e:
        services.unpair(actor=admin, resident=r1)
    assert e.value.code == "not_paired"


def test_a_party_member_can_be_a_carer(personas, ledger):
    r1, r2, admin = tag(ledger["r1"]), ledger["r2"], personas["admin"]
    with pytest.raises(DomainError) as e:
        services.pair(actor=admin, resident=r1, carer_resident=r2)
    assert "party member" in str(e.value.message)
    tag(r2, CareTag.PARTY_MEMBER)
    p = services.pair(actor=admin, resident=r1, carer_resident=r2)
    assert p.carer_name == "李四"
    with pytest.raises(DomainError):
        services.pair(actor=admin, resident=r2, carer_resident=r2)  # not themselves
    with pytest.raises(DomainError):
        services.pair(actor=admin, resident=r1, carer_resident=ledger["ro"])  # elsewhere


def test_the_carer_must_be_staff_of_the_community(personas, ledger):
    r1, admin = tag(ledger["r1"]), personas["admin"]
    for wrong in (personas["volunteer"], personas["outsider"], personas["resident"]):
        with pytest.raises(DomainError) as e:
            services.pair(actor=admin, resident=r1, carer=wrong)
        assert e.value.fields.get("carer")
    with pytest.raises(DomainError):
        services.pair(actor=admin, resident=r1)  # no carer at all
    with pytest.raises(DomainError) as e:
        services.pair(actor=admin, resident=r1, carer=personas["staff"], every_days=99)
    assert "every_days" in e.value.fields


def test_spread_a_grids_people_across_carers(personas, ledger, community, grid_a):
    building = ledger["h1"].building
    people = [tag(ledger["r1"]), tag(ledger["r1b"]), tag(ledger["r2"])]
    for i in range(3):
        h = t.make_household(community, building=building, door=f"30{i}")
        people.append(tag(t.make_resident(h, name=f"老人{i}", phone="")))
    tag(ledger["r3"])  # grid B: left alone
    services.pair(actor=personas["admin"], resident=people[0], carer=personas["admin"])
    made = services.pair_in_bulk(
        actor=personas["admin"],
        community_id=community.pk,
        grid_id=grid_a.pk,
        carers=[personas["staff"], personas["grid_leader"]],
    )
    assert len(made) == 5  # already paired and grid B are left out
    carers = [p.carer_id for p in made]
    assert carers.count(personas["staff"].pk) == 3 and carers.count(personas["grid_leader"].pk) == 2
    assert not Pairing.objects.filter(resident=ledger["r3"]).exists()
    assert (
        services.pair_in_bulk(
            actor=personas["admin"],
            community_id=community.pk,
            grid_id=grid_a.pk,
            carers=[personas["staff"]],
        )
        == []
    )


def test_pairing_pages(client, personas, ledger):
    r1 = tag(ledger["r1"])
    client.force_login(personas["staff"])
    resp = client.post(
        f"/care/people/{r1.pk}/pair/",
        {"carer": f"u{personas['grid_leader'].pk}", "every_days": "2"},
    )
    assert resp.status_code == 302
    p = Pairing.objects.get(resident=r1, ended_at__isnull=True)
    assert p.carer == personas["grid_leader"] and p.every_days == 2
    page = client.get("/care/pairings/").content.decode()
    assert "grid_leader" in page and "王小明" in page
    resp = client.post(
        f"/care/people/{r1.pk}/pair/", {"carer": f"u{personas['outsider'].pk}"}, follow=True
    )
    assert "Choose a carer from the list" in resp.content.decode()
    client.post(f"/care/people/{r1.pk}/unpair/")
    p.refresh_from_db()
    assert p.ended_at is not None
    resp = client.post(
        "/care/pairings/spread/", {"carers": [f"u{personas['staff'].pk}"]}, follow=True
    )
    assert "1 people paired" in resp.content.decode()
    # The grid leader follows people up but does not pair them.
    client.force_login(personas["grid_leader"])
    assert client.post(f"/care/people/{r1.pk}/unpair/").status_code == 403


def test_policy_page(client, personas, ledger, community):
    from shouwang.care.models import Policy

    tag(ledger["r1"], CareTag.AGE_60)
    client.force_login(personas["admin"])
    page = client.get("/care/policy/").content.decode()
    assert "0 people are on the list now" in page
    resp = client.post(
        "/care/policy/", {"tags": [CareTag.AGE_60, CareTag.AGE_80], "every_days": "2"}
    )
    assert resp.status_code == 302
    policy = Policy.objects.get(community=community)
    assert policy.tags == CareTag.AGE_60 | CareTag.AGE_80 and policy.every_days == 2
    assert "1 person is on the list now" in client.get("/care/policy/").content.decode()
    resp = client.post("/care/policy/", {"every_days": "0"})
    assert resp.status_code == 200 and "field-error" in resp.content.decode()
