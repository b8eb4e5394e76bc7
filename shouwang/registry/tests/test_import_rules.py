"""Import rules beyond the sample files: households, updates in place, all-or-nothing."""

import csv
import io
import json
from unittest import mock

import pytest
from django.core.management import call_command

from shouwang.core import testing as t
from shouwang.registry import importer
from shouwang.registry.importer import registry_import
from shouwang.registry.models import Household, Resident

HEADER = ["小区", "楼栋", "单元", "门牌号", "与户主关系", "姓名", "身份证号", "手机号", "标签"]


def write_csv(tmp_path, rows, name="ledger.csv", encoding="utf-8"):
    path = tmp_path / name
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.fixture
def ids():
    return [t.unique_id() for _ in range(6)]


def test_head_starts_household_and_followers_join_it(community, tmp_path, ids):
    path = write_csv(
        tmp_path,
        [
            ["华美小区", "1号楼", "1单元", "101", "户主", "甲", ids[0], "13912340001", "慢性病"],
            ["华美小区", "1号楼", "1单元", "101", "配偶", "乙", ids[1], "", "无智能手机"],
            ["华美小区", "1号楼", "1单元", "101", "户主", "丙", ids[2], "13912340003", "租户"],
            ["华美小区", "1号楼", "1单元", "101", "子女", "丁", ids[3], "", ""],
        ],
    )
    report = registry_import(
        actor=None, community=community, source=path, filename="x.csv", commit=True
    )
    assert report.households == 2 and report.accepted_rows == 4
    sizes = sorted(Household.objects.values_list("size", flat=True))
    assert sizes == [2, 2]
    bing = Resident.objects.get(name="丙")
    assert bing.residency == "tenant", "租户 in the tags column is a residency"
    assert bing.household.head_id == bing.pk
    assert bing.household.contact_phone_masked == "139****0003"


def test_member_without_head_is_rejected(community, tmp_path, ids):
    path = write_csv(
        tmp_path, [["华美小区", "1号楼", "1单元", "101", "子女", "丁", ids[0], "", ""]]
    )
    report = registry_import(actor=None, community=community, source=path, filename="x.csv")
    assert [(p.code, p.column) for p in report.rejected] == [("head_missing", "与户主关系")]


def test_members_of_a_rejected_head_are_not_given_to_the_neighbour(community, tmp_path, ids):
    path = write_csv(
        tmp_path,
        [
            ["七莘宅基", "9号", "", "101", "户主", "甲", ids[0], "", ""],
            [
                "七莘宅基",
                "9号",
                "",
                "101",
                "户主",
                "乙",
                ids[1][:17] + ("1" if ids[1][-1] != "1" else "2"),
                "",
                "",
            ],
            ["七莘宅基", "9号", "", "101", "配偶", "丙", ids[2], "", ""],
        ],
    )
    report = registry_import(actor=None, community=community, source=path, filename="x.csv")
    codes = {p.row: p.code for p in report.rejected}
    assert codes == {3: "id_checksum", 4: "head_rejected"}
    assert report.households == 1 and report.accepted_rows == 1


def test_corrected_file_updates_in_place(community, tmp_path, ids):
    rows = [
        ["华美小区", "1号楼", "1单元", "101", "户主", "甲", ids[0], "13912340001", ""],
        ["华美小区", "1号楼", "1单元", "101", "配偶", "乙", ids[1], "", ""],
    ]
    registry_import(
        actor=None,
        community=community,
        source=write_csv(tmp_path, rows),
        filename="a.csv",
        commit=True,
    )
    before = {r.name: r.pk for r in Resident.objects.all()}
    rows[1][5] = "乙二"  # name corrected
    rows[1][7] = "13912340002"  # phone added
    report = registry_import(
        actor=None,
        community=community,
        source=write_csv(tmp_path, rows, "b.csv"),
        filename="b.csv",
        commit=True,
    )
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    fixed = Resident.objects.get(pk=before["乙"])
    assert fixed.name == "乙二" and fixed.phone == "+8613912340002"
    assert Household.objects.count() == 1


def test_person_registered_at_another_door_is_a_duplicate(community, tmp_path, ids):
    registry_import(
        actor=None,
        community=community,
        filename="a.csv",
        commit=True,
        source=write_csv(
            tmp_path, [["华美小区", "1号楼", "1单元", "101", "户主", "甲", ids[0], "", ""]]
        ),
    )
    report = registry_import(
        actor=None,
        community=community,
        filename="b.csv",
        source=write_csv(
            tmp_path, [["华美小区", "2号楼", "1单元", "101", "户主", "甲", ids[0], "", ""]], "b.csv"
        ),
    )
    assert [p.code for p in report.rejected] == ["id_duplicate"]


def test_dry_run_lists_new_places_so_a_typo_is_seen(community, tmp_path, ids):
    t.make_building(community, "华美小区", "1号楼")
    path = write_csv(
        tmp_path,
        [
            ["华美小区", "1号楼", "1单元", "101", "户主", "甲", ids[0], "", ""],
            ["华美小去", "1号楼", "1单元", "101", "户主", "乙", ids[1], "", ""],
        ],
    )
    report = registry_import(actor=None, community=community, source=path, filename="x.csv")
    assert report.new_places["compounds"] == ["华美小去"]
    assert report.new_places["buildings"] == ["华美小去 1号楼"]
    assert report.new_places["units"] == ["华美小区 1号楼 1单元", "华美小去 1号楼 1单元"]


def test_a_crash_mid_commit_leaves_nothing(community, tmp_path, ids):
    path = write_csv(
        tmp_path,
        [
            ["华美小区", "1号楼", "1单元", "101", "户主", "甲", ids[0], "", ""],
            ["华美小区", "1号楼", "1单元", "102", "户主", "乙", ids[1], "", ""],
        ],
    )
    with mock.patch.object(importer, "households_refresh", side_effect=RuntimeError("power cut")):
        with pytest.raises(RuntimeError):
            registry_import(
                actor=None, community=community, source=path, filename="x.csv", commit=True
            )
    assert Resident.objects.count() == 0
    assert Household.objects.count() == 0
    assert not community.compounds.exists()


def test_unknown_tags_are_kept_in_the_note_with_a_warning(community, tmp_path, ids):
    path = write_csv(
        tmp_path, [["华美小区", "1号楼", "1单元", "101", "户主", "甲", ids[0], "", "独居、爱跳舞"]]
    )
    report = registry_import(
        actor=None, community=community, source=path, filename="x.csv", commit=True
    )
    assert [w.code for w in report.warnings] == ["tag_unknown"]
    r = Resident.objects.get()
    assert "爱跳舞" in r.note
    assert "独居" in " ".join(r.tag_labels) or "Living alone" in r.tag_labels


def test_cli_json_report(community, tmp_path, ids, capsys):
    path = write_csv(
        tmp_path, [["华美小区", "1号楼", "1单元", "101", "户主", "甲", ids[0], "139", ""]]
    )
    out = io.StringIO()
    call_command(
        "registry_import", str(path), "--community", community.code, "--format", "json", stdout=out
    )
    data = json.loads(out.getvalue())
    assert data["data_rows"] == 1 and data["accepted_rows"] == 0 and data["committed"] is False
    assert data["rejected"][0]["code"] == "phone_invalid"
    assert {"row", "column", "code", "message"} <= set(data["rejected"][0])
    assert "created" not in data
    out = io.StringIO()
    path = write_csv(
        tmp_path, [["华美小区", "1号楼", "1单元", "101", "户主", "甲", ids[0], "", ""]]
    )
    call_command(
        "registry_import",
        str(path),
        "--community",
        community.code,
        "--format",
        "json",
        "--commit",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    assert data["committed"] is True and data["created"] == 1 and data["unchanged"] == 0


def test_gbk_csv_and_utf8_bom_csv_read_the_same(community, tmp_path, ids):
    rows = [["华美小区", "1号楼", "1单元", "101", "户主", "阿依古丽•买买提", ids[0], "", ""]]
    a = registry_import(
        actor=None,
        community=community,
        filename="a.csv",
        source=write_csv(tmp_path, rows, "a.csv", "gb18030"),
    )
    b = registry_import(
        actor=None,
        community=community,
        filename="b.csv",
        source=write_csv(tmp_path, rows, "b.csv", "utf-8-sig"),
    )
    assert a.accepted_rows == b.accepted_rows == 1
    assert (a.encoding, b.encoding) == ("gb18030", "utf-8-sig")


def test_a_concurrent_writer_gives_a_clear_conflict_and_nothing_is_kept(community, tmp_path, ids):
    from shouwang.core.errors import Conflict

    path = write_csv(
        tmp_path, [["华美小区", "1号楼", "1单元", "101", "户主", "甲", ids[0], "", ""]]
    )
    from shouwang.core import bulk

    real_insert = bulk.bulk_insert

    def someone_else_first(model, columns, rows):
        # Another worker registers the same person just before our insert: the database's
        # unique constraint, not our check, is what catches it.
        other = t.make_household(community, door="999")
        t.make_resident(other, name="抢先", id_number=ids[0], phone="")
        return real_insert(model, columns, rows)

    with mock.patch.object(bulk, "bulk_insert", side_effect=someone_else_first):
        with pytest.raises(Conflict) as exc:
            registry_import(
                actor=None, community=community, source=path, filename="x.csv", commit=True
            )
    assert exc.value.code == "import_conflict"
    assert not Household.objects.exists() and not community.compounds.exists()
    assert not Resident.objects.exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_full_export_imports_again_unchanged(
    personas, community, other_community, tmp_path, ids, language
):
    """What we print, we read: an admin's full export is a valid ledger for another community."""
    from django.utils import translation

    from shouwang.registry.exporter import registry_export

    rows = [
        ["华美小区", "1号楼", "1单元", "101", "户主", "甲", ids[0], "13912340001", "慢性病、独居"],
        ["华美小区", "1号楼", "1单元", "101", "儿媳/女婿", "乙", ids[1], "", "无智能手机、党员"],
        ["七莘宅基", "9号", "", "101", "户主", "丙", ids[2], "", "租户"],
    ]
    registry_import(
        actor=None,
        community=community,
        source=write_csv(tmp_path, rows),
        filename="a.csv",
        commit=True,
    )
    with translation.override(language):
        data, _ = registry_export(
            actor=personas["admin"],
            residents=Resident.objects.filter(community=community),
            fmt="xlsx",
            full=True,
            reason="迁移",
        )
    path = tmp_path / "export.xlsx"
    path.write_bytes(data)
    report = registry_import(
        actor=None, community=other_community, source=path, filename="export.xlsx", commit=True
    )
    assert report.rejected == [] and report.accepted_rows == 3
    assert [w.code for w in report.warnings] == []

    def people(c):
        return sorted(
            Resident.objects.filter(community=c).values_list(
                "name",
                "relation",
                "residency",
                "presence",
                "tags",
                "sex",
                "birth_date",
                "household__dwelling__door",
                "household__building__name",
            )
        )

    assert people(other_community) == people(community)
