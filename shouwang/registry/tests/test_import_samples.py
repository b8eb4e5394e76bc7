"""The sample ledgers in shared/data/registry import exactly as expected.json says."""

import json
from pathlib import Path

import pytest

from shouwang.registry.importer import registry_import
from shouwang.registry.models import Household, Resident

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def expected():
    return json.loads((DATA / "expected.json").read_text())


@pytest.mark.parametrize(
    ("filename", "rowkey"), [("ledger.xlsx", "xlsx_row"), ("ledger-gbk.csv", "csv_line")]
)
def test_dry_run_reports_what_expected_json_says(community, expected, filename, rowkey):
    report = registry_import(
        actor=None, community=community, source=DATA / filename, filename=filename
    )
    assert report.data_rows == expected["data_rows"]
    assert report.accepted_rows == expected["accepted_rows"]
    assert report.households == expected["households"]
    got = sorted((p.row, p.column, p.code) for p in report.rejected)
    want = sorted((e[rowkey], e["column"], e["code"]) for e in expected["rejected"])
    assert got == want
    assert not report.committed
    assert Resident.objects.count() == 0, "a dry run writes nothing"
    assert report.new_places["compounds"] == ["华美小区", "新虹公寓", "七莘宅基"]


@pytest.mark.parametrize("filename", ["ledger.xlsx", "ledger-gbk.csv"])
def test_commit_twice_changes_nothing_the_second_time(community, expected, filename):
    first = registry_import(
        actor=None, community=community, source=DATA / filename, filename=filename, commit=True
    )
    assert first.committed
    assert first.created == expected["accepted_rows"]
    assert Resident.objects.filter(community=community).count() == expected["accepted_rows"]
    assert Household.objects.filter(community=community).count() == expected["households"]
    snapshot = sorted(
        Resident.objects.values_list("id", "household_id", "import_digest", "updated_at")
    )

    second = registry_import(
        actor=None, community=community, source=DATA / filename, filename=filename, commit=True
    )
    assert (second.created, second.updated, second.unchanged) == (0, 0, expected["accepted_rows"])
    assert second.households_created == 0
    assert second.new_places == {"compounds": [], "buildings": [], "units": [], "dwellings": []}
    assert (
        sorted(Resident.objects.values_list("id", "household_id", "import_digest", "updated_at"))
        == snapshot
    )


def test_normalised_values_are_stored(community, expected):
    registry_import(
        actor=None,
        community=community,
        source=DATA / "ledger.xlsx",
        filename="ledger.xlsx",
        commit=True,
    )
    by_name = {r.name: r for r in Resident.objects.all()}
    ids = {r.id_number for r in by_name.values()}
    phones = {r.phone for r in by_name.values()}
    names = set(by_name)
    for n in expected["normalised"]:
        if "normalised_id" in n:
            assert n["normalised_id"] in ids
        if "normalised_phone" in n:
            assert n["normalised_phone"] in phones
        if "normalised_name" in n:
            assert n["normalised_name"] in names


def test_homestead_door_holds_three_households(community):
    registry_import(
        actor=None,
        community=community,
        source=DATA / "ledger.xlsx",
        filename="ledger.xlsx",
        commit=True,
    )
    door = Household.objects.filter(
        building__compound__name="七莘宅基", building__name="9号", dwelling__door="101"
    )
    assert door.count() == 3
    assert sorted(h.size for h in door) == [1, 3, 3]
    assert all(h.head_id for h in door)
