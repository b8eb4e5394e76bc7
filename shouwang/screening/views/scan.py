"""The scan endpoints the sampling page calls: JSON in, JSON out, authenticated by the station key
in the `X-Shouwang-Station` header (station.py) — no session, so no CSRF token either.

    POST /screening/scan/         a scan          → {"ok": true, "status": "recorded" | "replayed"
                                                      | "duplicate_kept", "uid", "person", "tube",
                                                      "flags", "message"}
    POST /screening/scan/undo/    {"uid", "at"}   → {"ok": true, "status": "voided", "tube", …}
    POST /screening/scan/close/   {"tube", "at"}  → {"ok": true, "status": "closed", "tube", …}
    POST /screening/scan/batch/   {"items": […]}  → {"ok": true, "results": […]} (queued by default)

Refusals: {"ok": false, "code", "message", "uid"?} with 400 (bad_request, invalid, pass_*), 401
(station), 404 (pass_unknown, pass_elsewhere, not_found, tube_unknown, visit_unknown), 409
(duplicate, tube_full, tube_closed, tube_other_round, round_closed, round_other_day,
tube_has_result). Messages are in the station's language.

`answer()` is the whole endpoint: Django's views below call it, and so does the lean WSGI front
(screening/quick.py) that answers these paths in production without the middleware.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.urls import path
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shouwang.core.errors import DomainError
from shouwang.screening import scan as service
from shouwang.screening.station import StationError, verify

MAX_BODY = 1024 * 1024  # a batch of 500 scans is about 150 kB
OPS = ("scan", "undo", "close", "batch")


def _bad_json() -> DomainError:
    from django.utils.translation import gettext as _

    return service.Refused("bad_request", _("The request is not JSON."))


def answer(op: str, key: str | None, body: bytes) -> tuple[int, dict, str]:
    """(HTTP status, JSON answer, language) for one request to an endpoint."""
    try:
        station = verify(key)
    except StationError as e:
        return e.status, service.refusal(e), translation.get_language()
    data = None
    with translation.override(station.language):
        try:
            if len(body) > MAX_BODY:
                raise _bad_json()
            try:
                data = json.loads(body)
            except ValueError:
                raise _bad_json() from None
            if op == "scan":
                status, out = service.scan_json(station, data)
            elif op == "undo":
                status, out = 200, service.undo(station, data)
            elif op == "close":
                status, out = 200, service.close(station, data)
            else:
                status, out = 200, service.batch(station, data)
        except DomainError as e:
            uid = data.get("uid") if op == "undo" and isinstance(data, dict) else None
            status, out = e.status, service.refusal(e, uid)
        return status, out, station.language


def json_response(status: int, out: dict, language: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(out, ensure_ascii=False, separators=(",", ":")),
        content_type="application/json",
        status=status,
    )
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response


def _endpoint(op: str):
    @csrf_exempt
    @require_POST
    def view(request):
        status, out, language = answer(op, request.headers.get("X-Shouwang-Station"), request.body)
        return json_response(status, out, language)

    view.__name__ = view.__qualname__ = f"scan_{op}"
    return view


scan = _endpoint("scan")
scan_undo = _endpoint("undo")
scan_close = _endpoint("close")
scan_batch = _endpoint("batch")

urlpatterns = [
    path("screening/scan/", scan, name="scan"),
    path("screening/scan/undo/", scan_undo, name="scan_undo"),
    path("screening/scan/close/", scan_close, name="scan_close"),
    path("screening/scan/batch/", scan_batch, name="scan_batch"),
]
