"""Importing a community's ledger from the spreadsheet it already keeps.

One service behind the CLI, the upload page and the API. A dry run reports every problem by
spreadsheet row, column and a stable code; a commit writes every accepted row in one
transaction or nothing. Re-importing the same file changes nothing; a corrected file updates in
place, keyed by the normalised ID number (through its blind index: IDs are never in clear).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core import bulk, crypto
from shouwang.core.audit import audit
from shouwang.core.errors import Conflict
from shouwang.registry import tabular
from shouwang.registry.models import (
    Building,
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
from shouwang.registry.services import age_tags, households_refresh
from shouwang.registry.validation import (
    InvalidValue,
    check_birth_date,
    check_id,
    check_mobile,
    check_name,
    clean_text,
    parse_id_type,
    parse_sex,
)
from shouwang.registry.vocab import (
    FIELD_LABELS,
    PRESENCE_WORDS,
    RELATIONS,
    RESIDENCY_WORDS,
    ensure_labels,
    parse_tags,
)

# Place names repeat on every row of a building: clean each distinct one once.
_clean_place = lru_cache(maxsize=65536)(clean_text)


@lru_cache(maxsize=4096)
def _parse_tags(text: str):
    bits, residency, presence, unknown = parse_tags(clean_text(text))
    return bits, residency, presence, tuple(unknown)


@dataclass
class Problem:
    row: int
    column: str
    code: str
    message: str


@dataclass
class ImportReport:
    filename: str
    format: str = ""
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    data_rows: int = 0
    accepted_rows: int = 0
    households: int = 0
    rejected: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    new_places: dict[str, list[str]] = field(default_factory=dict)
    committed: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    households_created: int = 0

    @property
    def rejected_rows(self) -> int:
        return len({p.row for p in self.rejected})

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rejected_rows"] = self.rejected_rows
        if not self.committed:
            for key in ("created", "updated", "unchanged", "households_created"):
                data.pop(key)
        return data


@dataclass
class _Person:
    row: int
    place: tuple[str, str, str, str]
    relation: str
    name: str
    id_type: str
    id_number: str
    index: str
    phone: str
    sex: str
    birth_date: date | None
    birth_date_mismatch: bool
    residency: str
    presence: str
    tags: int
    note: str
    household_key: int = -1


class _RowChecker:
    """Validates one spreadsheet row into a _Person, collecting problems."""

    def __init__(self, table: tabular.Table, report: ImportReport, today: date):
        self.columns = table.columns
        self.report = report
        self.today = today

    def column(self, fieldname: str) -> str:
        return self.columns.get(fieldname) or str(FIELD_LABELS.get(fieldname, fieldname))

    def problem(self, row: int, fieldname: str, code: str, message: Any) -> None:
        self.report.rejected.append(Problem(row, self.column(fieldname), code, str(message)))

    def warn(self, row: int, fieldname: str, code: str, message: Any) -> None:
        self.report.warnings.append(Problem(row, self.column(fieldname), code, str(message)))

    def check(self, row: tabular.Row) -> tuple[_Person | None, tuple, str]:
        """Returns (person or None when rejected, place, relation)."""
        v = row.values
        ok = True

        try:
            name = check_name(v.get("name", ""))
        except InvalidValue as e:
            self.problem(row.number, "name", e.code, e.message)
            ok = False
            name = ""

        id_info = None
        try:
            id_type = parse_id_type(v.get("id_type", ""))
            id_info = check_id(
                v.get("id_number", ""),
                id_type=id_type,
                raw_is_number="id_number" in row.numeric,
                today=self.today,
            )
        except InvalidValue as e:
            self.problem(
                row.number, e.field if e.field == "id_type" else "id_number", e.code, e.message
            )
            ok = False

        try:
            phone = check_mobile(v.get("phone", ""))
        except InvalidValue as e:
            self.problem(row.number, "phone", e.code, e.message)
            ok = False
            phone = ""

        place = (
            _clean_place(v.get("compound", "")),
            _clean_place(v.get("building", "")),
            _clean_place(v.get("unit", "")),
            _clean_place(v.get("door", "")),
        )
        for fieldname, value in zip(
            ("compound", "building", "door"), (place[0], place[1], place[3]), strict=True
        ):
            if not value:
                self.problem(
                    row.number,
                    fieldname,
                    "place_missing",
                    _("%(column)s is empty. Every row needs its compound, building and door.")
                    % {"column": self.column(fieldname)},
                )
                ok = False

        relation_text = clean_text(v.get("relation", "")).lower()
        relation = RELATIONS.get(relation_text, "") if relation_text else ""
        if relation_text and not relation:
            self.warn(
                row.number,
                "relation",
                "relation_unknown",
                _("Relation “%(value)s” is not one we know; recorded as “other”.")
                % {"value": relation_text},
            )
            relation = Relation.OTHER

        tags, residency, presence, unknown = _parse_tags(v.get("tags", ""))
        if unknown:
            self.warn(
                row.number,
                "tags",
                "tag_unknown",
                _("Tags not understood, kept in the note: %(tags)s") % {"tags": "、".join(unknown)},
            )
        note = clean_text(v.get("note", ""))
        if unknown:
            note = (note + " " + " ".join(unknown)).strip()
        if v.get("residency"):
            residency = RESIDENCY_WORDS.get(clean_text(v["residency"]).lower(), residency)
        if v.get("presence"):
            presence = PRESENCE_WORDS.get(clean_text(v["presence"]).lower(), presence)

        sex, birth, mismatch = "", None, False
        try:
            typed_sex = parse_sex(v.get("sex", ""))
        except InvalidValue as e:
            self.warn(row.number, "sex", e.code, e.message)
            typed_sex = ""
        try:
            typed_birth = check_birth_date(v.get("birth_date", ""), today=self.today)
        except InvalidValue as e:
            self.warn(row.number, "birth_date", e.code, e.message)
            typed_birth = None
        if id_info is not None:
            sex = id_info.sex or typed_sex
            birth = id_info.birth_date or typed_birth
            if typed_birth and id_info.birth_date and typed_birth != id_info.birth_date:
                mismatch = True
                self.warn(
                    row.number,
                    "birth_date",
                    "birth_date_mismatch",
                    _(
                        "The typed birth date differs from the one in the ID number; the ID's is kept."
                    ),
                )

        if not ok or id_info is None:
            return None, place, relation
        person = _Person(
            row=row.number,
            place=place,  # type: ignore[arg-type]
            relation=relation,
            name=name,
            id_type=id_info.id_type,
            id_number=id_info.number,
            index=crypto.blind_index("id", id_info.number),
            phone=phone,
            sex=sex,
            birth_date=birth,
            birth_date_mismatch=mismatch,
            residency=residency or Residency.REGISTERED,
            presence=presence or Presence.PRESENT,
            tags=tags | age_tags(birth, self.today),
            note=note[:200],
        )
        return person, place, relation


def _digest(p: _Person, dwelling_id: int) -> str:
    """Keyed digest of what the file says about a person: equal digests mean nothing to write."""
    parts = [
        p.name,
        p.id_type,
        p.id_number,
        p.phone,
        p.sex,
        p.birth_date.isoformat() if p.birth_date else "",
        str(p.birth_date_mismatch),
        p.relation,
        p.residency,
        p.presence,
        str(p.tags),
        p.note,
        str(dwelling_id),
    ]
    return crypto.blind_index("row", "\x1f".join(parts))[:32]


@dataclass(slots=True)
class _Door:
    pk: int
    building_id: int


class _Places:
    """The community's places in memory, and the ones the file would add."""

    def __init__(self, community: Community):
        self.community = community
        self.compounds = {c.name: c for c in Compound.objects.filter(community=community)}
        self.buildings = {
            (b.compound.name, b.name): b
            for b in Building.objects.filter(community=community).select_related("compound")
        }
        self.units = {
            (u.building.compound.name, u.building.name, u.name): u
            for u in Unit.objects.filter(community=community).select_related("building__compound")
        }
        self.dwellings: dict[tuple[str, str, str, str], _Door] = {}
        self._load_doors(Dwelling.objects.filter(community=community))
        # Dicts as ordered sets: a file can add tens of thousands of doors, and a list
        # membership test per row made the dry run quadratic (36 s for 100,000 rows).
        self.new_compounds: dict[str, None] = {}
        self.new_buildings: dict[tuple[str, str], None] = {}
        self.new_units: dict[tuple[str, str, str], None] = {}
        self.new_dwellings: dict[tuple[str, str, str, str], None] = {}

    def note(self, place: tuple[str, str, str, str]) -> None:
        compound, building, unit, _door = place
        if compound not in self.compounds:
            self.new_compounds[compound] = None
        if (compound, building) not in self.buildings:
            self.new_buildings[(compound, building)] = None
        if unit and (compound, building, unit) not in self.units:
            self.new_units[(compound, building, unit)] = None
        if place not in self.dwellings:
            self.new_dwellings[place] = None

    def _load_doors(self, qs) -> None:
        building_names = {b.pk: key for key, b in self.buildings.items()}
        unit_names = {u.pk: key[2] for key, u in self.units.items()}
        for pk, building_id, unit_id, door in qs.values_list(
            "pk", "building_id", "unit_id", "door"
        ):
            compound, building = building_names[building_id]
            key = (compound, building, unit_names[unit_id] if unit_id else "", door)
            self.dwellings[key] = _Door(pk, building_id)

    def summary(self) -> dict[str, list[str]]:
        return {
            "compounds": list(self.new_compounds),
            "buildings": [f"{c} {b}" for c, b in self.new_buildings],
            "units": [f"{c} {b} {u}" for c, b, u in self.new_units],
            "dwellings": [" ".join(x for x in d if x) for d in self.new_dwellings],
        }

    def create(self) -> None:
        community = self.community
        # A name like 七莘宅基 or 某某村 is a self-built homestead; the admin can change the kind.
        homestead_words = ("宅基", "自建", "村")
        new = Compound.objects.bulk_create(
            [
                Compound(
                    community=community,
                    name=name,
                    kind=CompoundKind.HOMESTEAD
                    if any(w in name for w in homestead_words)
                    else CompoundKind.COMMODITY,
                )
                for name in self.new_compounds
            ]
        )
        for obj in new:
            self.compounds[obj.name] = obj
        created = Building.objects.bulk_create(
            [
                Building(community=community, compound=self.compounds[c], name=b)
                for c, b in self.new_buildings
            ]
        )
        for (c, b), obj in zip(list(self.new_buildings), created, strict=True):
            self.buildings[(c, b)] = obj
        created = Unit.objects.bulk_create(
            [
                Unit(community=community, building=self.buildings[(c, b)], name=u)
                for c, b, u in self.new_units
            ]
        )
        for key, obj in zip(list(self.new_units), created, strict=True):
            self.units[key] = obj
        if self.new_dwellings:
            before = Dwelling.objects.aggregate(m=Max("pk"))["m"] or 0
            bulk.bulk_insert(
                Dwelling,
                ("community_id", "building_id", "unit_id", "door"),
                (
                    (
                        community.pk,
                        self.buildings[(c, b)].pk,
                        self.units[(c, b, u)].pk if u else None,
                        d,
                    )
                    for c, b, u, d in self.new_dwellings
                ),
            )
            self._load_doors(Dwelling.objects.filter(community=community, pk__gt=before))


def registry_import(
    *,
    actor,
    community: Community,
    source,
    filename: str,
    commit: bool = False,
    progress: Callable[[int, int], None] | None = None,
    today: date | None = None,
    max_bytes: int | None = None,
    max_rows: int | None = None,
) -> ImportReport:
    """Check (and with commit=True, write) a ledger file. Raises tabular.TableError for a file
    that cannot be read at all; everything row-level is in the report."""
    # Hundreds of thousands of small acyclic objects: pausing the cyclic collector for the
    # duration is worth a third of the run time (reference counting still frees memory).
    with tabular.gc_paused():
        return _import(
            actor=actor, community=community, source=source, filename=filename, commit=commit,
            progress=progress, today=today, max_bytes=max_bytes, max_rows=max_rows,
        )  # fmt: skip


def _import(*, actor, community, source, filename, commit, progress, today, max_bytes, max_rows):
    from django.conf import settings

    today = today or timezone.localdate()
    ensure_labels()
    table = tabular.read_table(
        source,
        filename=filename,
        max_bytes=max_bytes or settings.IMPORT_MAX_BYTES,
        max_rows=max_rows or settings.IMPORT_MAX_ROWS,
    )
    report = ImportReport(
        filename=filename,
        format=table.format,
        encoding=table.encoding,
        sheet=table.sheet,
        header_row=table.header_row,
        columns=dict(table.columns),
        unknown_columns=list(table.unknown_columns),
        data_rows=len(table.rows),
    )
    checker = _RowChecker(table, report, today)
    total = len(table.rows)

    entries: list[tuple[int, tuple, str, _Person | None]] = []
    people: list[_Person] = []
    for i, row in enumerate(table.rows, 1):
        person, place, relation = checker.check(row)
        entries.append((row.number, place, relation, person))
        if person is not None:
            people.append(person)
        if progress and i % 1000 == 0:
            progress(i, total * 2 if commit else total)

    # The same ID twice in one file: every such row is reported, none is guessed at.
    by_index: dict[str, list[_Person]] = defaultdict(list)
    for p in people:
        by_index[p.index].append(p)
    duplicate_rows = set()
    for rows in by_index.values():
        if len(rows) > 1:
            for p in rows:
                duplicate_rows.add(p.row)
                others = ", ".join(str(o.row) for o in rows if o is not p)
                checker.problem(
                    p.row,
                    "id_number",
                    "id_duplicate",
                    _("This ID number appears again in row %(rows)s. Keep one row per person.")
                    % {"rows": others},
                )
    people = [p for p in people if p.row not in duplicate_rows]
    entries = [(n, place, rel, None if n in duplicate_rows else p) for n, place, rel, p in entries]

    # Existing residents by ID, to update in place and to catch an ID registered elsewhere.
    existing: dict[str, tuple[int, int, int, str]] = {}
    indexes = [p.index for p in people]
    in_community = Resident.objects.filter(community=community)
    known = in_community.count()
    columns = ("id", "id_number_index", "household_id", "household__dwelling_id", "import_digest")
    if known and known <= 4 * len(indexes):
        # The file covers much of the community: one scan beats a hundred IN (…) lookups.
        chunks = [in_community]
    else:
        chunks = [
            in_community.filter(id_number_index__in=indexes[start : start + 900])
            for start in range(0, len(indexes) if known else 0, 900)
        ]
    for qs in chunks:
        for rid, idx, hid, did, digest in qs.values_list(*columns):
            existing[idx] = (rid, hid, did, digest)

    places = _Places(community)
    households, accepted = _group_households(entries, checker, places, existing)
    report.households = len(households)
    report.accepted_rows = len(accepted)
    report.new_places = places.summary()
    report.rejected.sort(key=lambda p: (p.row, p.column))

    if commit:
        try:
            with transaction.atomic():
                # One import at a time per community (a no-op on SQLite, which serialises
                # writers anyway).
                Community.objects.select_for_update().filter(pk=community.pk).first()
                _write(
                    actor=actor,
                    community=community,
                    report=report,
                    places=places,
                    households=households,
                    existing=existing,
                    progress=(lambda i: progress(total + i, total * 2)) if progress else None,
                )
        except IntegrityError as exc:
            # Another import or edit wrote the same people or places meanwhile; nothing of
            # this one was kept, and a fresh check will see the other's rows.
            raise Conflict(
                "import_conflict",
                _(
                    "The ledger changed while this file was being imported; nothing was written. "
                    "Check the file again and import it."
                ),
            ) from exc
        report.committed = True
    if progress:
        progress(total * (2 if commit else 1), total * (2 if commit else 1))
    return report


@dataclass
class _HouseholdPlan:
    place: tuple[str, str, str, str]
    members: list[_Person]
    existing_id: int | None = None


def _group_households(entries, checker, places, existing):
    """A 户主 row starts a new household at its door; the rows after it at that door join it.

    A head rejected for a bad ID leaves its family without a household: its members are
    reported (head_rejected) rather than silently added to a neighbouring family at that door.
    """
    households: list[_HouseholdPlan] = []
    current: dict[tuple[str, str, str, str], _HouseholdPlan | int] = {}
    for number, place, relation, p in entries:
        if p is None:
            if relation == Relation.HEAD or (not relation and place not in current):
                current[place] = number
            continue
        if isinstance(current.get(p.place), int) and p.relation != Relation.HEAD:
            checker.problem(
                p.row,
                "relation",
                "head_rejected",
                _(
                    "The head of this household (row %(row)s) was rejected. Correct that row "
                    "and import again."
                )
                % {"row": current[p.place]},
            )
            continue
        ex = existing.get(p.index)
        place_dwelling = places.dwellings.get(p.place)
        if ex is not None and (place_dwelling is None or ex[2] != place_dwelling.pk):
            checker.problem(
                p.row,
                "id_number",
                "id_duplicate",
                _(
                    "This person is already registered at another door. Move them on their "
                    "household page, or correct the door in this row."
                ),
            )
            continue
        if p.relation == Relation.HEAD or (not p.relation and p.place not in current):
            p.relation = Relation.HEAD
            plan = _HouseholdPlan(place=p.place, members=[p], existing_id=ex[1] if ex else None)
            households.append(plan)
            current[p.place] = plan
        elif p.place in current:
            p.relation = p.relation or Relation.OTHER
            current[p.place].members.append(p)
        else:
            checker.problem(
                p.row,
                "relation",
                "head_missing",
                _(
                    "No 户主 (head of household) row above this one at the same door. Put the "
                    "head's row first, or mark this person as 户主."
                ),
            )
            continue
    accepted = [p for h in households for p in h.members]
    for plan in households:
        places.note(plan.place)
    return households, accepted


RESIDENT_COLUMNS = (
    "community_id", "household_id", "name", "id_type", "id_number_enc", "id_number_index",
    "id_number_masked", "id_tail", "phone_enc", "phone_index", "phone_masked", "phone_tail",
    "sex", "birth_date", "birth_date_mismatch", "relation", "residency", "presence", "tags",
    "medicines", "note", "import_digest", "created_at", "updated_at",
)  # fmt: skip
UPDATED_FIELDS = [
    "household", "name", "id_type", "id_number_enc", "id_number_masked", "id_tail", "phone_enc",
    "phone_index", "phone_masked", "phone_tail", "sex", "birth_date", "birth_date_mismatch",
    "relation", "residency", "presence", "tags", "note", "import_digest", "updated_at",
]  # fmt: skip


def _write(*, actor, community, report, places, households, existing, progress):
    places.create()
    now = timezone.now()
    db_now = bulk.db_datetime(now)
    db_date = bulk.date_adapter()

    new_plans = [plan for plan in households if plan.existing_id is None]
    if new_plans:
        # Several households can share a door, so new ones have no natural key: they are
        # inserted in plan order and read back in id order. The community row lock taken in
        # registry_import keeps another import of this community from interleaving.
        before = Household.objects.aggregate(m=Max("pk"))["m"] or 0
        bulk.bulk_insert(
            Household,
            ("community_id", "dwelling_id", "building_id", "size", "contact_phone_enc",
             "contact_phone_masked", "note", "created_at"),
            (
                (community.pk, door.pk, door.building_id, 0, "", "", "", db_now)
                for door in (places.dwellings[plan.place] for plan in new_plans)
            ),
        )  # fmt: skip
        ids = list(
            Household.objects.filter(community=community, pk__gt=before)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if len(ids) != len(new_plans):
            raise IntegrityError("households were added to this community during the import")
        for plan, pk in zip(new_plans, ids, strict=True):
            plan.existing_id = pk
    report.households_created = len(new_plans)

    # New people go in as plain rows (bulk.bulk_insert); changed people through the ORM.
    new_rows: list[tuple] = []
    to_update: list[Resident] = []
    touched: set[int] = set()
    done = 0
    for plan in households:
        dwelling_id = places.dwellings[plan.place].pk
        for p in plan.members:
            digest = _digest(p, dwelling_id)
            ex = existing.get(p.index)
            if ex is not None and ex[3] == digest and ex[1] == plan.existing_id:
                report.unchanged += 1
                continue
            touched.add(plan.existing_id)
            if ex is None:
                new_rows.append(
                    (
                        community.pk,
                        plan.existing_id,
                        p.name,
                        p.id_type,
                        *Resident.id_number_columns(p.id_number, index=p.index),
                        *Resident.phone_columns(p.phone),
                        p.sex,
                        db_date(p.birth_date),
                        p.birth_date_mismatch,
                        p.relation,
                        p.residency,
                        p.presence,
                        p.tags,
                        "",
                        p.note,
                        digest,
                        db_now,
                        db_now,
                    )  # fmt: skip
                )
            else:
                touched.add(ex[1])
                r = Resident(
                    pk=ex[0], household_id=plan.existing_id, name=p.name, id_type=p.id_type,
                    sex=p.sex, birth_date=p.birth_date, birth_date_mismatch=p.birth_date_mismatch,
                    relation=p.relation, residency=p.residency, presence=p.presence, tags=p.tags,
                    note=p.note, import_digest=digest, updated_at=now,
                )  # fmt: skip
                r.set_id_number(p.id_number, index=p.index)
                r.set_phone(p.phone)
                to_update.append(r)
            done += 1
            if progress and done % 1000 == 0:
                progress(done)
    bulk.bulk_insert(Resident, RESIDENT_COLUMNS, new_rows)
    if to_update:
        Resident.objects.bulk_update(to_update, UPDATED_FIELDS, batch_size=500)
    report.created = len(new_rows)
    report.updated = len(to_update)

    if touched:
        households_refresh(household_ids=touched)
    audit(
        actor=actor,
        action="registry.import",
        community=community,
        target_type="registry.import",
        target_id=report.filename[:64],
        summary=(
            f"rows {report.data_rows}, accepted {report.accepted_rows}, "
            f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}"
        ),
    )
