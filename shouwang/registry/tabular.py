"""Read a community household ledger (.xlsx or .csv) into rows of text cells keyed by field.

``read_table`` is the only entry point the importer needs.  It

* checks the upload before parsing it: size, type by name *and* content, and for .xlsx the
  zip container (entry count, unpacked size, compression ratio, encryption, honest sizes and
  CRCs, and the extent of the cells, see ``_check_xlsx``);
* reads .xlsx values with python-calamine (fast, Rust) and fills merged ranges;
* reads .csv as UTF-8 (with or without BOM) or GB18030 (a superset of GBK);
* finds the header row (a title row above it is fine) and maps recognised headers to the
  canonical fields in ``FIELDS``;
* returns every non-empty data row with the row number the spreadsheet program shows.

Cell text is returned stripped but otherwise untouched; normalising IDs, phones and names is
the importer's job.  ``Row.numeric`` tells it which xlsx cells were stored as numbers (an ID
typed as a number has lost its last digits).

XML safety: python-calamine parses with quick-xml, which never loads external entities or
DTDs and does not expand custom entities, so XXE and "billion laughs" do not apply.  Nothing
here parses XML with the standard library.  (openpyxl, used by other code, goes through
defusedxml because it is installed.)
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime as dt
import gc
import io
import math
import os
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from shouwang.core.errors import DomainError

__all__ = [
    "FIELDS",
    "REQUIRED_FIELDS",
    "Row",
    "Table",
    "TableError",
    "normalise_header",
    "read_table",
]

# --------------------------------------------------------------------------------------------
# Fields and header recognition

FIELDS: dict[str, tuple[str, ...]] = {
    "compound": ("小区", "小区名称", "小区名", "院落", "村组", "自然村", "compound"),
    "building": ("楼栋", "楼号", "楼栋号", "栋", "幢", "楼", "宅基", "building"),
    "unit": ("单元", "单元号", "unit"),
    "door": ("门牌", "门牌号", "房号", "房间号", "室", "户室号", "door", "room"),
    "relation": (
        "与户主关系",
        "户主关系",
        "关系",
        "户主/关系",
        "户主/与户主关系",
        "relation",
        "relation to head",
    ),
    "name": ("姓名", "名字", "居民姓名", "name"),
    "id_type": ("证件类型", "证件种类", "id type"),
    "id_number": ("身份证号", "身份证号码", "证件号码", "证件号", "身份证", "id number", "id"),
    "phone": (
        "手机号",
        "手机",
        "手机号码",
        "联系电话",
        "电话",
        "联系方式",
        "phone",
        "mobile",
        "mobile phone",
    ),
    "tags": ("标签", "人员类别", "特殊人群", "重点人群", "tags", "care tags"),
    "note": ("备注", "说明", "note", "remarks"),
    "sex": ("性别", "sex"),
    "birth_date": ("出生日期", "出生年月", "生日", "birth date"),
    "residency": ("居住类型", "人员类型", "户籍类型", "residency"),
    "presence": ("在位情况", "在家情况", "居住状态", "presence"),
    "household_head": ("户主", "户主姓名"),
}

#: Fields a ledger must have; named in the header_missing message.
REQUIRED_FIELDS: tuple[str, ...] = ("name", "id_number")
_REQUIRED_HEADERS = "姓名, 身份证号"

#: The header is looked for in this many non-empty rows at the top of a sheet / CSV.
HEADER_SEARCH_ROWS = 20
#: A header row needs this many recognised cells, one of them "name".
HEADER_MIN_MATCHES = 3

_HINT = re.compile(r"[(\[【〔〖{<《][^)\]】〕〗}>》]*[)\]】〕〗}>》]")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def normalise_header(text: Any) -> str:
    """The form headers are compared in: NFKC, no whitespace, lower case, no bracketed hints
    such as "（必填）", no trailing "：", ":" or "*" (nor a leading "*" required-marker)."""
    s = unicodedata.normalize("NFKC", str(text)).translate(_INVISIBLE)
    s = "".join(s.split()).lower()
    s = _HINT.sub("", s)
    return s.strip("：:*")


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for field, synonyms in FIELDS.items():
        for synonym in (field, *synonyms):
            key = normalise_header(synonym)
            if lookup.setdefault(key, field) != field:  # pragma: no cover - guarded by a test
                raise AssertionError(f"header {synonym!r} maps to two fields")
    return lookup


_LOOKUP = _build_lookup()

# --------------------------------------------------------------------------------------------
# Result types and errors


@dataclass(slots=True)
class Row:
    number: int  # row number as the spreadsheet shows it (xlsx) / line number (csv), 1-based
    values: dict[str, str]  # every canonical field -> stripped cell text ("" when missing/empty)
    numeric: frozenset[str]  # fields whose xlsx cell was stored as a number


@dataclass(slots=True)
class Table:
    rows: list[Row]
    columns: dict[str, str]  # canonical field -> header text as written in the file
    unknown_columns: list[str]  # non-empty header cells not understood (or duplicates), in order
    header_row: int
    sheet: str | None
    format: str  # "xlsx" | "csv"
    encoding: str | None  # csv only: "utf-8-sig" | "utf-8" | "gb18030" (| "utf-16")


class TableError(DomainError):
    """The upload cannot be read.  ``code`` is stable; ``message`` is lazily translatable text
    telling the user what to do; ``params`` carries the numbers used in the message."""

    def __init__(self, code: str, message: Any, **params: Any):
        super().__init__(code, message)
        self.params = params


_EMPTY: frozenset[str] = frozenset()

# Limits not exposed as parameters.
_RATIO_LIMIT = 200  # an entry unpacking to > 200x its packed size ...
_RATIO_MIN_BYTES = 1024 * 1024  # ... and to more than 1 MiB is treated as a zip bomb
_MAX_SHEET_CELLS = 20_000_000  # calamine allocates rows x columns of the used area densely
_ROW_SLACK = 1_000  # rows allowed above the table (titles, header) on top of max_rows
_CHUNK = 1024 * 1024
_MAX_TAG = 1024 * 1024

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.0f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} B"


def _err_corrupt() -> TableError:
    return TableError(
        "file_corrupt",
        _(
            "The file is damaged or is not a valid spreadsheet. Open it in Excel or WPS, "
            "save it again as an Excel workbook (.xlsx) and upload the new file."
        ),
    )


def _err_bomb() -> TableError:
    return TableError(
        "file_unsafe",
        _(
            "The workbook was refused because it unpacks to far more data than a ledger "
            "needs, which is how malicious files look. Copy the ledger into a new workbook, "
            "save it as .xlsx and upload that file."
        ),
    )


# --------------------------------------------------------------------------------------------
# Entry point


def read_table(
    source: Any,
    *,
    filename: str,
    max_bytes: int = 50 * 1024 * 1024,
    max_rows: int = 200_000,
    max_unpacked_bytes: int = 500 * 1024 * 1024,
    max_entries: int = 10_000,
) -> Table:
    """Read a ledger from ``source`` (a path, a binary file-like object such as a Django
    UploadedFile -- read from its start -- or bytes).  The format is chosen by ``filename``'s extension and checked against the
    content.  Raises TableError."""
    ext = os.path.splitext(str(filename))[1].lower()
    if ext == ".xls":
        raise TableError(
            "file_type",
            _(
                "This is an old-format Excel file (.xls). Open it in Excel or WPS, choose "
                "Save As, pick Excel Workbook (.xlsx), and upload the .xlsx file."
            ),
        )
    if ext not in (".xlsx", ".csv"):
        raise TableError(
            "file_type",
            _("Upload the ledger as an Excel workbook (.xlsx) or a CSV file (.csv)."),
        )
    data = read_bytes(source, max_bytes)
    with gc_paused():
        if ext == ".xlsx":
            return _read_xlsx(
                data,
                max_rows=max_rows,
                max_unpacked_bytes=max_unpacked_bytes,
                max_entries=max_entries,
            )
        return _read_csv(data, max_rows=max_rows)


@contextlib.contextmanager
def gc_paused() -> Any:
    """Pause the cyclic garbage collector while building the table.

    A 100,000-row sheet creates millions of small acyclic objects (cell lists, strings, row
    dicts); each allocation burst triggers collections that rescan everything built so far,
    which more than halves throughput.  Reference counting still frees memory as usual, and
    the previous state is restored even on errors."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _too_large(max_bytes: int) -> TableError:
    return TableError(
        "file_too_large",
        format_lazy(
            _(
                "The file is larger than {limit}. Split the ledger into smaller files (or "
                "delete unused sheets and pictures) and upload them one at a time."
            ),
            limit=_human_size(max_bytes),
        ),
        limit=max_bytes,
    )


def read_bytes(source: Any, max_bytes: int, *, empty: Any = None) -> bytes:
    """Read at most max_bytes (+1 to detect more) without trusting a declared size. `empty`:
    what to say when there is nothing (by default, about the ledger)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = source
    elif isinstance(source, (str, os.PathLike)):
        if os.stat(source).st_size > max_bytes:
            raise _too_large(max_bytes)
        with open(source, "rb") as fh:
            data = fh.read(max_bytes + 1)
    else:
        size = getattr(source, "size", None)  # Django UploadedFile
        if isinstance(size, int) and size > max_bytes:
            raise _too_large(max_bytes)
        seekable = getattr(source, "seekable", None)
        if seekable is not None and seekable():
            source.seek(0)
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if not data:
        raise TableError(
            "file_empty",
            empty or _("The file is empty. Choose the ledger file and upload it again."),
        )
    return bytes(data)


# --------------------------------------------------------------------------------------------
# Header detection and row building (shared by xlsx and csv)


@dataclass(slots=True)
class _Header:
    index: int  # index of the header row in the row list
    mapped: list[tuple[int, str]]  # (column index, field)
    columns: dict[str, str]
    unknown: list[str]


def _find_header(rows: Any) -> _Header | None:
    """The first of the first HEADER_SEARCH_ROWS non-empty rows with at least
    HEADER_MIN_MATCHES recognised cells, "name" among them."""
    seen = 0
    for index, raw in enumerate(rows):
        texts = [_cell_text(v)[0] for v in raw]
        if not any(texts):
            continue
        fields = {_LOOKUP.get(normalise_header(t)) for t in texts if t}
        fields.discard(None)
        if len(fields) >= HEADER_MIN_MATCHES and "name" in fields:
            mapped: list[tuple[int, str]] = []
            columns: dict[str, str] = {}
            unknown: list[str] = []
            for col, text in enumerate(texts):
                if not text:
                    continue
                field = _LOOKUP.get(normalise_header(text))
                if field is None or field in columns:
                    unknown.append(text)
                else:
                    columns[field] = text
                    mapped.append((col, field))
            return _Header(index, mapped, columns, unknown)
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    return None


def _header_missing() -> TableError:
    return TableError(
        "header_missing",
        format_lazy(
            _(
                "No header row was found in the first {n} rows. Put one row of column "
                "headings above the data. Required headings: {required}; at least {m} "
                "headings must be recognised (for example 小区, 楼栋, 门牌号, 与户主关系, 手机号)."
            ),
            n=HEADER_SEARCH_ROWS,
            m=HEADER_MIN_MATCHES,
            required=_REQUIRED_HEADERS,
        ),
        required=list(REQUIRED_FIELDS),
    )


def too_many_rows(max_rows: int) -> TableError:
    return TableError(
        "too_many_rows",
        format_lazy(
            _(
                "The file has more than {limit} rows of data. Split it into files of at most "
                "{limit} rows and upload them one at a time."
            ),
            limit=max_rows,
        ),
        limit=max_rows,
    )


def _cell_text(value: Any) -> tuple[str, bool]:
    """Cell value -> (stripped text, stored as a number)."""
    cls = value.__class__
    if cls is str:
        return value.strip(), False
    if cls is float:
        if math.isfinite(value) and value.is_integer():
            return str(int(value)), True
        return repr(value), True
    if cls is bool:
        return ("TRUE" if value else "FALSE"), False
    if cls is int:
        return str(value), True
    if cls is dt.datetime:
        if value.time() == dt.time(0):
            return value.date().isoformat(), False
        return value.isoformat(sep=" ", timespec="seconds"), False
    if cls is dt.date:
        return value.isoformat(), False
    if value is None:
        return "", False
    return str(value).strip(), False


# --------------------------------------------------------------------------------------------
# xlsx


def _read_xlsx(data: bytes, *, max_rows: int, max_unpacked_bytes: int, max_entries: int) -> Table:
    workbook = _open_workbook(data, max_rows, max_unpacked_bytes, max_entries)
    try:
        return _read_workbook(workbook, max_rows)
    finally:
        workbook.close()


def _open_workbook(
    data: bytes, max_rows: int, max_unpacked_bytes: int, max_entries: int
) -> CalamineWorkbook:
    """The workbook, once the bytes are known to be a safe .xlsx (not an old .xls, not
    encrypted, not a zip bomb, not larger than the limits)."""
    if data.startswith(_OLE_MAGIC):
        # An OLE2 container: either an old .xls renamed, or an encrypted (password) .xlsx.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise _err_encrypted()
        raise TableError(
            "file_type",
            _(
                "The file is named .xlsx but is an old-format Excel file (.xls). Open it in "
                "Excel or WPS, save it as Excel Workbook (.xlsx) and upload that file."
            ),
        )
    if not data.startswith(_ZIP_MAGIC):
        raise TableError(
            "file_type",
            _(
                "The file is named .xlsx but is not an Excel workbook. Open it in Excel or WPS, "
                "save it as Excel Workbook (.xlsx) and upload that file."
            ),
        )
    _check_xlsx(data, max_rows, max_unpacked_bytes, max_entries)
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError:
        raise _err_encrypted() from None
    except Exception:
        raise _err_corrupt() from None


def _err_encrypted() -> TableError:
    return TableError(
        "file_unsafe",
        _(
            "The workbook is protected with a password and cannot be read. Remove the password "
            "in Excel or WPS, save the file and upload it again."
        ),
    )


def _read_workbook(workbook: CalamineWorkbook, max_rows: int) -> Table:
    metas = list(enumerate(workbook.sheets_metadata))
    # Visible sheets first (in order), then hidden ones.
    metas.sort(key=lambda im: im[1].visible != SheetVisibleEnum.Visible)
    for index, meta in metas:
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue
        try:
            sheet = workbook.get_sheet_by_index(index)
            # Pads from A1, so list index + 1 is the sheet's row number.
            grid = sheet.to_python(skip_empty_area=False)
        except Exception:
            raise _err_corrupt() from None
        header = _find_header(grid)
        if header is None:
            continue
        # python-calamine 0.9.1 exposes <mergeCells> for xlsx as 0-based inclusive
        # ((first_row, first_col), (last_row, last_col)); None only for other formats.
        merges = sheet.merged_cell_ranges or []
        rows = _xlsx_rows(grid, header, merges, max_rows)
        return Table(
            rows=rows,
            columns=header.columns,
            unknown_columns=header.unknown,
            header_row=header.index + 1,
            sheet=meta.name,
            format="xlsx",
            encoding=None,
        )
    raise _header_missing()


def _merge_fills(
    grid: list[list[Any]], header: _Header, merges: list[Any], max_cells: int
) -> dict[int, list[tuple[str, str, bool]]]:
    """row index -> [(field, text, numeric)] for cells covered (but not anchored) by a merged
    range below the header.  Only mapped columns are filled; ranges are clipped to the grid."""
    fills: dict[int, list[tuple[str, str, bool]]] = {}
    if not merges or not grid:
        return fills
    nrows, ncols = len(grid), len(grid[0])
    budget = max_cells
    for (r0, c0), (r1, c1) in merges:
        if r0 <= header.index or r0 >= nrows or c0 >= ncols:
            continue  # title/header merges never spill into data
        cols = [(c, field) for c, field in header.mapped if c0 <= c <= c1]
        if not cols:
            continue
        text, numeric = _cell_text(grid[r0][c0])
        if not text:
            continue
        last = min(r1, nrows - 1)
        budget -= (last - r0 + 1) * len(cols)
        if budget < 0:  # overlapping ranges multiplying the work: not a real ledger
            raise _err_bomb()
        for r in range(r0, last + 1):
            for c, field in cols:
                if r != r0 or c != c0:
                    fills.setdefault(r, []).append((field, text, numeric))
    return fills


def _xlsx_rows(
    grid: list[list[Any]], header: _Header, merges: list[Any], max_rows: int
) -> list[Row]:
    width = len(grid[0]) if grid else 0
    mapped = [(c, f) for c, f in header.mapped if c < width]
    fills = _merge_fills(grid, header, merges, max_cells=max(len(grid), 1) * max(len(mapped), 1))
    fields = [f for _c, f in mapped]
    # itemgetter with one index returns the item itself, so always ask for a tuple.
    pick = itemgetter(*(c for c, _f in mapped), 0) if mapped else (lambda raw: ("",))
    strip = str.strip
    template = dict.fromkeys(FIELDS, "")
    out: list[Row] = []
    append = out.append
    mixed = False  # once a row holds a non-text cell, stop trying the all-text fast path
    for index in range(header.index + 1, len(grid)):
        picked = pick(grid[index])[:-1]
        if mixed:
            texts, numeric = _convert(fields, picked)
        else:
            try:  # calamine gives "" for empty cells, so text-only rows are the common case
                texts = list(map(strip, picked))
                numeric = _EMPTY
            except TypeError:
                mixed = True
                texts, numeric = _convert(fields, picked)
        if not any(texts):  # every mapped cell empty (before merge filling): skip
            continue
        values = template.copy()
        values.update(zip(fields, texts, strict=True))
        extra = fills.get(index)
        if extra:
            numeric = _apply_fills(values, numeric, extra)
        if len(out) >= max_rows:
            raise too_many_rows(max_rows)
        append(Row(index + 1, values, numeric))
    return out


def _convert(fields: list[str], picked: tuple[Any, ...]) -> tuple[list[str], frozenset[str]]:
    texts: list[str] = []
    numeric: list[str] = []
    for field, value in zip(fields, picked, strict=True):
        cls = value.__class__
        if cls is str:
            texts.append(value.strip())
        elif cls is float:  # every number calamine reads from xlsx is a float
            texts.append(str(int(value)) if value.is_integer() else repr(value))
            numeric.append(field)
        else:
            text, is_number = _cell_text(value)
            texts.append(text)
            if is_number:
                numeric.append(field)
    return texts, frozenset(numeric) if numeric else _EMPTY


def _apply_fills(
    values: dict[str, str], numeric: frozenset[str], fills: list[tuple[str, str, bool]]
) -> frozenset[str]:
    added = []
    for field, text, is_number in fills:
        if not values[field]:
            values[field] = text
            if is_number:
                added.append(field)
    return numeric.union(added) if added else numeric


# --- container checks --------------------------------------------------------------------------


def _check_xlsx(data: bytes, max_rows: int, max_unpacked_bytes: int, max_entries: int) -> None:
    """Refuse zip bombs and files calamine would choke on, before calamine sees them.

    * entry count from the end-of-central-directory record (before zipfile builds an object
      per entry), then again from the directory;
    * declared unpacked total, per-entry compression ratio, encryption flag, compression method;
    * every entry is then decompressed once (streamed, in 1 MiB chunks, nothing kept) to prove
      the declared sizes and CRCs are honest -- a lying header cannot smuggle in more data;
    * while streaming, the XML is scanned for what makes calamine allocate memory out of
      proportion to the file: the sheet's used area (calamine stores rows x columns densely,
      so a 5 KB file with cells at A1 and XFD1048576 would need hundreds of GB) and the shared
      strings ``uniqueCount`` (used as a capacity hint: a huge value aborts the process).
    """
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if eocd >= 0 and len(data) >= eocd + 22:
        declared = int.from_bytes(data[eocd + 10 : eocd + 12], "little")
        if declared > max_entries and not (declared == 0xFFFF and max_entries >= 0xFFFF):
            raise _err_bomb()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise _err_corrupt() from None
    if len(infos) > max_entries:
        raise _err_bomb()
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        if "xl/workbook.bin" in names:
            raise TableError(
                "file_type",
                _(
                    "This is an Excel binary workbook (.xlsb). Open it in Excel, save it as "
                    "Excel Workbook (.xlsx) and upload that file."
                ),
            )
        raise TableError(
            "file_type",
            _(
                "The file is named .xlsx but is not an Excel workbook. Open it in Excel or "
                "WPS, save it as Excel Workbook (.xlsx) and upload that file."
            ),
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise _err_encrypted()
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _err_corrupt()
        total += info.file_size
        if total > max_unpacked_bytes:
            raise _err_bomb()
        if info.file_size > _RATIO_MIN_BYTES and info.file_size > _RATIO_LIMIT * max(
            info.compress_size, 1
        ):
            raise _err_bomb()
    try:
        for info in infos:
            if not info.is_dir():
                _verify_entry(archive, info, max_rows)
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError, RuntimeError):
        raise _err_corrupt() from None
    except NotImplementedError:  # e.g. a compression method zipfile cannot undo
        raise _err_corrupt() from None


class _Guard:
    """Track the extent of valued cells and the shared-strings counts of one zip entry."""

    __slots__ = ("max_row", "max_col", "irregular", "unique_count", "si")

    def __init__(self) -> None:
        self.max_row = 0
        self.max_col = 0
        self.irregular = False  # some <c> lacks a leading r="..": positions are implicit
        self.unique_count: int | None = None
        self.si = 0  # <si> elements seen after <sst>


# Fast path.  Every cell written by Excel, WPS, LibreOffice, openpyxl ... starts `<c r="A1"`.
# A cell far out (column of 2-3 letters, or row >= 100000) is rare, so finding just those is
# cheap and -- provided every cell has an explicit ref -- bounds the used area exactly.
_FAR = re.compile(rb'r="([A-Za-z]{2,3}[0-9]+|[A-Za-z][0-9]{6,})"((?:[^>"\']|"[^"]*"|\'[^\']*\')*)>')
# Cells without a leading r (implicit position), with a namespace prefix, or single-quoted r:
# positions then depend on counting, so the entry goes through the exact tokenizer.
_IRREGULAR = re.compile(rb'<c(?:[>/\t\n\r]| (?!r="))')
_PREFIXED_C = re.compile(rb"<[A-Za-z_][\w.-]*:c[\s/>]")
_SST = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sst[\s/>]")
_SI = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_UNIQUE = re.compile(rb'uniqueCount\s*=\s*["\']\s*([0-9]+)')
# Exact path: every <row> and <c> start tag, attributes parsed quote-aware.
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_R_ATTR = re.compile(rb"(?:^|\s)r\s*=\s*[\"']([A-Za-z]*)([0-9]*)[\"']")
_SPACE = frozenset(b" \t\r\n")
_WHOLE_TAG = re.compile(rb"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")  # '>' may sit inside quotes


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _segments(stream: Any) -> Any:
    """Yield the stream in pieces that never split a tag (each piece ends just before '<')."""
    carry = b""
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        buf = carry + chunk if carry else chunk
        cut = buf.rfind(b"<")
        if cut > 0:
            yield buf[:cut]
            carry = buf[cut:]
        elif cut == 0:
            carry = buf
        else:
            carry = b""  # text without any tag in it
        if len(carry) > _MAX_TAG:
            # One tag followed by a long run of text (e.g. base64): keep the tag, drop the text.
            tag = _WHOLE_TAG.match(carry)
            if tag is None:
                raise _err_bomb()  # a single tag over 1 MiB
            yield tag.group()
            carry = b""  # the rest is text up to the next '<'
    if carry:
        yield carry


def _open_checked(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Any:
    # Let zipfile read one byte past the declared size: an honest entry ends exactly at it
    # (and its CRC is checked at the end); a lying one yields more.
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1
    return archive.open(probe)


def _verify_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_rows: int) -> None:
    guard = _Guard()
    size = 0
    with _open_checked(archive, info) as stream:
        counted = _Counted(stream)
        for seg in _segments(counted):
            _scan_fast(seg, guard)
        size = counted.n
    if size != info.file_size:
        raise _err_bomb() if size > info.file_size else _err_corrupt()
    if guard.unique_count is not None and guard.unique_count > 2 * guard.si + 1_000_000:
        raise _err_bomb()
    if guard.irregular or guard.max_col > 26:
        # Either positions are implicit, or a far column needs the true last row.
        with _open_checked(archive, info) as stream:
            max_row, max_col = _exact_extent(_segments(stream))
        _check_extent(max_row, max_row, max_col, max_rows)
    else:
        # Every cell has an explicit ref and none is beyond column Z; rows under 100000 were
        # not looked at, so 99999 bounds them.
        _check_extent(guard.max_row, guard.max_row or 99_999, 26, max_rows)


class _Counted:
    __slots__ = ("stream", "n")

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.n = 0

    def read(self, size: int) -> bytes:
        chunk = self.stream.read(size)
        self.n += len(chunk)
        return chunk


def _scan_fast(seg: bytes, guard: _Guard) -> None:
    for m in _FAR.finditer(seg):
        start = m.start()
        if start == 0 or seg[start - 1] not in _SPACE:
            continue  # e.g. ref="..", sqref=".."
        if m.group(2).rstrip().endswith(b"/"):
            continue  # self-closing: formatted but empty, calamine ignores it
        ref = m.group(1)
        split = 3 if ref[2:3].isalpha() else (2 if ref[1:2].isalpha() else 1)
        guard.max_col = max(guard.max_col, _col_number(ref[:split]))
        guard.max_row = max(guard.max_row, int(ref[split:]))
    if not guard.irregular and (
        _IRREGULAR.search(seg) or (b":c" in seg and _PREFIXED_C.search(seg))
    ):
        guard.irregular = True
    if guard.unique_count is None:
        if b"sst" in seg:
            m = _SST.search(seg)
            if m:
                tag_end = seg.find(b">", m.end() - 1)
                unique = _UNIQUE.search(seg, m.start(), tag_end if tag_end >= 0 else len(seg))
                guard.unique_count = int(unique.group(1)) if unique else 0
                guard.si += len(_SI.findall(seg, m.end()))
    else:
        guard.si += len(_SI.findall(seg))


def _exact_extent(segments: Any) -> tuple[int, int]:
    """Used area of one sheet part, following calamine: a <row> without r is the previous
    row + 1; a <c> without r is the previous column + 1 in the current row; a cell's own r
    wins.  Only valued (not self-closing) cells count."""
    row = col = 0
    max_row = max_col = 0
    for seg in segments:
        for m in _TAG.finditer(seg):
            attrs = m.group(2)
            ref = _R_ATTR.search(attrs)
            if m.group(1) == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                col = 0
                continue
            cell_row = row
            if ref and ref.group(1):
                col = _col_number(ref.group(1))
                if ref.group(2):
                    cell_row = int(ref.group(2))
            else:
                col += 1
            if attrs.rstrip().endswith(b"/"):
                continue
            if cell_row > max_row:
                max_row = cell_row
            if col > max_col:
                max_col = col
    return max_row, max_col


def _check_extent(known_row: int, max_row: int, max_col: int, max_rows: int) -> None:
    """known_row: last row known to hold a value; max_row, max_col: bounds of the used area."""
    if known_row > max_rows + _ROW_SLACK:
        raise TableError(
            "too_many_rows",
            format_lazy(
                _(
                    "A sheet has content down to row {row}, but at most {limit} rows can be "
                    "imported at once. Delete everything below the table (or split the file) "
                    "and upload it again."
                ),
                row=known_row,
                limit=max_rows,
            ),
            limit=max_rows,
            row=known_row,
        )
    if max_row * max_col > _MAX_SHEET_CELLS:
        raise TableError(
            "file_unsafe",
            format_lazy(
                _(
                    "A sheet has content far outside the table (up to row {row}, column "
                    "{column}). Delete the rows and columns around the table, save the file "
                    "and upload it again."
                ),
                row=max_row,
                column=max_col,
            ),
            row=max_row,
            column=max_col,
        )


# --------------------------------------------------------------------------------------------
# csv


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise _err_encoding() from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel "Unicode text"
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _err_encoding() from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise _err_encoding() from None


def _err_encoding() -> TableError:
    return TableError(
        "encoding",
        _(
            "The CSV file's text encoding is not recognised. Save it from Excel or WPS as "
            "CSV UTF-8 (or CSV with GBK encoding) and upload it again."
        ),
    )


def _delimiters(sample: str) -> list[str]:
    """, ; and tab, most frequent in the sample first."""
    candidates = [",", "\t", ";"]
    return sorted(candidates, key=lambda d: -sample.count(d))


def _read_csv(data: bytes, *, max_rows: int) -> Table:
    if data.startswith(_ZIP_MAGIC) or data.startswith(_OLE_MAGIC):
        raise TableError(
            "file_type",
            _(
                "The file is named .csv but is an Excel workbook. Rename it to .xlsx, or save "
                "it as CSV, and upload it again."
            ),
        )
    text, encoding = _decode(data)
    if not text.strip():
        raise TableError(
            "file_empty", _("The file is empty. Choose the ledger file and upload it again.")
        )
    try:
        for delimiter in _delimiters(text[:65_536]):
            head_lines: list[tuple[int, list[str]]] = []
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            line = 1
            non_empty = 0
            for cells in reader:
                head_lines.append((line, cells))
                line = reader.line_num + 1
                if any(c.strip() for c in cells):
                    non_empty += 1
                    if non_empty >= HEADER_SEARCH_ROWS:
                        break
            header = _find_header([cells for _line, cells in head_lines])
            if header is not None:
                return _csv_table(text, encoding, delimiter, header, head_lines, max_rows)
    except csv.Error:
        raise _err_corrupt() from None
    raise _header_missing()


def _csv_table(
    text: str,
    encoding: str,
    delimiter: str,
    header: _Header,
    head_lines: list[tuple[int, list[str]]],
    max_rows: int,
) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    mapped = header.mapped
    template = dict.fromkeys(FIELDS, "")
    out: list[Row] = []
    append = out.append
    header_line = head_lines[header.index][0]
    line = 1  # line on which the next record starts
    for cells in reader:
        start = line
        line = reader.line_num + 1
        if start <= header_line:
            continue
        values: dict[str, str] | None = None
        n = len(cells)
        for col, field in mapped:
            if col >= n:
                continue
            value = cells[col].strip()
            if value:
                if values is None:
                    values = template.copy()
                values[field] = value
        if values is None:
            continue
        if len(out) >= max_rows:
            raise too_many_rows(max_rows)
        append(Row(start, values, _EMPTY))
    return Table(
        rows=out,
        columns=header.columns,
        unknown_columns=header.unknown,
        header_row=header_line,
        sheet=None,
        format="csv",
        encoding=encoding,
    )


# --------------------------------------------------------------------------------------------
# Other tables (a lab's results): rows of cell texts, the caller finds its own header


def read_grid(
    data: bytes,
    *,
    ext: str,
    found,
    max_rows: int,
    max_unpacked_bytes: int = 200 * 1024 * 1024,
    max_entries: int = 10_000,
) -> list[tuple[int, list[str]]]:
    """The rows, as (line number, cell texts), of the first visible worksheet of an .xlsx —
    of a .csv, read with the first delimiter — in which `found(rows)` sees the caller's header;
    [] when none does (the caller says what header it wanted). The same checks as `read_table`:
    old or encrypted workbooks, zip bombs, encodings, at most `max_rows` rows."""
    with gc_paused():
        if ext == ".xlsx":
            return _grid_xlsx(data, found, max_rows, max_unpacked_bytes, max_entries)
        return _grid_csv(data, found, max_rows)


def _grid_xlsx(data, found, max_rows, max_unpacked_bytes, max_entries):
    workbook = _open_workbook(data, max_rows, max_unpacked_bytes, max_entries)
    try:
        for index, meta in enumerate(workbook.sheets_metadata):
            if meta.typ != SheetTypeEnum.WorkSheet or meta.visible != SheetVisibleEnum.Visible:
                continue
            grid = workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
            rows = [(i + 1, [_cell_text(v)[0] for v in raw]) for i, raw in enumerate(grid)]
            if found(rows):
                return rows
        return []
    except TableError:
        raise
    except Exception:
        raise _err_corrupt() from None
    finally:
        workbook.close()


def _grid_csv(data, found, max_rows):
    text, _encoding = _decode(data)
    for delimiter in _delimiters(text[:65_536]):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows, line = [], 1
        try:
            for cells in reader:
                rows.append((line, [c.strip() for c in cells]))
                line = reader.line_num + 1
                if len(rows) > max_rows + HEADER_SEARCH_ROWS:
                    raise too_many_rows(max_rows)
        except csv.Error:
            raise _err_corrupt() from None
        if found(rows):
            return rows
    return []
