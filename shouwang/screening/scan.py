"""The scan: one swab of one person into one tube, recorded from a sampling page.

Hot path (docs/decisions/0008-scan-path.md). A steady-state scan is one SELECT and one INSERT,
both written by hand:

* the SELECT (`_load`) reads, in one row: the station's user (still active, still allowed to
  sample, still in the community), the round (closed? today's? its scope), the point's kind,
  the person (by pass code or resident id) with household, dwelling, unit and building, the
  tube (opened? closed? how many swabs in it), the person's counted sample in this round if
  any, and whether this scan's uid is already recorded;
* the INSERT (`_insert_sample`) is `INSERT … ON CONFLICT DO NOTHING`: the uid made on the device
  is unique, and so is (round, resident) among counted, not voided samples. Nothing inserted
  means either a replay (the uid is there: same answer, no new row) or the same person counted
  by another device a moment ago (refused when live, kept uncounted when queued). Both
  databases decide this in the constraint, so two copies of one scan, or two devices scanning
  one person, at the same instant give one row / one counted sample.

The first scan of a tube code opens the tube (`INSERT … ON CONFLICT (round, code) DO NOTHING`)
in the same transaction as the sample. The audit record of a scan is the Sample row itself
(who, when on the device, when received); undo and close write audit events.

Live and queued scans. A live scan (the device is online and waits for the answer) is refused
when the answer should stop the swab: the person was already sampled this round, the tube is
full or closed, the round is closed or not today's. A queued scan (kept on the device while
offline, sent later) is a swab already taken: it is kept — uncounted if the person was counted
already, in its tube even if that tube shows full or closed, in a closed round too (it was
taken before the device heard of the close; flagged "after_close" when its device time is
later than the close).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import cache

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from shouwang.accounts.permissions import CAPABILITIES
from shouwang.core.audit import audit
from shouwang.core.errors import DomainError
from shouwang.core.masking import mask_name
from shouwang.core.rawrows import as_date as _date
from shouwang.core.rawrows import aware as _dt
from shouwang.core.rawrows import fetch_row as _fetch_one
from shouwang.core.rawrows import insert_or_skip as _insert
from shouwang.core.rawrows import table as _t
from shouwang.registry import areas, validation
from shouwang.registry.models import Building, Dwelling, Household, Resident, Unit
from shouwang.residents.models import Pass
from shouwang.residents.services import pass_code, pass_refusal
from shouwang.screening.models import (
    PointKind,
    Round,
    Sample,
    SamplingPoint,
    Tube,
    TubeResult,
    Visit,
)
from shouwang.screening.sealed import sealed_building_ids
from shouwang.screening.station import Station, StationError

SAMPLE_ROLES = CAPABILITIES["screening.sample"]
MAX_CAPACITY = 50
MAX_TUBE_CODE = Tube._meta.get_field("code").max_length
MAX_BATCH = 500


class Refused(DomainError):
    """A scan, undo or close that is not done. `code` and `status` as in the contract (see the
    module docstring of views/scan.py); `extra` goes into the JSON answer."""

    def __init__(self, code: str, message, *, status: int = 400, **extra):
        super().__init__(code, message)
        self.status = status
        self.extra = extra


def _bad(message) -> Refused:
    return Refused("bad_request", message)


# --- the request -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanIn:
    uid: uuid.UUID
    at: dt.datetime
    tube: str
    capacity: int | None
    pass_raw: str | None
    resident_id: int | None
    walk_in: dict | None
    queued: bool
    visit_id: int | None


def _uid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise _bad(_("The scan has no valid id. Reload the sampling page.")) from None


def _at(value) -> dt.datetime:
    parsed = None
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise _bad(_("The scan has no valid time. Check the device's clock and reload the page."))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(_("%(what)s is not a number.") % {"what": what})
    try:
        n = int(value)
    except ValueError:
        raise _bad(_("%(what)s is not a number.") % {"what": what}) from None
    if not 0 < n < 2**62:
        raise _bad(_("%(what)s is not a number.") % {"what": what})
    return n


def tube_code(value) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if not code or len(code) > MAX_TUBE_CODE or not code.isprintable():
        raise _bad(_("Scan the tube's barcode first."))
    return code


def parse_scan(data, *, queued_default: bool = False) -> ScanIn:
    """A scan from its JSON (the contract in views/scan.py); Refused("bad_request") if it is not
    one."""
    if not isinstance(data, dict):
        raise _bad(_("The request is not a scan."))
    ways = [k for k in ("pass", "resident", "walk_in") if data.get(k) not in (None, "")]
    if len(ways) != 1:
        raise _bad(_("Scan a pass, find the person, or register them — one of the three."))
    capacity = data.get("capacity")
    if capacity is not None:
        capacity = _int(capacity, _("The tube's size"))
        if capacity > MAX_CAPACITY:
            raise _bad(_("A tube holds at most %(n)d people.") % {"n": MAX_CAPACITY})
    walk_in = data.get("walk_in")
    if walk_in is not None and not isinstance(walk_in, dict):
        raise _bad(_("Register the person with name, ID number and phone."))
    queued = data.get("queued", queued_default)
    raw_pass = data.get("pass")
    if raw_pass is not None and not isinstance(raw_pass, str):
        raise _bad(_("Scan a pass, or type the code under its QR."))
    return ScanIn(
        uid=_uid(data.get("uid")),
        at=_at(data.get("at")),
        tube=tube_code(data.get("tube")),
        capacity=capacity,
        pass_raw=raw_pass if ways[0] == "pass" else None,
        resident_id=_int(data["resident"], _("The person")) if ways[0] == "resident" else None,
        walk_in=walk_in if ways[0] == "walk_in" else None,
        queued=queued is True,
        visit_id=_int(data["visit"], _("The visit")) if data.get("visit") is not None else None,
    )


# --- passes: the same refusals, in the same words, as residents.services.pass_resolve --------


# Unknown or elsewhere: 404; a token that does not parse, or a revoked pass: 400.
_PASS_STATUS = {"pass_unknown": 404, "pass_elsewhere": 404}


def _pass_refused(code: str, *, revoked_at=None) -> Refused:
    e = pass_refusal(code, revoked_at=revoked_at)
    return Refused(e.code, e.message, status=_PASS_STATUS.get(code, 400))


def _pass_code(raw: str) -> str:
    try:
        return pass_code(raw)
    except DomainError as e:
        raise Refused(e.code, e.message, status=400) from None


# --- walk-ins ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WalkIn:
    name: str
    id_enc: str
    id_index: str
    id_masked: str
    phone_enc: str
    phone_masked: str


def _walk_in(data: dict) -> WalkIn:
    """Name, ID number and phone checked as the ledger checks them, encrypted as it stores them."""
    try:
        name = validation.check_name(data.get("name"))
        info = validation.check_id(
            data.get("id_number"), id_type=data.get("id_type") or validation.IdType.RESIDENT_ID
        )
        phone = validation.check_mobile(data.get("phone"))
    except validation.InvalidValue as e:
        raise Refused(
            "invalid", str(e.message), status=400, field=f"walk_in.{e.field}", problem=e.code
        ) from None
    if len(name) > Sample._meta.get_field("walk_in_name").max_length:
        raise Refused("invalid", _("The name is too long."), status=400, field="walk_in.name")
    id_enc, id_index, id_masked, _tail = Resident.id_number_columns(info.number)
    phone_enc, _pi, phone_masked, _pt = Resident.phone_columns(phone)
    return WalkIn(name, id_enc, id_index, id_masked, phone_enc, phone_masked)


# --- the one SELECT ----------------------------------------------------------------------------


def _agg(table: str, column: str, where: str) -> str:
    agg = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    return f"(SELECT {agg}(CAST({column} AS TEXT), ',') FROM {table} WHERE {where})"


@cache
def _load_sql(vendor: str, how: str) -> str:
    """`how`: "pass" (the person by pass code), "resident" (by id) or "none" (a walk-in)."""
    from shouwang.accounts.models import User

    scope = ", ".join(
        _agg(table, target, f"{owner} = r.id") for _k, table, owner, target in areas.tables(Round)
    )
    if how == "pass":
        person = (
            f"LEFT JOIN {_t(Pass)} p ON p.code = %(code)s "
            f"LEFT JOIN {_t(Resident)} res ON res.id = p.resident_id "
        )
        pass_cols = "p.id, p.status, p.community_id, p.revoked_at"
    elif how == "resident":
        person = (
            f"LEFT JOIN {_t(Resident)} res ON res.id = %(resident)s "
            "AND res.community_id = %(community)s "
        )
        pass_cols = "NULL, NULL, NULL, NULL"
    else:
        person = f"LEFT JOIN {_t(Resident)} res ON 1 = 0 "
        pass_cols = "NULL, NULL, NULL, NULL"
    sample = _t(Sample)
    tube = _t(Tube)
    return (
        "SELECT u.is_active, u.role, u.community_id, "
        f"r.id, r.date, r.closed_at, r.pool_size, {scope}, sp.kind, {pass_cols}, "
        "res.id, res.community_id, res.name, b.id, b.name, b.compound_id, b.grid_id, un.name, "
        "d.door, t.id, t.capacity, t.closed_at, t.result, "
        f"CASE WHEN t.id IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM {sample} c "
        "WHERE c.tube_id = t.id AND c.voided_at IS NULL) END, "
        f"CASE WHEN t.id IS NULL THEN (SELECT MIN(o.round_id) FROM {tube} o "
        "WHERE o.community_id = r.community_id AND o.code = %(tube)s AND o.round_id <> r.id) "
        "END, "
        "prev.device_at, pt.code, mine.id "
        f"FROM {_t(User)} u "
        f"LEFT JOIN {_t(Round)} r ON r.id = %(round)s AND r.community_id = %(community)s "
        f"LEFT JOIN {_t(SamplingPoint)} sp ON sp.id = %(point)s "
        "AND sp.community_id = r.community_id "
        f"{person}"
        f"LEFT JOIN {_t(Household)} h ON h.id = res.household_id "
        f"LEFT JOIN {_t(Dwelling)} d ON d.id = h.dwelling_id "
        f"LEFT JOIN {_t(Unit)} un ON un.id = d.unit_id "
        f"LEFT JOIN {_t(Building)} b ON b.id = h.building_id "
        f"LEFT JOIN {tube} t ON t.round_id = r.id AND t.code = %(tube)s "
        f"LEFT JOIN {sample} prev ON prev.round_id = r.id AND prev.resident_id = res.id "
        "AND prev.counted = %(yes)s AND prev.voided_at IS NULL "
        f"LEFT JOIN {tube} pt ON pt.id = prev.tube_id "
        f"LEFT JOIN {sample} mine ON mine.uid = %(uid)s "
        "WHERE u.id = %(user)s"
    )


def _split(ids: str | None) -> list[int]:
    return [int(x) for x in ids.split(",")] if ids else []


@dataclass(frozen=True, slots=True)
class _Building:
    """What the scan reads of the person's building (what `areas.covers` asks of one)."""

    pk: int
    name: str
    compound_id: int
    grid_id: int | None


@dataclass(slots=True)
class _Row:
    round_id: int
    round_date: dt.date
    round_closed_at: dt.datetime | None
    pool_size: int
    scope: set
    point_kind: str | None
    pass_status: str | None
    pass_community: int | None
    pass_revoked_at: object
    pass_found: bool
    resident_id: int | None
    resident_community: int | None
    name: str
    building: _Building | None
    unit: str | None
    door: str | None
    tube_id: int | None
    tube_capacity: int | None
    tube_closed_at: dt.datetime | None
    tube_result: str | None
    tube_count: int
    tube_other_round: int | None
    prev_at: dt.datetime | None
    prev_tube: str | None
    replay: bool


def _load(station: Station, scan: ScanIn, how: str, *, code=None, resident_id=None) -> _Row:
    params = {
        "user": station.user_id,
        "round": station.round_id,
        "community": station.community_id,
        "point": station.point_id or 0,
        "tube": scan.tube,
        "uid": Sample._meta.get_field("uid").get_db_prep_value(scan.uid, connection),
        "yes": True,
        "code": code,
        "resident": resident_id,
    }
    row = _fetch_one(_load_sql(connection.vendor, how), params)
    if row is None:
        raise StationError()
    active, role, user_community = row[0], row[1], row[2]
    if not active or role not in SAMPLE_ROLES or user_community != station.community_id:
        raise StationError()
    if row[3] is None:
        raise StationError()  # the round is gone (or not this community's)
    scope = {
        (kind, i)
        for (kind, _n), ids in zip(areas.KINDS, row[7:10], strict=True)
        for i in _split(ids)
    }
    (
        point_kind,
        pass_id,
        pass_status,
        pass_community,
        pass_revoked_at,
        res_id,
        res_community,
        name,
        b_id,
        b_name,
        b_compound,
        b_grid,
        unit,
        door,
        t_id,
        t_cap,
        t_closed,
        t_result,
        t_count,
        t_other,
        prev_at,
        prev_tube,
        mine,
    ) = row[10:]
    building = _Building(b_id, b_name, b_compound, b_grid) if b_id is not None else None
    return _Row(
        round_id=row[3],
        round_date=_date(row[4]),
        round_closed_at=_dt(row[5]),
        pool_size=row[6],
        scope=scope,
        point_kind=point_kind,
        pass_status=pass_status,
        pass_community=pass_community,
        pass_revoked_at=_dt(pass_revoked_at),
        pass_found=pass_id is not None,
        resident_id=res_id,
        resident_community=res_community,
        name=name or "",
        building=building,
        unit=unit,
        door=door,
        tube_id=t_id,
        tube_capacity=t_cap,
        tube_closed_at=_dt(t_closed),
        tube_result=t_result,
        tube_count=t_count or 0,
        tube_other_round=t_other,
        prev_at=_dt(prev_at),
        prev_tube=prev_tube,
        replay=mine is not None,
    )


# --- the writes --------------------------------------------------------------------------------


_SAMPLE_BLANKS = {
    "voided_at": None,
    "voided_by_id": None,
    "walk_in_name": "",
    "walk_in_id_enc": "",
    "walk_in_id_index": "",
    "walk_in_id_masked": "",
    "walk_in_phone_enc": "",
    "walk_in_phone_masked": "",
    "visit_id": None,
}


def _open_tube(station: Station, scan: ScanIn, row: _Row, now) -> tuple[int, int, object, int]:
    """The tube's (id, capacity, closed_at, swabs in it), opening it if this is its first scan
    (another device may open it at the same moment: one row)."""
    _insert(
        Tube,
        "(round_id, code)",
        {
            "community_id": station.community_id,
            "round_id": row.round_id,
            "code": scan.tube,
            "capacity": scan.capacity or row.pool_size,
            "point_id": station.point_id,
            "opened_by_id": station.user_id,
            "opened_at": min(scan.at, now),
            "closed_at": None,
            "result": TubeResult.PENDING,
        },
    )
    t = Tube.objects.only("id", "capacity", "closed_at").get(round_id=row.round_id, code=scan.tube)
    count = Sample.objects.swabs().filter(tube_id=t.pk).count()
    return t.pk, t.capacity, t.closed_at, count


# --- answers -----------------------------------------------------------------------------------


def household_label(building_name, unit, door) -> str:
    """ "3号楼 2单元 301"."""
    return " ".join(p for p in (building_name, unit, door) if p)


def _tube_answer(code: str, count: int, capacity: int) -> dict:
    return {"code": code, "count": count, "capacity": capacity, "full": count >= capacity}


def _clock(when) -> str:
    return date_format(timezone.localtime(when), "H:i")


def _duplicate(prev_at, prev_tube: str, uid) -> Refused:
    return Refused(
        "duplicate",
        _("Already sampled at %(time)s in tube %(tube)s — do not swab.")
        % {"time": _clock(prev_at), "tube": prev_tube},
        status=409,
        uid=str(uid),
        sampled_at=prev_at.isoformat(),
        tube=prev_tube,
    )


def _message(status: str, person: dict, tube: dict) -> str:
    who = person["name"] or _("(no name)")
    if status == "duplicate_kept":
        return _(
            "%(who)s was already counted this round: this swab is kept in tube %(tube)s but not "
            "counted."
        ) % {"who": who, "tube": tube["code"]}
    text = _("%(who)s — tube %(tube)s: %(count)d of %(capacity)d.") % {
        "who": who,
        "tube": tube["code"],
        "count": tube["count"],
        "capacity": tube["capacity"],
    }
    if tube["full"]:
        text += " " + _("The tube is full: close it and open a new one.")
    return text


def _answer(status: str, uid, person: dict, tube: dict, flags: list[str]) -> dict:
    return {
        "ok": True,
        "status": status,
        "uid": str(uid),
        "person": person,
        "tube": tube,
        "flags": flags,
        "message": _message(status, person, tube),
    }


def _flags(station_point_kind, community_id: int, building, scope: set) -> list[str]:
    flags = []
    if building is None:
        return flags
    if station_point_kind == PointKind.STREET and building.pk in sealed_building_ids(community_id):
        flags.append("sealed_at_street")
    if not areas.covers(scope, building):
        flags.append("out_of_scope")
    return flags


def _stored_answer(station: Station, uid) -> dict:
    """The answer to a scan whose uid is recorded already: the stored sample's person and tube,
    and the tube's count now."""
    s = (
        Sample.objects.select_related(
            "tube", "resident__household__dwelling__unit", "resident__household__building", "point"
        )
        .filter(uid=uid)
        .first()
    )
    if s is None or s.round_id != station.round_id or s.community_id != station.community_id:
        raise _bad(_("This scan's id was used for another scan. Reload the sampling page."))
    count = Sample.objects.swabs().filter(tube_id=s.tube_id).count()
    tube = _tube_answer(s.tube.code, count, s.tube.capacity)
    flags = []
    if s.resident_id:
        r = s.resident
        d = r.household.dwelling
        person = {
            "resident": r.pk,
            "name": mask_name(r.name),
            "household": household_label(
                r.household.building.name, d.unit.name if d.unit_id else "", d.door
            ),
        }
        if s.flagged:
            flags.append("sealed_at_street")
        if not areas.covers(areas.scope_of(Round(pk=s.round_id)), r.household.building):
            flags.append("out_of_scope")
    else:
        person = {"resident": None, "name": mask_name(s.walk_in_name), "household": ""}
    if not s.counted:
        flags.append("not_counted")
    if s.voided_at is not None:
        flags.append("voided")
    return _answer("replayed", uid, person, tube, flags)


# --- the scan --------------------------------------------------------------------------------


def _counted_sample(round_id: int, **who) -> Sample | None:
    """The person's counted sample in the round, with its tube (who: resident_id, or a walk-in's
    walk_in_id_index)."""
    return Sample.objects.counting().filter(round_id=round_id, **who).select_related("tube").first()


def record(station: Station, scan: ScanIn, *, now=None, _again: bool = False) -> dict:
    """Record one scan (see the module docstring); the answer, or Refused."""
    now = now or timezone.now()
    walk_in = None
    code = None
    resident_id = scan.resident_id
    if scan.pass_raw is not None:
        code = _pass_code(scan.pass_raw)
        how = "pass"
    elif scan.walk_in is not None:
        walk_in = _walk_in(scan.walk_in)
        # Someone who is in the ledger after all (no pass on them, not found by the search):
        # their sample is theirs, counted once like everyone else's.
        resident_id = (
            Resident.objects.filter(
                community_id=station.community_id, id_number_index=walk_in.id_index
            )
            .values_list("pk", flat=True)
            .first()
        )
        how = "resident" if resident_id else "none"
    else:
        how = "resident"
    row = _load(station, scan, how, code=code, resident_id=resident_id)
    if row.replay:
        return _stored_answer(station, scan.uid)

    # Who stands there.
    if how == "pass":
        if not row.pass_found:
            raise _pass_refused("pass_unknown")
        if row.pass_community != station.community_id:
            raise _pass_refused("pass_elsewhere")
        if row.pass_status != Pass.Status.ACTIVE:
            raise _pass_refused("pass_revoked", revoked_at=row.pass_revoked_at)
    if how != "none" and row.resident_id is None:
        raise Refused(
            "not_found",
            _("This person is not in this community's ledger. Search again or register them."),
            status=404,
        )

    # The round.
    flags: list[str] = []
    if row.round_closed_at is not None:
        if not scan.queued:
            raise Refused(
                "round_closed",
                _("This round was closed at %(time)s. Do not swab; tell the office.")
                % {"time": _clock(row.round_closed_at)},
                status=409,
                uid=str(scan.uid),
            )
        if scan.at > row.round_closed_at:
            flags.append("after_close")
    elif not scan.queued and row.round_date != timezone.localdate(now):
        raise Refused(
            "round_other_day",
            _("This round is on %(date)s, not today. Open the sampling page for today's round.")
            % {"date": date_format(row.round_date, "SHORT_DATE_FORMAT")},
            status=409,
            uid=str(scan.uid),
        )

    # Already counted this round?
    counted = True
    if row.prev_at is not None:
        if not scan.queued:
            raise _duplicate(row.prev_at, row.prev_tube, scan.uid)
        counted = False

    # The tube.
    if row.tube_id is None and row.tube_other_round is not None and not scan.queued:
        raise Refused(
            "tube_other_round",
            _("Tube %(tube)s was used in another round. Take a new tube.") % {"tube": scan.tube},
            status=409,
            uid=str(scan.uid),
        )
    if row.tube_id is not None and not scan.queued:
        if row.tube_result != TubeResult.PENDING:
            raise Refused(
                "tube_closed",
                _("Tube %(tube)s has a result already. Take a new tube.") % {"tube": scan.tube},
                status=409,
                uid=str(scan.uid),
            )
        if row.tube_closed_at is not None:
            raise Refused(
                "tube_closed",
                _("Tube %(tube)s was closed. Take a new tube.") % {"tube": scan.tube},
                status=409,
                uid=str(scan.uid),
            )
        if row.tube_count >= row.tube_capacity:
            raise Refused(
                "tube_full",
                _("Tube %(tube)s is full (%(n)d). Close it and take a new tube.")
                % {"tube": scan.tube, "n": row.tube_capacity},
                status=409,
                uid=str(scan.uid),
            )

    if row.tube_id is None and row.tube_other_round is not None:
        flags.append("tube_other_round")  # queued: the swab is in it, the office sorts it out
    flags = _flags(row.point_kind, station.community_id, row.building, row.scope) + flags
    via = (
        Sample.Via.DOOR
        if scan.visit_id
        else Sample.Via.WALK_IN
        if walk_in
        else Sample.Via.PASS
        if how == "pass"
        else Sample.Via.SEARCH
    )
    values = {
        **_SAMPLE_BLANKS,
        "uid": scan.uid,
        "community_id": station.community_id,
        "round_id": row.round_id,
        "tube_id": row.tube_id,
        "resident_id": row.resident_id,
        "point_id": station.point_id,
        "sampler_id": station.user_id,
        "via": via,
        "device_at": scan.at,
        "server_at": now,
        "counted": counted,
        "flagged": "sealed_at_street" in flags,
    }
    if walk_in is not None:
        values.update(
            walk_in_name=walk_in.name,
            walk_in_id_enc=walk_in.id_enc,
            walk_in_id_index=walk_in.id_index,
            walk_in_id_masked=walk_in.id_masked,
            walk_in_phone_enc=walk_in.phone_enc,
            walk_in_phone_masked=walk_in.phone_masked,
        )
    if row.resident_id is None and walk_in is not None and counted:
        # A walk-in twice in a round (the constraint knows residents only): by ID number.
        prev = _counted_sample(row.round_id, walk_in_id_index=walk_in.id_index)
        if prev is not None:
            if not scan.queued:
                raise _duplicate(prev.device_at, prev.tube.code, scan.uid)
            values["counted"] = counted = False

    tube_count, capacity = row.tube_count, row.tube_capacity
    if row.tube_id is None or scan.visit_id:
        with transaction.atomic():
            if row.tube_id is None:
                values["tube_id"], capacity, _closed, tube_count = _open_tube(
                    station, scan, row, now
                )
            if scan.visit_id:
                values["visit_id"] = _visit(station, scan.visit_id, row.round_id, now)
            inserted = _insert(Sample, "", values)
    else:
        inserted = _insert(Sample, "", values)

    if not inserted:
        # The uid is recorded (a copy of this scan was faster), or this person was counted by
        # another device a moment ago: the constraints decided, now find out which.
        if Sample.objects.filter(uid=scan.uid).exists():
            return _stored_answer(station, scan.uid)
        prev = _counted_sample(row.round_id, resident_id=row.resident_id)
        if prev is None and not _again:  # voided in between: once more, from the start
            return record(station, scan, now=now, _again=True)
        if prev is None:
            raise Refused("busy", _("Try again."), status=409, uid=str(scan.uid))
        if not scan.queued:
            raise _duplicate(prev.device_at, prev.tube.code, scan.uid)
        values["counted"] = counted = False
        if not _insert(Sample, "", values):
            return _stored_answer(station, scan.uid)

    if row.building is not None:
        person = {
            "resident": row.resident_id,
            "name": mask_name(row.name),
            "household": household_label(row.building.name, row.unit, row.door),
        }
    else:
        person = {"resident": None, "name": mask_name(walk_in.name), "household": ""}
    tube = _tube_answer(scan.tube, tube_count + 1, capacity)
    return _answer("recorded" if counted else "duplicate_kept", scan.uid, person, tube, flags)


def _visit(station: Station, visit_id: int, round_id: int, now) -> int:
    """Mark a door-to-door visit of this round visited; its id, or Refused."""
    visit = (
        Visit.objects.filter(
            pk=visit_id,
            visit_list__round_id=round_id,
            visit_list__community_id=station.community_id,
        )
        .only("id", "status")
        .first()
    )
    if visit is None:
        raise Refused(
            "visit_unknown",
            _("This visit is not on a list of this round. Reload the visit list."),
            status=404,
        )
    Visit.objects.filter(pk=visit.pk).exclude(status=Visit.Status.VISITED).update(
        status=Visit.Status.VISITED, at=now, by_id=station.user_id
    )
    return visit.pk


# --- undo, close ------------------------------------------------------------------------------


def _user(station: Station):
    """The station's user if they may still sample in the station's round; else StationError."""
    from shouwang.accounts.models import User

    user = User.objects.filter(pk=station.user_id, is_active=True).first()
    if (
        user is None
        or user.role not in SAMPLE_ROLES
        or user.community_id != station.community_id
        or not Round.objects.filter(pk=station.round_id, community_id=station.community_id).exists()
    ):
        raise StationError()
    return user


def undo(station: Station, data, *, now=None) -> dict:
    """Void a scan of this round (the swab is thrown away or the wrong person was scanned).
    Voiding twice changes nothing; each void is an audit event."""
    if not isinstance(data, dict):
        raise _bad(_("The request is not an undo."))
    uid = _uid(data.get("uid"))
    user = _user(station)
    now = now or timezone.now()
    with transaction.atomic():
        s = (
            Sample.objects.select_for_update()
            .select_related("tube")
            .filter(uid=uid, round_id=station.round_id)
            .first()
        )
        if s is None:
            raise Refused(
                "not_found",
                _("This scan is not recorded, so there is nothing to undo."),
                status=404,
                uid=str(uid),
            )
        if s.voided_at is None:
            if s.tube.result != TubeResult.PENDING:
                raise Refused(
                    "tube_has_result",
                    _("Tube %(tube)s has a result already: its samples cannot be undone here.")
                    % {"tube": s.tube.code},
                    status=409,
                    uid=str(uid),
                )
            s.voided_at, s.voided_by = now, user
            s.save(update_fields=["voided_at", "voided_by"])
            audit(
                actor=user,
                action="screening.sample.void",
                community=station.community_id,
                target=s,
                summary=f"tube {s.tube.code}, scan {uid}",
            )
    count = Sample.objects.swabs().filter(tube_id=s.tube_id).count()
    tube = _tube_answer(s.tube.code, count, s.tube.capacity)
    return {
        "ok": True,
        "status": "voided",
        "uid": str(uid),
        "tube": tube,
        "message": _("Scan undone. Tube %(tube)s: %(count)d of %(capacity)d.")
        % {"tube": tube["code"], "count": count, "capacity": tube["capacity"]},
    }


def close(station: Station, data, *, now=None) -> dict:
    """Close a tube of this round (full, or sent off before it was full). Closing twice changes
    nothing; each close is an audit event."""
    if not isinstance(data, dict):
        raise _bad(_("The request is not a tube to close."))
    code = tube_code(data.get("tube"))
    user = _user(station)
    now = now or timezone.now()
    with transaction.atomic():
        t = Tube.objects.select_for_update().filter(round_id=station.round_id, code=code).first()
        if t is None:
            raise Refused(
                "tube_unknown",
                _("No swab is recorded in tube %(tube)s: nothing to close.") % {"tube": code},
                status=404,
            )
        if t.closed_at is None:
            t.closed_at = now
            t.save(update_fields=["closed_at"])
            audit(
                actor=user,
                action="screening.tube.close",
                community=station.community_id,
                target=t,
                summary=f"tube {code}",
            )
    count = Sample.objects.swabs().filter(tube_id=t.pk).count()
    return {
        "ok": True,
        "status": "closed",
        "tube": {**_tube_answer(code, count, t.capacity), "closed_at": t.closed_at.isoformat()},
        "message": _("Tube %(tube)s closed with %(count)d of %(capacity)d.")
        % {"tube": code, "count": count, "capacity": t.capacity},
    }


def refusal(e: DomainError, uid=None) -> dict:
    """The JSON of a refusal."""
    out = {"ok": False, "code": e.code, "message": str(e.message)}
    extra = getattr(e, "extra", {})
    if uid is not None and "uid" not in extra:
        out["uid"] = str(uid)
    out.update(extra)
    return out


def scan_json(station: Station, data, *, queued_default: bool = False) -> tuple[int, dict]:
    """One scan from its JSON: (HTTP status, answer)."""
    uid = data.get("uid") if isinstance(data, dict) else None
    try:
        return 200, record(station, parse_scan(data, queued_default=queued_default))
    except DomainError as e:
        return e.status, refusal(e, uid)


def batch(station: Station, data) -> dict:
    """The offline queue, flushed: each item (a scan, {"undo": uid}, {"close": code}) done once,
    in order, each on its own; the answers in the same order."""
    _user(station)  # a key whose user may no longer sample: the whole batch is refused (401)
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) > MAX_BATCH:
        raise _bad(_("Send at most %(n)d items at a time.") % {"n": MAX_BATCH})
    results = []
    for item in items:
        if isinstance(item, dict) and "undo" in item:
            op, arg, uid = undo, {"uid": item["undo"]}, item["undo"]
        elif isinstance(item, dict) and "close" in item:
            op, arg, uid = close, {"tube": item["close"]}, None
        else:
            results.append(scan_json(station, item, queued_default=True)[1])
            continue
        try:
            results.append(op(station, arg))
        except DomainError as e:
            results.append(refusal(e, uid))
    return {"ok": True, "results": results}
