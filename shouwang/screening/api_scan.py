"""Scans over the API (/api/v1/screening/), for scripts with a Bearer token (or a session): the
same operations as the sampling page's endpoints (views/scan.py), done by the same functions
(scan.py). A script has no station key: it names the round (and the point) in the body, and its
user must be allowed to sample (`screening.sample`) in the round's community.

    POST /api/v1/screening/scan        {"round": id, "point": id?, <a scan as for the page>}
    POST /api/v1/screening/scan/undo   {"round": id, "uid": …}
    POST /api/v1/screening/scan/close  {"round": id, "tube": code}
    POST /api/v1/screening/scan/batch  {"round": id, "point": id?, "items": […]}

Answers as the page's (200 with `ok: true`); refusals in the API's error shape
`{"error": {"code", "message", "fields", …}}` with the same codes and statuses (the scan's extras,
such as a duplicate's time and tube, inside `error`).
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Body, Router, Status
from ninja.errors import HttpError

from shouwang.accounts.permissions import require
from shouwang.core.errors import DomainError, NotFound
from shouwang.screening import scan as service
from shouwang.screening.models import Round, SamplingPoint
from shouwang.screening.station import Station

router = Router(tags=["screening"])


def _station(request, data) -> Station:
    require(request.auth, "screening.sample")
    if not isinstance(data, dict):
        raise HttpError(400, "body must be a JSON object")
    user = request.auth
    try:
        round_id = int(data.get("round"))
    except (TypeError, ValueError):
        raise service.Refused("bad_request", _("Say which round: `round`.")) from None
    if not Round.objects.filter(pk=round_id, community_id=user.community_id).exists():
        raise NotFound("not_found", _("No such round in your community."))
    point_id = data.get("point")
    if point_id is not None:
        if not SamplingPoint.objects.filter(pk=point_id, community_id=user.community_id).exists():
            raise NotFound("not_found", _("No such sampling point in your community."))
    return Station(user.pk, user.community_id, round_id, point_id, translation.get_language())


def _refused(status: int, out: dict):
    extra = {k: v for k, v in out.items() if k not in ("ok", "code", "message")}
    return Status(
        status, {"error": {"code": out["code"], "message": out["message"], "fields": {}, **extra}}
    )


def _run(op, request, data):
    station = _station(request, data)
    try:
        return Status(200, op(station, data))
    except DomainError as e:
        return _refused(e.status, service.refusal(e))


@router.post("/scan", url_name="screening_scan", summary="Record a scan (see the sampling page)")
def scan(request, data: dict = Body(...)):
    """Answers `recorded`, `replayed` (this uid was recorded before) or `duplicate_kept`; refuses
    with `duplicate`, `tube_full`, `round_closed`, `pass_*` … as the sampling page's endpoint."""
    station = _station(request, data)
    status, out = service.scan_json(station, data)
    return Status(status, out) if out.get("ok") else _refused(status, out)


@router.post("/scan/undo", url_name="screening_scan_undo", summary="Void a scan (idempotent)")
def scan_undo(request, data: dict = Body(...)):
    return _run(service.undo, request, data)


@router.post("/scan/close", url_name="screening_scan_close", summary="Close a tube (idempotent)")
def scan_close(request, data: dict = Body(...)):
    return _run(service.close, request, data)


@router.post("/scan/batch", url_name="screening_scan_batch", summary="Several scans, in order")
def scan_batch(request, data: dict = Body(...)):
    """Items: scans (queued unless they say otherwise), {"undo": uid}, {"close": code}."""
    return _run(service.batch, request, data)
