"""Tests for shouwang.registry.tabular (no database)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shouwang.registry.tabular import (
    FIELDS,
    TableError,
    normalise_header,
    read_table,
)

# copies of shared/data/registry, kept in the repository so every clean clone has them
DATA = Path(__file__).resolve().parent / "data"
XLSX = DATA / "ledger.xlsx"
CSV = DATA / "ledger-gbk.csv"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))

HEADER = ["小区", "楼栋", "单元", "门牌号", "与户主关系", "姓名", "证件类型", "身份证号", "手机号"]
PERSON = [
    "华美小区",
    "1号楼",
    "1单元",
    "101",
    "户主",
    "张三",
    "居民身份证",
    "110101199003074514",
    "13800138000",
]


def make_xlsx(path: Path, rows, *, merges=(), sheets=None) -> Path:
    """rows: list of lists (None = empty cell); sheets: [(title, rows)] to add more sheets."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    for row in rows:
        ws.append(row)
    for ref in merges:
        ws.merge_cells(ref)
    for title, extra in sheets or ():
        other = wb.create_sheet(title)
        for row in extra:
            other.append(row)
    wb.save(path)
    return path


def error_of(**kwargs) -> TableError:
    with pytest.raises(TableError) as info:
        read_table(**kwargs)
    return info.value


@pytest.fixture(scope="module")
def xlsx_table():
    return read_table(XLSX, filename=XLSX.name)


@pytest.fixture(scope="module")
def csv_table():
    return read_table(CSV, filename=CSV.name)


# --- the sample files ---------------------------------------------------------------------------


def test_sample_xlsx_shape(xlsx_table):
    assert len(xlsx_table.rows) == EXPECTED["data_rows"] == 64
    assert xlsx_table.format == "xlsx"
    assert xlsx_table.encoding is None
    assert xlsx_table.sheet == "居民信息"  # not the notes sheet
    assert xlsx_table.header_row == 2  # below the title row
    assert xlsx_table.columns["name"] == "姓名"
    assert xlsx_table.columns["id_number"] == "身份证号"
    assert xlsx_table.columns["door"] == "门牌号"
    assert xlsx_table.unknown_columns == []
    numbers = [row.number for row in xlsx_table.rows]
    # sheet row numbers: data from row 3 to 66; the formatted empty rows below are skipped
    assert numbers == list(range(3, 67))


def test_sample_csv_shape(csv_table):
    assert len(csv_table.rows) == 64
    assert csv_table.format == "csv"
    assert csv_table.encoding == "gb18030"
    assert csv_table.sheet is None
    assert csv_table.header_row == 1
    assert csv_table.columns["relation"] == "与户主关系"
    assert [row.number for row in csv_table.rows] == list(range(2, 66))
    assert all(not row.numeric for row in csv_table.rows)


@pytest.mark.parametrize(
    "entry", EXPECTED["rejected"], ids=lambda e: f"{e['code']}-{e['xlsx_row']}"
)
def test_expected_rows_line_up(xlsx_table, csv_table, entry):
    by_xlsx = {row.number: row for row in xlsx_table.rows}
    by_csv = {row.number: row for row in csv_table.rows}
    x = by_xlsx[entry["xlsx_row"]]
    c = by_csv[entry["csv_line"]]
    # the same person under both numbering schemes
    for field in ("door", "name", "phone"):
        assert x.values[field] == c.values[field]
    if entry["code"] == "name_missing":
        assert x.values["name"] == "" and x.values["id_number"]
    if entry["code"] == "phone_invalid":
        assert x.values["phone"] in {"1380013800", "021-64001234"}


def test_expected_normalised_rows_keep_raw_text(xlsx_table):
    by_xlsx = {row.number: row for row in xlsx_table.rows}
    for entry in EXPECTED["normalised"]:
        assert entry["xlsx_row"] in by_xlsx
    # full-width digits and the inner ideographic space / zero-width space stay as written
    assert by_xlsx[51].values["id_number"] == "３７０２１４１９９００２１２７２９６"
    assert by_xlsx[52].values["id_number"] == "310104 19411204\u30004262\u200b"
    assert by_xlsx[53].values["id_number"] == "15010519501121944x"


def test_numeric_id_cell_is_flagged(xlsx_table, csv_table):
    (entry,) = [e for e in EXPECTED["rejected"] if e["code"] == "id_numeric_cell"]
    flagged = [row.number for row in xlsx_table.rows if row.numeric]
    assert flagged == [entry["xlsx_row"]]
    row = next(r for r in xlsx_table.rows if r.number == entry["xlsx_row"])
    assert row.numeric == frozenset({"id_number"})
    assert row.values["id_number"] == "320102198105278528"  # str(int(float)), digits lost
    line = next(r for r in csv_table.rows if r.number == entry["csv_line"])
    assert line.values["id_number"] == "3.20102E+17"
    assert line.numeric == frozenset()


def test_merged_compound_is_filled(xlsx_table):
    assert all(row.values["compound"] for row in xlsx_table.rows)
    # A3:A9 is merged with "华美小区" in A3 only
    assert {row.values["compound"] for row in xlsx_table.rows if row.number <= 9} == {"华美小区"}
    assert [r.values["compound"] for r in xlsx_table.rows if r.number in (21, 22)] == [
        "华美小区",
        "新虹公寓",
    ]


def test_values_have_every_field(xlsx_table):
    row = xlsx_table.rows[0]
    assert set(row.values) == set(FIELDS)
    assert row.values["sex"] == ""
    assert row.values["name"] == "高明燕"


# --- merged cells -------------------------------------------------------------------------------


def test_merge_fill_only_inside_merged_ranges(tmp_path):
    rows = [
        ["台账标题", None, None],
        ["小区", "姓名", "身份证号", "门牌号"],
        ["华美小区", "甲", "1", 101],
        [None, "乙", "2", None],
        [None, "丙", "3", None],
        [None, "丁", "4", 102],  # not in the merge: stays empty
        [None, None, None, None],
        [None, None, None, None],
    ]
    # A3:A5 compound, D3:D5 a numeric door, A1:D1 the title, A7:A8 merged over empty rows
    path = make_xlsx(tmp_path / "m.xlsx", rows, merges=["A3:A5", "D3:D5", "A1:D1", "A7:A8"])
    table = read_table(path, filename="m.xlsx")
    got = [(r.number, r.values["compound"], r.values["door"], r.numeric) for r in table.rows]
    assert got == [
        (3, "华美小区", "101", frozenset({"door"})),
        (4, "华美小区", "101", frozenset({"door"})),
        (5, "华美小区", "101", frozenset({"door"})),
        (6, "", "102", frozenset({"door"})),
    ]


def test_merge_below_data_does_not_make_rows(tmp_path):
    rows = [HEADER, PERSON, [None] * 9, [None] * 9]
    rows[2][0] = None
    path = make_xlsx(tmp_path / "m.xlsx", rows, merges=["A2:A4"])
    table = read_table(path, filename="m.xlsx")
    assert [r.number for r in table.rows] == [2]


# --- header detection ---------------------------------------------------------------------------


def test_unknown_and_duplicate_columns_are_reported(tmp_path):
    rows = [[*HEADER, "微信号", "姓名"], [*PERSON, "wx_123", "李四"]]
    path = make_xlsx(tmp_path / "u.xlsx", rows)
    table = read_table(path, filename="u.xlsx")
    assert table.unknown_columns == ["微信号", "姓名"]
    assert table.columns["name"] == "姓名"
    assert table.rows[0].values["name"] == "张三"  # the first 姓名 column wins
    assert "微信号" not in table.rows[0].values


def test_header_with_hints_and_synonyms(tmp_path):
    header = [
        "*姓名（必填）",
        " 身份证号码 : ",
        "ID Type",
        "联系电话*",
        "户主/与户主关系",
        "幢",
        "室",
    ]
    path = make_xlsx(
        tmp_path / "h.xlsx", [header, ["王五", "X1", "身份证", "139", "户主", "3", "201"]]
    )
    table = read_table(path, filename="h.xlsx")
    assert set(table.columns) == {
        "name",
        "id_number",
        "id_type",
        "phone",
        "relation",
        "building",
        "door",
    }
    assert table.columns["name"] == "*姓名（必填）"
    assert table.rows[0].values["door"] == "201"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("姓名", "name"),
        ("  姓 名 ", "name"),
        ("身份证号(必填)", "id_number"),
        ("身份证号【18位】：", "id_number"),
        ("ＩＤ", "id_number"),
        ("Mobile", "phone"),
        ("户主", "household_head"),
        ("户主姓名", "household_head"),
        ("与户主关系", "relation"),
        ("出生年月", "birth_date"),
        ("在家情况", "presence"),
    ],
)
def test_normalise_header(header, field):
    from shouwang.registry.tabular import _LOOKUP

    assert _LOOKUP[normalise_header(header)] == field


def test_synonyms_are_unambiguous():
    seen: dict[str, str] = {}
    for field, synonyms in FIELDS.items():
        for synonym in synonyms:
            key = normalise_header(synonym)
            assert seen.setdefault(key, field) == field, synonym


def test_header_missing_xlsx(tmp_path):
    path = make_xlsx(
        tmp_path / "n.xlsx", [["a", "b", "c"], ["1", "2", "3"]], sheets=[("说明", [["x"]])]
    )
    err = error_of(source=path, filename="n.xlsx")
    assert err.code == "header_missing"
    assert "姓名" in str(err.message) and "身份证号" in str(err.message)
    assert err.params["required"] == ["name", "id_number"]


def test_header_must_include_name(tmp_path):
    path = make_xlsx(
        tmp_path / "n.xlsx", [["小区", "楼栋", "门牌号", "身份证号"], ["a", "b", "c", "d"]]
    )
    assert error_of(source=path, filename="n.xlsx").code == "header_missing"


def test_header_only_searched_in_first_20_non_empty_rows(tmp_path):
    titles = [[f"说明第{i}行"] for i in range(20)]
    path = make_xlsx(tmp_path / "late.xlsx", [*titles, HEADER, PERSON])
    assert error_of(source=path, filename="late.xlsx").code == "header_missing"
    path = make_xlsx(tmp_path / "ok.xlsx", [*titles[:19], [None], HEADER, PERSON])
    assert read_table(path, filename="ok.xlsx").header_row == 21


def test_first_sheet_with_a_header_is_used(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["填表说明"])
    data = wb.create_sheet("居民")
    data.append(HEADER)
    data.append(PERSON)
    wb.save(tmp_path / "s.xlsx")
    table = read_table(tmp_path / "s.xlsx", filename="s.xlsx")
    assert table.sheet == "居民"
    assert len(table.rows) == 1


def test_cell_types_become_text(tmp_path):
    header = ["姓名", "身份证号", "手机号", "出生日期", "备注", "楼栋"]
    row = ["甲", 110101199003074514, 13800138000, dt.date(1990, 3, 7), 2.5, True]
    path = make_xlsx(tmp_path / "t.xlsx", [header, row])
    (got,) = read_table(path, filename="t.xlsx").rows
    assert got.values["phone"] == "13800138000"
    assert got.values["birth_date"] == "1990-03-07"
    assert got.values["note"] == "2.5"
    assert got.values["building"] == "TRUE"
    assert got.numeric == frozenset({"id_number", "phone", "note"})


# --- file type, size, emptiness -----------------------------------------------------------------


def test_xls_name_is_refused():
    err = error_of(source=io.BytesIO(b"\xd0\xcf\x11\xe0"), filename="台账.XLS")
    assert err.code == "file_type"
    assert ".xlsx" in str(err.message)


@pytest.mark.parametrize("name", ["ledger.ods", "ledger.txt", "ledger"])
def test_other_extensions_are_refused(name):
    assert error_of(source=io.BytesIO(b"x"), filename=name).code == "file_type"


def test_xlsx_that_is_not_a_zip(tmp_path):
    err = error_of(source=io.BytesIO("姓名,身份证号\n".encode()), filename="a.xlsx")
    assert err.code == "file_type"
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    assert error_of(source=io.BytesIO(ole), filename="a.xlsx").code == "file_type"


def test_zip_without_workbook_is_not_xlsx():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    assert error_of(source=io.BytesIO(buf.getvalue()), filename="a.xlsx").code == "file_type"


def test_truncated_xlsx_is_corrupt():
    data = XLSX.read_bytes()[:4000]
    assert error_of(source=io.BytesIO(data), filename="a.xlsx").code == "file_corrupt"


def test_excel_named_csv_is_refused():
    err = error_of(source=io.BytesIO(XLSX.read_bytes()), filename="a.csv")
    assert err.code == "file_type"


def test_empty_file(tmp_path):
    (tmp_path / "e.xlsx").write_bytes(b"")
    assert error_of(source=tmp_path / "e.xlsx", filename="e.xlsx").code == "file_empty"
    assert error_of(source=io.BytesIO(b"\xef\xbb\xbf \r\n"), filename="e.csv").code == "file_empty"


def test_too_large_path_and_stream():
    size = XLSX.stat().st_size
    err = error_of(source=XLSX, filename="a.xlsx", max_bytes=size - 1)
    assert err.code == "file_too_large" and err.params["limit"] == size - 1
    stream = io.BytesIO(XLSX.read_bytes())  # no .size: detected by reading max_bytes + 1
    assert error_of(source=stream, filename="a.xlsx", max_bytes=1000).code == "file_too_large"
    upload = SimpleUploadedFile("a.xlsx", XLSX.read_bytes())
    assert error_of(source=upload, filename="a.xlsx", max_bytes=1000).code == "file_too_large"
    assert len(read_table(XLSX, filename="a.xlsx", max_bytes=size).rows) == 64


def test_uploaded_file_is_read_from_the_start():
    upload = SimpleUploadedFile("台账.xlsx", XLSX.read_bytes())
    upload.read(100)
    assert len(read_table(upload, filename=upload.name).rows) == 64


def test_too_many_rows():
    err = error_of(source=XLSX, filename="a.xlsx", max_rows=63)
    assert err.code == "too_many_rows" and err.params["limit"] == 63
    assert error_of(source=CSV, filename="a.csv", max_rows=63).code == "too_many_rows"
    assert len(read_table(CSV, filename="a.csv", max_rows=64).rows) == 64


# --- unsafe workbooks ---------------------------------------------------------------------------


def workbook_zip(extra: dict[str, bytes], *, method=zipfile.ZIP_DEFLATED) -> bytes:
    """The sample workbook plus extra entries."""
    buf = io.BytesIO()
    with zipfile.ZipFile(XLSX) as src, zipfile.ZipFile(buf, "w", method) as out:
        for name in src.namelist():
            out.writestr(name, src.read(name))
        for name, data in extra.items():
            out.writestr(name, data)
    return buf.getvalue()


def test_zip_bomb_entry_is_refused():
    data = workbook_zip({"xl/media/bomb.bin": b"\0" * (30 * 1024 * 1024)})
    assert len(data) < 100_000
    err = error_of(source=io.BytesIO(data), filename="a.xlsx")
    assert err.code == "file_unsafe"


def test_unpacked_total_is_limited():
    data = workbook_zip({})
    assert len(read_table(io.BytesIO(data), filename="a.xlsx").rows) == 64
    err = error_of(source=io.BytesIO(data), filename="a.xlsx", max_unpacked_bytes=50_000)
    assert err.code == "file_unsafe"


def test_too_many_entries():
    data = workbook_zip({f"xl/media/{i}.txt": b"x" for i in range(60)})
    assert len(read_table(io.BytesIO(data), filename="a.xlsx", max_entries=70).rows) == 64
    assert (
        error_of(source=io.BytesIO(data), filename="a.xlsx", max_entries=50).code == "file_unsafe"
    )


def test_encrypted_zip_entry_is_refused():
    data = bytearray(workbook_zip({}, method=zipfile.ZIP_STORED))
    # set the "encrypted" flag bit in every central directory record
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        flags = struct.unpack_from("<H", data, pos + 8)[0]
        struct.pack_into("<H", data, pos + 8, flags | 1)
        pos = data.find(b"PK\x01\x02", pos + 4)
    assert error_of(source=io.BytesIO(bytes(data)), filename="a.xlsx").code == "file_unsafe"


def test_password_protected_xlsx_is_refused():
    # Excel saves a password-protected .xlsx as an OLE2 file holding an EncryptedPackage stream
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "EncryptedPackage".encode("utf-16-le")
    err = error_of(source=io.BytesIO(ole), filename="a.xlsx")
    assert err.code == "file_unsafe"


def test_lying_entry_size_is_refused():
    body = b"<x>" + b"a" * 100_000 + b"</x>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zipfile.ZipFile(XLSX) as src:
            for name in src.namelist():
                zf.writestr(name, src.read(name))
        zf.writestr("xl/liar.xml", body)
    data = bytearray(buf.getvalue())
    small = 10
    crc = zlib.crc32(body[:small])
    # rewrite the declared size and CRC of xl/liar.xml in the local and central headers
    for sig, size_at, crc_at, name_len_at, name_at in (
        (b"PK\x03\x04", 22, 14, 26, 30),
        (b"PK\x01\x02", 24, 16, 28, 46),
    ):
        pos = data.find(sig)
        while pos >= 0:
            name_len = struct.unpack_from("<H", data, pos + name_len_at)[0]
            if data[pos + name_at : pos + name_at + name_len] == b"xl/liar.xml":
                struct.pack_into("<I", data, pos + size_at, small)
                struct.pack_into("<I", data, pos + crc_at, crc)
            pos = data.find(sig, pos + 4)
    err = error_of(source=io.BytesIO(bytes(data)), filename="a.xlsx")
    assert err.code in {"file_unsafe", "file_corrupt"}


def test_far_apart_cells_are_refused(tmp_path):
    # two cells, yet calamine would allocate 1300 x 16384 cells for them (sizes kept just over
    # the 20M-cell limit so that a broken guard fails this test instead of exhausting memory)
    wb = openpyxl.Workbook()
    wb.active["A1"] = "姓名"
    wb.active["XFD1300"] = "x"
    wb.save(tmp_path / "sparse.xlsx")
    assert (tmp_path / "sparse.xlsx").stat().st_size < 10_000
    err = error_of(source=tmp_path / "sparse.xlsx", filename="sparse.xlsx")
    assert err.code == "file_unsafe"
    assert err.params == {"row": 1300, "column": 16384}


def test_content_far_below_the_table_is_refused(tmp_path):
    # a stray value at row 250000 makes a 250000-row sheet for calamine, whatever max_rows is
    path = make_xlsx(tmp_path / "far.xlsx", [HEADER, PERSON])
    wb = openpyxl.load_workbook(path)
    wb.active["B250000"] = "x"
    wb.save(path)
    err = error_of(source=path, filename="far.xlsx")
    assert err.code == "too_many_rows" and err.params["row"] == 250000
    assert len(read_table(path, filename="far.xlsx", max_rows=300_000).rows) == 2


def test_formatted_empty_cells_far_away_are_fine(tmp_path):
    path = make_xlsx(tmp_path / "fmt.xlsx", [HEADER, PERSON])
    wb = openpyxl.load_workbook(path)
    wb.active["XFD1048576"].number_format = "@"  # styled, no value
    wb.save(path)
    assert len(read_table(path, filename="fmt.xlsx").rows) == 1


def _with_sheet_xml(sheet_data: bytes, tmp_path: Path) -> Path:
    """The sample workbook with sheet1's <sheetData> replaced."""
    out = tmp_path / "crafted.xlsx"
    with zipfile.ZipFile(XLSX) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = re.sub(
                    rb"<sheetData>.*</sheetData>",
                    b"<sheetData>" + sheet_data + b"</sheetData>",
                    data,
                    flags=re.S,
                )
                data = re.sub(rb"<mergeCells.*?</mergeCells>", b"", data, flags=re.S)
            dst.writestr(name, data)
    return out


def test_far_cells_hidden_behind_implicit_positions_are_refused(tmp_path):
    v = b"<is><t>a</t></is>"
    # cells without r="" take their row from <row r=".."> and follow the previous column
    xml = (
        b'<row r="1"><c r="A1" t="inlineStr">'
        + v
        + b'</c><c r="XFC1" s="1"/><c t="inlineStr">'
        + v
        + b"</c></row>"
        b'<row r="1300"><c t="inlineStr">' + v + b"</c></row>"
    )
    err = error_of(source=_with_sheet_xml(xml, tmp_path), filename="c.xlsx")
    assert err.code == "file_unsafe"
    assert err.params == {"row": 1300, "column": 16384}


def test_shared_strings_capacity_bomb_is_refused(tmp_path):
    # calamine reserves uniqueCount strings up front; 2e9 would abort the process (this test
    # uses 5e6 so that a broken guard fails the test instead of killing it)
    def sst(count: int) -> bytes:
        return (
            b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
            b' count="%d" uniqueCount="%d"><si><t>hello</t></si></sst>' % (count, count)
        )

    for count, ok in ((1, True), (5_000_000, False)):
        buf = io.BytesIO()
        with zipfile.ZipFile(XLSX) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            for name in src.namelist():
                data = src.read(name)
                if name == "xl/_rels/workbook.xml.rels":
                    data = data.replace(
                        b"</Relationships>",
                        b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
                    )
                out.writestr(name, data)
            out.writestr("xl/sharedStrings.xml", sst(count))
        if ok:
            assert len(read_table(io.BytesIO(buf.getvalue()), filename="a.xlsx").rows) == 64
        else:
            err = error_of(source=io.BytesIO(buf.getvalue()), filename="a.xlsx")
            assert err.code == "file_unsafe"


# --- csv ----------------------------------------------------------------------------------------


def test_utf8_bom_csv():
    text = ",".join(HEADER) + "\r\n" + ",".join(PERSON) + "\r\n"
    table = read_table(io.BytesIO(b"\xef\xbb\xbf" + text.encode()), filename="a.csv")
    assert table.encoding == "utf-8-sig"
    assert table.columns["compound"] == "小区"  # no BOM glued to the first header
    assert table.rows[0].values["compound"] == "华美小区"
    assert table.rows[0].number == 2


def test_plain_utf8_csv():
    text = ",".join(HEADER) + "\n" + ",".join(PERSON) + "\n"
    table = read_table(io.BytesIO(text.encode()), filename="a.csv")
    assert table.encoding == "utf-8"
    assert table.rows[0].values["name"] == "张三"


def test_gbk_csv_detected():
    text = ",".join(HEADER) + "\n" + ",".join(PERSON) + "\n"
    table = read_table(io.BytesIO(text.encode("gbk")), filename="a.csv")
    assert table.encoding == "gb18030"
    assert table.rows[0].values["name"] == "张三"


def test_undecodable_csv():
    err = error_of(source=io.BytesIO(b"\xe5\xa7\x93,\xff\xff\n"), filename="a.csv")
    assert err.code == "encoding"


def test_csv_title_rows_blank_lines_and_multiline_cells():
    lines = [
        "华美居民区居民底账,,,",  # line 1: title
        "",  # line 2
        ",".join(HEADER),  # line 3: header
        ",".join(PERSON),  # line 4
        "",  # line 5: blank, skipped
        ",".join(PERSON[:5]) + ',"李\n四",' + ",".join(PERSON[6:]),  # lines 6-7
        ",".join(PERSON[:5]) + ",王五," + ",".join(PERSON[6:]),  # line 8
        ",,,,,,,,",  # line 9: empty cells only
    ]
    table = read_table(io.BytesIO("\n".join(lines).encode()), filename="a.csv")
    assert table.header_row == 3
    assert [(r.number, r.values["name"]) for r in table.rows] == [
        (4, "张三"),
        (6, "李\n四"),
        (8, "王五"),
    ]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_delimiters(delimiter):
    text = delimiter.join(HEADER) + "\n" + delimiter.join(PERSON) + "\n"
    table = read_table(io.BytesIO(text.encode()), filename="a.csv")
    assert table.rows[0].values["id_number"] == "110101199003074514"


def test_csv_cells_are_stripped_and_short_rows_padded():
    text = ",".join(HEADER) + "\n" + " 华美小区 ,1号楼,1单元,101,户主,  张三\u3000\n"
    (row,) = read_table(io.BytesIO(text.encode()), filename="a.csv").rows
    assert row.values["compound"] == "华美小区"
    assert row.values["name"] == "张三"
    assert row.values["id_number"] == ""


def test_csv_header_missing():
    err = error_of(source=io.BytesIO(b"a,b,c\n1,2,3\n"), filename="a.csv")
    assert err.code == "header_missing"
