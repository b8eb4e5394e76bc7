"""Part of the screening app's permission matrix (see tests/matrix.py)."""

from __future__ import annotations

EXPECTED: dict = {}
BODIES: dict = {}


def rows(personas, ledger, made: dict) -> dict:
    """Rows for this part's path parameters; `made` holds the rows of the parts before it
    (rounds, then sampling, then coverage)."""
    return {**_scan_rows(personas, ledger)}


# --- the scan endpoints (views/scan.py) and their API (api_scan.py) ---------------------------
# The page's endpoints authenticate with the station key header, never a session: without one,
# everybody gets 401 (test_scan.py covers the key). The API: screening.sample, in a round of the
# caller's community (the outsider gets a 404).
_SCAN = {}  # ids the bodies below need, made by _scan_rows for each walk


def _scan_entries() -> dict:
    from shouwang.core.tests.matrix_policy import NOBODY, Policy

    sample = frozenset({"admin", "staff", "grid_leader", "sampler", "volunteer"})
    page = {"allowed": NOBODY, "method": "POST", "status": 401, "post_only": True}
    return {
        "screening:scan": Policy(**page, data="sc_scan_json"),
        "screening:scan_undo": Policy(**page, data="sc_undo_json"),
        "screening:scan_close": Policy(**page, data="sc_close_json"),
        "screening:scan_batch": Policy(**page, data="sc_batch_json"),
        "POST api/v1/screening/scan": Policy(sample, data="sc_api_scan_json"),
        "POST api/v1/screening/scan/undo": Policy(sample, data="sc_api_undo_json"),
        "POST api/v1/screening/scan/close": Policy(sample, data="sc_api_close_json"),
        "POST api/v1/screening/scan/batch": Policy(sample, data="sc_api_batch_json"),
    }


def _scan_rows(personas, ledger) -> dict:
    """A round of today with a tube holding r1's sample (to undo, to close)."""
    import datetime as dt
    import uuid

    from django.utils import timezone

    from shouwang.screening import scan, station
    from shouwang.screening.models import Round

    community = personas["admin"].community
    round_ = Round.objects.create(
        community=community,
        number=901,
        date=timezone.localdate(),
        starts_at=dt.time(0),
        ends_at=dt.time(23, 59),
        note="matrix: scans",
    )
    st = station.verify(station.issue(personas["admin"], round_))
    body = {**_scan_body(ledger["r1"].pk), "tube": "MX-1"}
    scan.record(st, scan.parse_scan(body))
    _SCAN.update(round=round_.pk, uid=body["uid"], r2=ledger["r2"].pk, r3=ledger["r3"].pk)
    assert uuid.UUID(body["uid"])
    return {"sc_scan_round": round_}


def _scan_body(resident_id: int) -> dict:
    import uuid

    from django.utils import timezone

    return {
        "uid": str(uuid.uuid4()),
        "at": timezone.now().isoformat(),
        "tube": "MX-2",
        "capacity": 10,
        "resident": resident_id,
    }


def _api(body: dict) -> tuple[str, dict]:
    return "json", {"round": _SCAN["round"], **body}


BODIES.update(
    {
        "sc_scan_json": lambda: ("json", _scan_body(_SCAN["r2"])),
        "sc_undo_json": lambda: ("json", {"uid": _SCAN["uid"]}),
        "sc_close_json": lambda: ("json", {"tube": "MX-1"}),
        "sc_batch_json": lambda: ("json", {"items": [_scan_body(_SCAN["r3"])]}),
        "sc_api_scan_json": lambda: _api(_scan_body(_SCAN["r2"])),
        "sc_api_undo_json": lambda: _api({"uid": _SCAN["uid"]}),
        "sc_api_close_json": lambda: _api({"tube": "MX-1"}),
        "sc_api_batch_json": lambda: _api({"items": [_scan_body(_SCAN["r3"])]}),
    }
)
EXPECTED.update(_scan_entries())


# --- the sampling page, its person search and its service worker (views/sampling.py) ---------
# screening.sample, on a round of the fixture community (the outsider gets a 404); the service
# worker is code, not data: anyone.
def _sampling_page_entries() -> dict:
    from shouwang.core.tests.matrix_policy import PUBLIC, Policy

    sample = frozenset({"admin", "staff", "grid_leader", "sampler", "volunteer"})
    return {
        "screening:sample": Policy(sample, params={"pk": "sc_round"}),
        "screening:find": Policy(sample, params={"pk": "sc_round"}),
        "screening:sw": Policy(PUBLIC),
    }


EXPECTED.update(_sampling_page_entries())
