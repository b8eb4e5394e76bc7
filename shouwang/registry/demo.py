"""A deterministic demo community modelled on Huamei (Shanghai, spring 2022).

12 committee staff, 14 compounds of mixed kinds, ≈2,969 households and ≈7,500 residents,
10 grids of similar size; homestead buildings hold 5–6 rented households each, three of them
behind one door. Every name and number is invented; IDs carry valid GB 11643 check digits so
the same validation as real data applies. `scale` makes that many communities (for benchmarks).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric

from shouwang.accounts.models import Role, User
from shouwang.core.audit import audit
from shouwang.grids.models import Grid
from shouwang.grids.services import grids_apply, grids_propose
from shouwang.registry.models import (
    Building,
    CareTag,
    Community,
    Compound,
    CompoundKind,
    Dwelling,
    Household,
    Presence,
    Relation,
    Residency,
    Resident,
    Unit,
)
from shouwang.registry.sample_names import GIVEN, MOBILE_PREFIXES, REGIONS, SURNAMES
from shouwang.registry.services import age_on, age_tags, households_refresh, street_ensure

DEMO_PASSWORD = "shouwang-demo"

# (name, kind, property company, buildings, units per building, floors, doors per floor)
COMPOUNDS = [
    ("华美小区", CompoundKind.COMMODITY, True, 14, 2, 6, 2),
    ("新虹公寓", CompoundKind.COMMODITY, True, 12, 2, 6, 2),
    ("华漕公房", CompoundKind.PUBLIC, False, 10, 2, 5, 2),
    ("金丰新村", CompoundKind.OLD, False, 10, 2, 5, 2),
    ("纪王新苑", CompoundKind.COMMODITY, True, 10, 2, 6, 2),
    ("诸翟新村", CompoundKind.OLD, False, 9, 2, 5, 2),
    ("爱博花园", CompoundKind.VILLA, True, 30, 0, 1, 1),
    ("西郊别墅", CompoundKind.VILLA, True, 24, 0, 1, 1),
    ("七莘宅基", CompoundKind.HOMESTEAD, False, 60, 0, 2, 1),
    ("许浦宅基", CompoundKind.HOMESTEAD, False, 50, 0, 2, 1),
    ("陈家宅基", CompoundKind.HOMESTEAD, False, 45, 0, 2, 1),
    ("杨家宅基", CompoundKind.HOMESTEAD, False, 40, 0, 2, 1),
    ("鹤望苑", CompoundKind.COMMODITY, True, 13, 2, 6, 2),
    ("卫星公房", CompoundKind.PUBLIC, False, 12, 2, 5, 2),
]
# Household sizes: mean ≈ 2.53 people, Huamei's 7,500 / 2,969.
SIZES = (1, 2, 3, 4, 5, 6, 7, 8)
SIZE_WEIGHTS = (22, 33, 23, 11, 5.5, 3, 1.5, 0.5)
STAFF = [
    ("admin", Role.ADMIN, "王书记"),
    # A second admin: area-control proposals need someone else's approval (four eyes).
    ("admin2", Role.ADMIN, "张主任"),
    ("staff", Role.STAFF, "李干事"),
    ("guard", Role.GUARD, "赵师傅"),
    ("sampler", Role.SAMPLER, "周医生"),
    ("volunteer", Role.VOLUNTEER, "陈志愿"),
    ("merchant", Role.MERCHANT, "松林超市"),
    ("resident", Role.RESIDENT, "居民代表"),
]


@dataclass
class _Gen:
    rng: random.Random
    today: date
    ids: set
    phones: set

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2)))
        )

    def birth(self, lo: int, hi: int) -> date:
        days = self.rng.randint(lo * 365 + 1, hi * 365 + 364)
        return self.today - timedelta(days=days)

    def id_number(self, birth: date, sex: str) -> str:
        while True:
            seq = self.rng.randint(0, 99)
            sex_digit = self.rng.choice("13579" if sex == "M" else "02468")
            body = f"{self.rng.choice(REGIONS)}{birth:%Y%m%d}{seq:02d}{sex_digit}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.ids:
                self.ids.add(number)
                return number

    def phone(self) -> str:
        while True:
            number = f"+86{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randint(0, 99_999_999):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number


def _members(g: _Gen, size: int, tenant: bool) -> list[dict]:
    """A plausible family: head, spouse, children, sometimes a parent; ages from the pyramid."""
    rng = g.rng
    if size == 1:
        band = rng.choices([(20, 40), (40, 60), (60, 80), (80, 97)], [30, 25, 33, 12])[0]
        ages = [band]
        relations = [Relation.HEAD]
    else:
        head_band = rng.choices([(25, 40), (40, 60), (60, 80), (80, 95)], [35, 35, 24, 6])[0]
        ages = [head_band, head_band]
        relations = [Relation.HEAD, Relation.SPOUSE]
        for _ in range(size - 2):
            if head_band[0] >= 60:
                kind = rng.choice([Relation.CHILD, Relation.GRANDCHILD])
            else:
                kind = rng.choices([Relation.CHILD, Relation.PARENT, Relation.OTHER], [70, 25, 5])[
                    0
                ]
            if kind == Relation.CHILD:
                lo = max(0, head_band[0] - 40)
                ages.append((lo, max(lo + 1, head_band[1] - 22)))
            elif kind == Relation.GRANDCHILD:
                ages.append((0, 17))
            elif kind == Relation.PARENT:
                ages.append((head_band[0] + 22, min(head_band[1] + 35, 100)))
            else:
                ages.append((18, 60))
            relations.append(kind)
    people = []
    head_sex = rng.choice("MF")
    for i, (band, relation) in enumerate(zip(ages, relations, strict=True)):
        sex = (
            head_sex
            if i == 0
            else ("F" if head_sex == "M" else "M")
            if i == 1
            else rng.choice("MF")
        )
        birth = g.birth(*band)
        age = age_on(birth, g.today)
        tags = age_tags(birth, g.today)
        if size == 1 and age >= 60:
            tags |= CareTag.LIVING_ALONE
        if age >= 60:
            if rng.random() < 0.32:
                tags |= CareTag.CHRONIC
            if rng.random() < (0.45 if age >= 80 else 0.15):
                tags |= CareTag.NO_SMARTPHONE
        if age >= 80 and rng.random() < 0.05:
            tags |= CareTag.BEDRIDDEN
        if rng.random() < 0.015:
            tags |= CareTag.DISABLED
        if sex == "F" and 22 <= age <= 40 and rng.random() < 0.03:
            tags |= CareTag.PREGNANT
        if rng.random() < 0.02:
            tags |= CareTag.LOW_INCOME
        if age >= 18 and rng.random() < 0.07:
            tags |= CareTag.PARTY_MEMBER
        if age < 16 and rng.random() < 0.01:
            tags |= CareTag.CHILD_IN_DIFFICULTY
        if tenant:
            residency = rng.choices([Residency.TENANT, Residency.FLOATING], [70, 30])[0]
        else:
            residency = rng.choices(
                [
                    Residency.REGISTERED,
                    Residency.LONG_TERM,
                    Residency.TENANT,
                    Residency.ACCOMPANYING,
                ],
                [76, 14, 8, 2],
            )[0]
        presence = rng.choices(
            [Presence.PRESENT, Presence.AWAY, Presence.HOSPITAL], [96, 3.5, 0.5]
        )[0]
        has_phone = age >= 12 and not (tags & CareTag.NO_SMARTPHONE and rng.random() < 0.6)
        people.append(
            {
                "name": g.name(),
                "sex": sex,
                "birth": birth,
                "relation": relation,
                "tags": int(tags),
                "residency": residency,
                "presence": presence,
                "id": g.id_number(birth, sex),
                "phone": g.phone() if has_phone else "",
                "medicines": "降压药、降糖药" if tags & CareTag.CHRONIC else "",
            }
        )
    return people


def _build_community(*, community: Community, seed: int, today: date, progress=None) -> dict:
    rng = random.Random(seed)
    g = _Gen(rng=rng, today=today, ids=set(), phones=set())
    compounds = Compound.objects.bulk_create(
        [
            Compound(community=community, name=name, kind=kind, has_property_company=prop)
            for name, kind, prop, *_ in COMPOUNDS
        ]
    )
    buildings, units, dwellings = [], [], []
    for compound, (_, kind, _, nb, nunits, floors, per_floor) in zip(
        compounds, COMPOUNDS, strict=True
    ):
        for b in range(1, nb + 1):
            name = f"{b}号" if kind == CompoundKind.HOMESTEAD else f"{b}号楼"
            building = Building(community=community, compound=compound, name=name)
            buildings.append((building, kind, nunits, floors, per_floor))
    Building.objects.bulk_create([b for b, *_ in buildings])
    for building, kind, nunits, floors, per_floor in buildings:
        if nunits:
            for u in range(1, nunits + 1):
                unit = Unit(community=community, building=building, name=f"{u}单元")
                units.append(unit)
                for f in range(1, floors + 1):
                    for d in range(1, per_floor + 1):
                        dwellings.append(
                            (
                                Dwelling(
                                    community=community,
                                    building=building,
                                    unit=unit,
                                    door=f"{f}{d:02d}",
                                ),
                                kind,
                            )
                        )
        else:
            for f in range(1, floors + 1):
                door = f"{f}01"
                dwellings.append(
                    (Dwelling(community=community, building=building, door=door), kind)
                )
    Unit.objects.bulk_create(units)
    for d, _ in dwellings:
        d.unit_id = d.unit.pk if d.unit else None
    Dwelling.objects.bulk_create([d for d, _ in dwellings], batch_size=2000)

    households: list[tuple[Household, list[dict]]] = []
    for dwelling, kind in dwellings:
        if kind == CompoundKind.HOMESTEAD:
            # Rented-out homestead rooms: 2–3 families behind each door, 5–6 per building.
            count = rng.choice((2, 3, 3))
            tenant = True
        elif kind == CompoundKind.VILLA:
            count, tenant = (1 if rng.random() < 0.93 else 0), False
        else:
            count, tenant = (1 if rng.random() < 0.94 else 0), False
        for _ in range(count):
            size = rng.choices(SIZES, SIZE_WEIGHTS)[0]
            if tenant:
                size = min(size, 4)
            h = Household(community=community, dwelling=dwelling, building_id=dwelling.building_id)
            households.append((h, _members(g, size, tenant)))
    Household.objects.bulk_create([h for h, _ in households], batch_size=2000)

    now = timezone.now()
    residents: list[Resident] = []
    for h, people in households:
        for p in people:
            r = Resident(
                community=community,
                household=h,
                name=p["name"],
                sex=p["sex"],
                birth_date=p["birth"],
                relation=p["relation"],
                residency=p["residency"],
                presence=p["presence"],
                tags=p["tags"],
                medicines=p["medicines"],
                created_at=now,
                updated_at=now,
            )
            r.set_id_number(p["id"])
            r.set_phone(p["phone"])
            residents.append(r)
    Resident.objects.bulk_create(residents, batch_size=2000)

    households_refresh(household_ids=[h.pk for h, _ in households])
    grids = grids_apply(
        actor=None, community=community, groups=grids_propose(community=community, count=10)
    )
    return {"households": len(households), "residents": len(residents), "grids": grids}


def demo_build(
    *, scale: int = 1, seed: int = 2022, today: date | None = None, log=print
) -> list[tuple[str, str]]:
    """Builds `scale` communities; returns the demo logins as (username, role)."""
    today = today or date(2022, 4, 10)
    street = street_ensure(
        district_code="DEMO", district_name="闵行区（示范）", code="DEMO-HC", name="华漕镇（示范）"
    )
    logins = []
    for n in range(1, scale + 1):
        code = "HM" if n == 1 else f"HM{n:03d}"
        if Community.objects.filter(code=code).exists():
            log(f"{code}: exists, skipped")
            continue
        with transaction.atomic():
            community = Community.objects.create(
                code=code,
                name="华美社区" if n == 1 else f"华美社区{n:03d}",
                street=street,
                large_household_threshold=6,
            )
            stats = _build_community(community=community, seed=seed + n, today=today)
            if n == 1:
                from shouwang.residents.demo import demo_residents

                logins = _demo_users(community, stats["grids"])
                demo_residents(community, log=log)
                from shouwang.queues.demo import demo_queue

                admin = User.objects.get(community=community, username="admin")
                demo_queue(community, admin, log=log)
                from shouwang.supplies.buying.demo import demo_buying
                from shouwang.supplies.materials.demo import demo_materials
                from shouwang.supplies.relief.demo import demo_relief

                demo_relief(community, admin, log=log)
                demo_buying(community, admin, log=log)
                demo_materials(community, admin, log=log)
                from shouwang.screening.demo import demo_screening

                demo_screening(community, admin, log=log)
                _demo_checkpoints(community, log=log)
            audit(
                actor=None,
                action="demo.build",
                community=community,
                summary=f"{stats['households']} households, {stats['residents']} residents",
            )
        log(
            f"{code}: {stats['households']} households, {stats['residents']} residents, "
            f"{len(stats['grids'])} grids"
        )
    return logins


def _demo_checkpoints(community: Community, *, log=print) -> None:
    """Area control, then gates, checkpoints and this week's roster, a day of passages at the
    gates, and visitors, couriers and parcels — in that order, each reading the one before."""
    from django.utils import timezone

    from shouwang.checkpoints import demo_desk, demo_guard, demo_places
    from shouwang.control import demo as demo_control

    users = {u.username: u for u in User.objects.filter(community=community)}
    users["grid_leader"] = users.get("grid1")
    now = timezone.now()
    demo_control.demo(community, now=now, users=users, log=log)
    demo_places.demo(community, now=now, users=users, log=log)
    demo_guard.demo(community, now=now, users=users, log=log)
    made = demo_desk.demo(community, now=now, users=users)
    log(f"{community.code}: checkpoint desk: {made}")
    from shouwang.volunteers import demo as demo_volunteers

    demo_volunteers.demo(community, now=now, users=users, log=log)
    from shouwang.helpline import demo as demo_helpline

    demo_helpline.demo(community, now=now, users=users, log=log)
    from shouwang.care import demo as demo_care
    from shouwang.medicine import demo as demo_medicine

    demo_medicine.demo(community, now=now, users=users, log=log)
    demo_care.demo(community, now=now, users=users, log=log)


def _demo_users(community: Community, grids: list[Grid]) -> list[tuple[str, str]]:
    logins = []

    def make(username, role, display, **extra):
        u = User(username=username, role=role, community=community, display_name=display, **extra)
        u.set_password(DEMO_PASSWORD)
        u.save()
        logins.append((username, role))
        return u

    for username, role, display in STAFF:
        make(username, role, display)
    for i, grid in enumerate(grids, 1):
        leader = make(f"grid{i}", Role.GRID_LEADER, f"{grid.name}网格长", grid=grid)
        grid.leader = leader
        grid.save(update_fields=["leader"])
    district = User(
        username="district",
        role=Role.DISTRICT,
        district=community.street.district,
        display_name="区防控办",
    )
    district.set_password(DEMO_PASSWORD)
    district.save()
    logins.append(("district", Role.DISTRICT))
    return logins
