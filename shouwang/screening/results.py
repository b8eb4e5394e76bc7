"""Lab results: the lab's file imported all or nothing, or one tube's result typed on its page;
and what a result sets off.

- A positive **pooled** tube: everyone whose swab is in it gets a RetestFlag (stay home until a
  single-tube re-test), their households a text message (kind "screening_retest") and a
  door-to-door re-test list — all in the transaction that records the result (the texts go
  after it commits).
- A positive **single** tube: a Positive (source: round) for its person, whose open flags are
  closed by it.
- A negative single tube of a flagged person clears their flags.

Recording the result a tube already has does nothing; importing a file already imported into
the round (same digest) does nothing. A recorded negative or positive is never changed by an
import or a typed result: "invalid" (re-sample) and "awaiting" are the only results that may
be replaced.

The lab's file: one row per tube — tube code and result, optionally the Ct value and the time
of the test; headers in Chinese or English (管号/结果/CT值/检测时间), values 阴性/阳性/无效 or
negative/positive/invalid. It is read with the ledger reader's checks
(`registry.tabular`: size, type by content, zip-bomb and encoding checks)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from shouwang.control import services as control
from shouwang.core import crypto
from shouwang.core.audit import audit
from shouwang.core.errors import Conflict, DomainError, invalid
from shouwang.core.masking import mask_name
from shouwang.registry import tabular
from shouwang.registry.models import Household, Resident
from shouwang.screening.models import (
    Positive,
    PositiveSource,
    ResultImport,
    RetestFlag,
    Round,
    RoundKind,
    Sample,
    Tube,
    TubeResult,
    Visit,
    VisitList,
    VisitReason,
)

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
HEADER_SEARCH_ROWS = 20

# canonical column -> headers as labs write them (compared after tabular.normalise_header)
HEADERS: dict[str, tuple[str, ...]] = {
    "code": (
        "管号",
        "试管号",
        "试管编号",
        "采样管号",
        "采样管编号",
        "管码",
        "条码",
        "条码号",
        "样本编号",
        "样本号",
        "tube",
        "tube code",
        "tube no",
        "code",
        "barcode",
    ),
    "result": ("结果", "检测结果", "核酸结果", "result", "test result"),
    "ct": ("ct值", "ct", "ct value", "ct值(orf1ab)", "ctvalue"),
    "at": ("检测时间", "报告时间", "结果时间", "出结果时间", "time", "tested at", "result time"),
}
_LOOKUP = {
    tabular.normalise_header(h): col for col, names in HEADERS.items() for h in (col, *names)
}

# normalised cell text -> result
VALUES: dict[str, str] = {}
for _result, _words in (
    (TubeResult.NEGATIVE, ("阴性", "阴", "阴性(-)", "-", "neg", "negative", "n", "未检出")),
    (TubeResult.POSITIVE, ("阳性", "阳", "阳性(+)", "+", "pos", "positive", "p", "检出")),
    (TubeResult.INVALID, ("无效", "复采", "重采", "需复采", "invalid", "resample", "re-sample")),
):
    for _w in _words:
        VALUES[unicodedata.normalize("NFKC", _w).lower()] = _result

CT_MAX = Decimal("99.99")
RETEST_SMS_KIND = "screening_retest"
RETEST_SMS = _(
    "%(community)s: a pooled test tube with your household's swab from round %(n)s came back "
    "positive. This is not a diagnosis. Please stay at home: a team will come to your door for a "
    "single-tube re-test."
)


# --- reading the file -----------------------------------------------------------------------


@dataclass
class LabRow:
    line: int
    code: str
    result: str
    ct: Decimal | None
    at: dt.datetime | None


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}


class LabFileError(DomainError):
    """The file was read but some rows are wrong: nothing is imported; every row is listed."""

    def __init__(self, errors: list[RowError]):
        super().__init__(
            "screening_lab_rows",
            _("%(n)s rows need fixing; nothing was imported. Fix them and import the file again.")
            % {"n": len(errors)},
        )
        self.errors = errors

    def as_dict(self) -> dict:
        d = super().as_dict()
        d["error"]["rows"] = [e.as_dict() for e in self.errors]
        return d


def _header(rows) -> tuple[int, dict[str, int]] | None:
    """(index in rows, column -> cell index) of the first row naming the tube code and the
    result, within the first rows of the file."""
    seen = 0
    for i, (_line, cells) in enumerate(rows):
        if not any(cells):
            continue
        cols: dict[str, int] = {}
        for c, text in enumerate(cells):
            col = _LOOKUP.get(tabular.normalise_header(text)) if text else None
            if col and col not in cols:
                cols[col] = c
        if "code" in cols and "result" in cols:
            return i, cols
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    return None


def _parse_at(text: str, day: dt.date) -> dt.datetime | None:
    s = unicodedata.normalize("NFKC", text).strip().replace("/", "-").replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%H:%M:%S", "%H:%M"):
        try:
            v = dt.datetime.strptime(s, fmt)
        except ValueError:
            continue
        if fmt.startswith("%H"):
            v = dt.datetime.combine(day, v.time())
        return timezone.make_aware(v) if timezone.is_naive(v) else v
    try:
        v = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return timezone.make_aware(v) if timezone.is_naive(v) else v


def parse_result(text: str) -> str | None:
    return VALUES.get(unicodedata.normalize("NFKC", text or "").strip().lower())


def parse_ct(text) -> Decimal | None:
    """The Ct value, or None; raises ValueError when it is not a number from 0 to 99.99."""
    if text in (None, ""):
        return None
    try:
        v = Decimal(unicodedata.normalize("NFKC", str(text)).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValueError(text) from None
    if not (0 <= v <= CT_MAX):
        raise ValueError(text)
    return v


def read_lab_file(data: bytes, *, filename: str, day: dt.date) -> tuple[list[LabRow], list]:
    """The file's rows, and the errors of rows that cannot be understood on their own."""
    ext = os.path.splitext(str(filename))[1].lower()
    if ext not in (".xlsx", ".csv"):
        raise tabular.TableError(
            "file_type", _("Upload the lab's file as an Excel workbook (.xlsx) or a CSV file.")
        )
    rows = tabular.read_grid(
        data, ext=ext, found=lambda rows: _header(rows) is not None, max_rows=MAX_ROWS
    )
    found = _header(rows)
    if found is None:
        raise tabular.TableError(
            "header_missing",
            _(
                "No header row was found. Put one row of column headings above the results: "
                "管号 (tube code) and 结果 (result) are required; CT值 and 检测时间 are optional."
            ),
        )
    index, cols = found
    out: list[LabRow] = []
    errors: list[RowError] = []

    def cell(cells, col):
        c = cols.get(col)
        return cells[c].strip() if c is not None and c < len(cells) else ""

    for line, cells in rows[index + 1 :]:
        if not any(cells):
            continue
        code, raw = cell(cells, "code"), cell(cells, "result")
        ok = True
        if not code:
            errors.append(RowError(line, "code", _g("The tube code is empty: fill it in.")))
            ok = False
        result = parse_result(raw)
        if result is None:
            errors.append(
                RowError(
                    line,
                    "result",
                    _g("Result “%(v)s” is not understood: write 阴性, 阳性 or 无效.") % {"v": raw},
                )
            )
            ok = False
        try:
            ct = parse_ct(cell(cells, "ct"))
        except ValueError:
            errors.append(
                RowError(
                    line,
                    "ct",
                    _g("CT value “%(v)s” is not a number from 0 to 99.99: correct or clear it.")
                    % {"v": cell(cells, "ct")},
                )
            )
            ok = False
            ct = None
        at_text = cell(cells, "at")
        at = _parse_at(at_text, day) if at_text else None
        if at_text and at is None:
            errors.append(
                RowError(
                    line,
                    "at",
                    _g("Time “%(v)s” is not understood: write it as 2022-04-10 14:30.")
                    % {"v": at_text},
                )
            )
            ok = False
        if ok:
            out.append(LabRow(line, code, result, ct, at))
    if not out and not errors:
        raise tabular.TableError(
            "file_empty", _("The file has no results under its header row: nothing to import.")
        )
    if len(out) + len(errors) > MAX_ROWS:
        raise tabular.too_many_rows(MAX_ROWS)
    return out, errors


# --- recording a result ---------------------------------------------------------------------


@dataclass
class Outcome:
    tube: Tube
    changed: bool = False
    flagged: int = 0
    positives: int = 0
    cleared: int = 0
    visit_list: VisitList | None = None
    texts: int = 0
    walk_ins: int = 0


def _final(tube: Tube) -> bool:
    return tube.result in (TubeResult.NEGATIVE, TubeResult.POSITIVE)


def _refusal(tube: Tube, result: str) -> Conflict:
    return Conflict(
        "screening_result_final",
        _(
            "Tube %(code)s is already recorded as %(old)s; now it says %(new)s. A recorded "
            "result is not changed: ask the lab which is right, and re-sample the people if "
            "needed."
        )
        % {
            "code": tube.code,
            "old": TubeResult(tube.result).label,
            "new": TubeResult(result).label,
        },
    )


def result_record(
    *,
    actor,
    tube: Tube,
    result: str,
    ct_value: Decimal | None = None,
    at: dt.datetime | None = None,
    result_import: ResultImport | None = None,
    texts: bool = True,
    _audit: bool = True,
) -> Outcome:
    """Record one tube's result and what it sets off. The same result again does nothing
    (changed=False). `texts=False` (the demo) sends no text messages."""
    if result not in (TubeResult.NEGATIVE, TubeResult.POSITIVE, TubeResult.INVALID):
        raise invalid("result", _("Choose negative, positive or invalid."))
    with transaction.atomic():
        tube = Tube.objects.select_for_update().select_related("round").get(pk=tube.pk)
        out = Outcome(tube=tube)
        if tube.result == result:
            return out
        if _final(tube):
            raise _refusal(tube, result)
        now = timezone.now()
        tube.result = result
        tube.ct_value = ct_value
        tube.result_at = at or now
        tube.result_by = actor if getattr(actor, "pk", None) else None
        tube.result_import = result_import
        tube.save(update_fields=["result", "ct_value", "result_at", "result_by", "result_import"])
        out.changed = True
        if result == TubeResult.POSITIVE and tube.pooled:
            _pooled_positive(actor, tube, out, texts)
        elif result == TubeResult.POSITIVE:
            _single_positive(tube, out, now)
        elif result == TubeResult.NEGATIVE and not tube.pooled:
            _single_negative(tube, out, now)
        if _audit:
            audit(
                actor=actor,
                action="screening.result",
                community=tube.community_id,
                target=tube,
                summary=f"{tube.code}: {result}"
                + (f" Ct {ct_value}" if ct_value is not None else "")
                + (f", {out.flagged} flagged" if out.flagged else "")
                + (f", {out.positives} positive" if out.positives else ""),
            )
    return out


def _people(tube: Tube):
    """The samples whose swab is in the tube: not voided. A sample kept but not counted (a
    second sample from an offline device) is in the tube all the same."""
    return Sample.objects.swabs().filter(tube=tube)


def _pooled_positive(actor, tube: Tube, out: Outcome, texts: bool = True) -> None:
    samples = list(_people(tube).values_list("resident_id", flat=True))
    residents = sorted({r for r in samples if r is not None})
    out.walk_ins = sum(1 for r in samples if r is None)
    RetestFlag.objects.bulk_create(
        [RetestFlag(community_id=tube.community_id, resident_id=r, tube=tube) for r in residents],
        ignore_conflicts=True,
    )
    out.flagged = len(residents)
    # Propose (never set) a control level on their buildings, for a second pair of eyes.
    control.propose_from_pooled(tube, residents)
    households = sorted(
        set(Resident.objects.filter(pk__in=residents).values_list("household_id", flat=True))
    )
    if households:
        vl = VisitList.objects.create(
            community_id=tube.community_id,
            round=retest_round(actor, tube, households),
            name=(
                _g("Re-test: tube %(code)s of %(round)s") % {"code": tube.code, "round": tube.round}
            )[:100],
            reason=VisitReason.RETEST,
            source_tube=tube,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        Visit.objects.bulk_create([Visit(visit_list=vl, household_id=h) for h in households])
        out.visit_list = vl
        phones = _phones(households, residents)
        out.texts = len(phones)
        rnd = tube.round
        if texts:
            transaction.on_commit(lambda: _send_retest_texts(rnd, phones))


def retest_round(actor, tube: Tube, households: list[int]) -> Round:
    """The round the re-test list is sampled in: the tube's own round while it is open, else
    an open round of today (not antigen), else a new door-to-door round for today covering the
    flagged households' buildings."""
    rnd = tube.round
    if rnd.closed_at is None and rnd.date >= timezone.localdate():
        return rnd
    today = timezone.localdate()
    open_today = (
        Round.objects.filter(community_id=tube.community_id, date=today, closed_at=None)
        .exclude(kind=RoundKind.ANTIGEN)
        .order_by("kind", "-number")
        .first()
    )
    if open_today is not None:
        return open_today
    from shouwang.registry.models import Building
    from shouwang.screening import services

    buildings = Building.objects.filter(households__pk__in=households).distinct()
    return services.round_save(
        actor=actor if getattr(actor, "pk", None) else None,
        community=tube.round.community,
        kind=RoundKind.DOOR,
        number=services.round_next_number(tube.community_id, RoundKind.DOOR),
        date=today,
        starts_at=dt.time(0, 0),
        ends_at=dt.time(23, 59),
        pool_size=1,
        buildings=list(buildings),
        note=(_g("Single-tube re-tests after tube %(code)s") % {"code": tube.code})[:200],
    )


def _phones(households: list[int], residents: list[int]) -> list[str]:
    """One phone per household: its contact phone, else a flagged member's own phone."""
    out: dict[int, str] = {}
    for h in Household.objects.filter(pk__in=households).exclude(contact_phone_enc=""):
        phone = h.contact_phone
        if phone:
            out[h.pk] = phone
    for r in (
        Resident.objects.filter(pk__in=residents)
        .exclude(household_id__in=list(out))
        .exclude(phone_enc="")
        .order_by("pk")
    ):
        if r.household_id not in out:
            phone = crypto.decrypt(r.phone_enc)
            if phone:
                out[r.household_id] = phone
    return list(out.values())


def _send_retest_texts(rnd: Round, phones: list[str]) -> None:
    from shouwang.registry.models import Community
    from shouwang.residents.sms import SmsFailed, sms_send

    community = Community.objects.get(pk=rnd.community_id)
    with translation.override("zh-hans"):
        text = str(RETEST_SMS) % {"community": community.name, "n": rnd.number}
    for phone in phones:
        try:
            sms_send(
                phone_e164=phone,
                text=text,
                kind=RETEST_SMS_KIND,
                community_id=rnd.community_id,
            )
        except SmsFailed:
            pass  # recorded by sms_send; the re-test list is the way to reach them anyway


def _single_positive(tube: Tube, out: Outcome, now) -> None:
    residents = [r for r in _people(tube).values_list("resident_id", flat=True) if r]
    out.walk_ins = _people(tube).filter(resident=None).count()
    day = timezone.localdate(tube.result_at)
    Positive.objects.bulk_create(
        [
            Positive(
                community_id=tube.community_id,
                resident_id=r,
                source=PositiveSource.ROUND,
                tube=tube,
                detected_on=day,
            )
            for r in residents
        ],
        ignore_conflicts=True,
    )
    out.positives = len(residents)
    # Propose (never set) sealing the person's building, for a second pair of eyes.
    for positive in Positive.objects.filter(tube=tube, resident_id__in=residents).select_related(
        "resident__household__building__compound", "resident__household__dwelling", "tube"
    ):
        control.propose_from_positive(positive)
    out.cleared = _clear(tube, residents, now)


def _single_negative(tube: Tube, out: Outcome, now) -> None:
    residents = [r for r in _people(tube).values_list("resident_id", flat=True) if r]
    out.cleared = _clear(tube, residents, now)


def _clear(tube: Tube, residents: list[int], now) -> int:
    if not residents:
        return 0
    return RetestFlag.objects.filter(resident_id__in=residents, cleared_at=None).update(
        cleared_at=now, cleared_by_tube=tube
    )


# --- importing the lab's file ---------------------------------------------------------------


@dataclass
class ImportReport:
    round_id: int
    filename: str
    rows: int = 0
    negatives: int = 0
    positives: int = 0
    invalid: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    already: bool = False
    committed: bool = False
    import_id: int | None = None
    flagged: int = 0
    visit_lists: list[int] = field(default_factory=list)
    positive_tubes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "round_id": self.round_id,
            "filename": self.filename,
            "rows": self.rows,
            "negatives": self.negatives,
            "positives": self.positives,
            "invalid": self.invalid,
            "unchanged": self.unchanged,
            "already": self.already,
            "committed": self.committed,
            "import_id": self.import_id,
            "flagged": self.flagged,
            "visit_lists": self.visit_lists,
            "positive_tubes": self.positive_tubes,
            "errors": [e.as_dict() for e in self.errors],
        }


def results_import(
    *, actor, rnd: Round, source, filename: str, commit: bool = False
) -> ImportReport:
    """Check the lab's file against the round's tubes; with `commit`, record every result in
    one transaction — or nothing, when any row is wrong (every wrong row is in `errors`). A file
    already imported into the round does nothing (already=True)."""
    data = tabular.read_bytes(source, MAX_BYTES, empty=_("The file is empty."))
    digest = hashlib.sha256(data).hexdigest()
    report = ImportReport(round_id=rnd.pk, filename=str(filename)[:200])
    done = ResultImport.objects.filter(round=rnd, digest=digest).first()
    if done is not None:
        report.already, report.import_id, report.rows = True, done.pk, done.rows
        report.positives = done.positives
        return report
    rows, errors = read_lab_file(data, filename=filename, day=rnd.date)
    tubes = {t.code: t for t in Tube.objects.filter(round=rnd, code__in={r.code for r in rows})}
    seen: dict[str, LabRow] = {}
    todo: list[LabRow] = []
    for r in rows:
        tube = tubes.get(r.code)
        first = seen.get(r.code)
        if tube is None:
            errors.append(
                RowError(
                    r.line,
                    "code",
                    _g(
                        "Tube %(code)s was not used in round %(n)s: check the code, or import "
                        "the file into the round it belongs to."
                    )
                    % {"code": r.code, "n": rnd.number},
                )
            )
        elif first is not None:
            if first.result != r.result:
                errors.append(
                    RowError(
                        r.line,
                        "result",
                        _g(
                            "Tube %(code)s is also on line %(line)s with another result: keep "
                            "the right one."
                        )
                        % {"code": r.code, "line": first.line},
                    )
                )
        elif _final(tube) and tube.result != r.result:
            errors.append(RowError(r.line, "result", str(_refusal(tube, r.result).message)))
        else:
            seen[r.code] = r
            if tube.result == r.result:
                report.unchanged += 1
            else:
                todo.append(r)
    errors.sort(key=lambda e: e.line)
    report.errors = errors
    report.rows = len({r.line for r in rows} | {e.line for e in errors})
    for r in todo:
        if r.result == TubeResult.NEGATIVE:
            report.negatives += 1
        elif r.result == TubeResult.POSITIVE:
            report.positives += 1
            report.positive_tubes.append(r.code)
        else:
            report.invalid += 1
    if not commit or errors:
        return report
    with transaction.atomic():
        imp, created = ResultImport.objects.get_or_create(
            round=rnd,
            digest=digest,
            defaults={
                "community_id": rnd.community_id,
                "filename": report.filename,
                "rows": report.rows,
                "positives": report.positives,
                "created_by": actor if getattr(actor, "pk", None) else None,
            },
        )
        report.import_id = imp.pk
        if not created:
            report.already = True
            return report
        for r in todo:
            o = result_record(
                actor=actor,
                tube=tubes[r.code],
                result=r.result,
                ct_value=r.ct,
                at=r.at,
                result_import=imp,
                _audit=False,
            )
            report.flagged += o.flagged
            if o.visit_list is not None:
                report.visit_lists.append(o.visit_list.pk)
        audit(
            actor=actor,
            action="screening.results_import",
            community=rnd.community_id,
            target=imp,
            summary=f"{report.filename}: {report.rows} rows, {report.negatives} negative, "
            f"{report.positives} positive, {report.invalid} invalid, "
            f"{report.unchanged} unchanged",
        )
    report.committed = True
    return report


def tube_get_for(user, pk) -> Tube:
    from shouwang.accounts.scope import get_scoped

    return get_scoped(user, Tube.objects.select_related("round", "point"), pk)


def tube_people(tube: Tube) -> list[dict]:
    """Who is in the tube, for its page: name masked, household, open flag."""
    out = []
    flagged = set(
        RetestFlag.objects.filter(tube=tube, cleared_at=None).values_list("resident_id", flat=True)
    )
    for s in (
        _people(tube)
        .select_related("resident__household__building", "resident__household__dwelling__unit")
        .order_by("device_at", "pk")
    ):
        r = s.resident
        if r is not None:
            h = r.household
            unit = h.dwelling.unit.name if h.dwelling.unit_id else ""
            out.append(
                {
                    "name": mask_name(r.name),
                    "place": " ".join(x for x in (h.building.name, unit, h.dwelling.door) if x),
                    "household_id": h.pk,
                    "flagged": r.pk in flagged,
                    "counted": s.counted,
                    "at": s.device_at,
                }
            )
        else:
            out.append(
                {
                    "name": mask_name(s.walk_in_name),
                    "place": _g("walk-in, phone %(p)s") % {"p": s.walk_in_phone_masked or "—"},
                    "household_id": None,
                    "flagged": False,
                    "counted": s.counted,
                    "at": s.device_at,
                }
            )
    return out


def open_flags(community_id):
    return RetestFlag.objects.filter(community_id=community_id, cleared_at=None)
