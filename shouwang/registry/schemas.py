from datetime import date

from ninja import Schema


class PlaceOut(Schema):
    compound: str
    building: str
    unit: str
    door: str
    grid: str | None


class ResidentOut(Schema):
    id: int
    household_id: int
    name: str
    id_type: str
    id_number: str
    phone: str
    sex: str
    birth_date: date | None
    relation: str
    residency: str
    presence: str
    tags: list[str]
    place: PlaceOut


class HouseholdOut(Schema):
    id: int
    place: PlaceOut
    size: int
    large: bool
    contact_phone: str
    head_id: int | None
    members: list[ResidentOut]


class RevealIn(Schema):
    field: str
    reason: str


class RevealOut(Schema):
    field: str
    value: str


class CountRow(Schema):
    id: int | None
    name: str | None
    people: int
    households: int


class TagRow(Schema):
    tag: int
    label: str
    people: int


class OverviewOut(Schema):
    people: int
    present: int
    away: int
    hospital: int
    households: int
    large: int
    threshold: int
    by_compound: list[CountRow]
    by_grid: list[CountRow]
    by_tag: list[TagRow]


class ProblemOut(Schema):
    row: int
    column: str
    code: str
    message: str


class ImportOut(Schema):
    filename: str
    format: str
    encoding: str | None
    sheet: str | None
    header_row: int
    columns: dict[str, str]
    unknown_columns: list[str]
    data_rows: int
    accepted_rows: int
    rejected_rows: int
    households: int
    rejected: list[ProblemOut]
    warnings: list[ProblemOut]
    new_places: dict[str, list[str]]
    committed: bool
    created: int | None = None
    updated: int | None = None
    unchanged: int | None = None
    households_created: int | None = None
