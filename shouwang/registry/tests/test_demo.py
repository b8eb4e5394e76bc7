"""The demo community: Huamei's numbers, deterministic, every ID valid."""

import pytest
from django.db.models import Count

from shouwang.accounts.models import Role, User
from shouwang.registry.demo import demo_build
from shouwang.registry.models import CareTag, Community, CompoundKind, Household, Resident
from shouwang.registry.validation import check_id


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        logins = demo_build(scale=1, seed=2022, log=lambda *_: None)
        digest = sorted(Resident.objects.values_list("name", "id_number_index"))[:200]
        yield logins, digest
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)


@pytest.mark.django_db
def test_demo_matches_huamei(demo):
    c = Community.objects.get(code="HM")
    households = Household.objects.filter(community=c).count()
    people = Resident.objects.filter(community=c).count()
    assert 2850 <= households <= 3100, households  # Huamei: 2,969
    assert 7200 <= people <= 7800, people  # Huamei: ≈7,500
    assert c.compounds.count() == 14
    assert c.grids.count() == 10
    kinds = set(c.compounds.values_list("kind", flat=True))
    assert kinds == set(CompoundKind.values)
    # Homestead buildings hold 5–6 rented households on average, several behind one door.
    per_building = (
        Household.objects.filter(community=c, building__compound__kind=CompoundKind.HOMESTEAD)
        .values("building")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    mean = sum(per_building) / len(per_building)
    assert 4.5 <= mean <= 6.5, mean
    assert max(per_building) >= 6
    for tag in (
        CareTag.LIVING_ALONE,
        CareTag.NO_SMARTPHONE,
        CareTag.CHRONIC,
        CareTag.BEDRIDDEN,
        CareTag.INFANT,
        CareTag.AGE_80,
    ):
        assert Resident.objects.filter(community=c).with_tag(tag).exists(), tag.label


@pytest.mark.django_db
def test_grids_are_of_similar_size(demo):
    c = Community.objects.get(code="HM")
    sizes = [g.buildings.aggregate(n=Count("households__members"))["n"] for g in c.grids.all()]
    assert max(sizes) <= 1.6 * min(sizes), sizes


@pytest.mark.django_db
def test_one_login_per_role_and_valid_ids(demo):
    logins, _ = demo
    roles = {u.role for u in User.objects.all()}
    assert roles == set(Role.values)
    assert ("admin", Role.ADMIN) in logins and ("grid1", Role.GRID_LEADER) in logins
    for r in Resident.objects.all()[:300]:
        info = check_id(r.id_number)
        assert info.birth_date == r.birth_date and info.sex == r.sex


@pytest.mark.django_db
def test_demo_is_deterministic(demo):
    _, digest = demo
    # Same seed, same people: rebuilding into a second community reproduces the names.
    from shouwang.registry import demo as demo_module

    c2 = Community.objects.create(code="HM-AGAIN", name="again")
    demo_module._build_community(community=c2, seed=2022 + 1, today=demo_module.date(2022, 4, 10))
    a = sorted(Resident.objects.filter(community__code="HM").values_list("name", "birth_date"))
    b = sorted(Resident.objects.filter(community=c2).values_list("name", "birth_date"))
    assert a == b
