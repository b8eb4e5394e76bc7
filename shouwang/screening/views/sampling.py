"""The sampling page: samplers at a point (a phone, or a PC with a keyboard-wedge scanner) scan a
tube, then each person's pass, and the page answers at once.

The page holds a station key (`station.issue`) that its JavaScript sends with every scan to the
scan endpoint (`views/scan.py`, a header, not a cookie). Scans are kept on the device first and
sent when the network allows (static/js/sampling.js), and a service worker (`sw`, below) keeps
the last rendered page and its static files so that a reload while offline still opens it.
"""

from __future__ import annotations

import hashlib
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shouwang.accounts.permissions import can
from shouwang.accounts.scope import get_scoped
from shouwang.core.masking import mask_name_initial
from shouwang.core.views import capability_required
from shouwang.registry import selectors as ledger
from shouwang.registry.models import Presence
from shouwang.residents.services import place_label
from shouwang.screening.models import Round, Sample, Visit, VisitList

SW_SOURCE = "js/sampling-sw.js"
FIND_LIMIT = 20


def _round_for(user, pk) -> Round:
    return get_scoped(user, Round.objects.all(), pk)


def page_strings() -> dict:
    """Everything sampling.js shows, translated here: the script holds no user-facing text."""
    return {
        "online": _("Online"),
        "offline": _("Offline"),
        "pending": _("%(n)s waiting to be sent"),
        "all_sent": _("All scans sent"),
        "scan_tube": _("Scan a tube barcode to start."),
        "next_tube": _("Tube full. Scan the next tube."),
        "tube_open": _("Tube %(code)s open: scan people."),
        "tube_continued": _("Tube %(code)s continued."),
        "tube_closed": _("Tube %(code)s closed."),
        "no_tube": _("Scan a tube first"),
        "no_tube_help": _("This is a pass: scan the tube's barcode before the first person."),
        "recorded": _("Sampled"),
        "saved": _("Saved on this phone"),
        "saved_help": _("No network: kept on this phone as %(code)s and sent when it returns."),
        "sending": _("Sending …"),
        "refused": _("Do not swab"),
        "not_counted": _("Kept, not counted"),
        "local_dup": _("Already scanned on this phone at %(time)s in tube %(tube)s."),
        "undone": _("Undone: %(name)s"),
        "nothing_to_undo": _("Nothing to undo."),
        "station": _(
            "The sampling page has expired or you are signed out. Open the sampling page "
            "again (online) — the scans kept on this phone are not lost."
        ),
        "failed": _("The server could not record this scan; it is kept and will be sent again."),
        "walk_in": _("Registered on the spot"),
        "find_empty": _("Nobody matches. Try the surname, the last 4 ID digits or the phone."),
        "find_offline": _("Search needs the network. Scan the pass, or register on the spot."),
        "find_sampled": _("sampled %(time)s"),
        "pick": _("Sample"),
        "walk_in_missing": _("Enter the name and the ID number."),
        "walk_in_bad_id": _("This ID number does not check out: look at it again."),
        "visit_saved": _("Saved: %(status)s"),
        "flags": {
            "sealed_at_street": _("From a sealed building — at a street point"),
            "out_of_scope": _("Not in this round's area"),
            "duplicate": _("Already sampled this round"),
        },
        "statuses": {
            "recorded": _("recorded"),
            "replayed": _("recorded"),
            "duplicate_kept": _("kept, not counted (sampled before)"),
            "pending": _("on this phone"),
            "refused": _("refused"),
            "undone": _("undone"),
        },
    }


def _visit_list(request, round_: Round):
    raw = request.GET.get("visit_list")
    if not raw:
        return None, []
    vl = get_scoped(request.user, VisitList.objects.filter(round=round_), raw)
    visits = list(
        Visit.objects.filter(visit_list=vl)
        .select_related(
            "household__dwelling__unit", "household__building__compound", "household__head"
        )
        .order_by("household__building_id", "household__dwelling_id", "id")
    )
    for v in visits:
        v.place = place_label(v.household)
        v.head_masked = mask_name_initial(v.household.head.name) if v.household.head else ""
        v.record_url = reverse("screening:visit_record", args=[v.pk])
    return vl, visits


@never_cache
@capability_required("screening.sample")
def sample(request, pk: int):
    from shouwang.screening import station

    round_ = _round_for(request.user, pk)
    points = list(round_.points.filter(active=True).order_by("name"))
    point = None
    raw_point = request.GET.get("point")
    if raw_point:
        point = next((p for p in points if str(p.pk) == raw_point), None)
        if point is None:
            raise Http404
    elif len(points) == 1:
        point = points[0]
    elif len(points) > 1:
        return render(
            request,
            "screening/sample_points.html",
            {"round": round_, "points": points, "query": request.GET.urlencode()},
        )
    visit_list, visits = _visit_list(request, round_)
    closed = round_.closed_at is not None
    key = "" if closed else station.issue(request.user, round_, point)
    config = {
        "round": round_.pk,
        "user": request.user.pk,
        "point": point.pk if point else None,
        "pool_size": round_.pool_size,
        "station": key,
        "visit_list": visit_list.pk if visit_list else None,
        "csrf": get_token(request),
        "urls": {
            # The scan endpoint's paths are the contract with views/scan.py (brief).
            "scan": "/screening/scan/",
            "undo": "/screening/scan/undo/",
            "close": "/screening/scan/close/",
            "batch": "/screening/scan/batch/",
            "find": reverse("screening:find", args=[round_.pk]),
            "sw": reverse("screening:sw"),
        },
        "strings": page_strings(),
    }
    return render(
        request,
        "screening/sample.html",
        {
            "round": round_,
            "point": point,
            "points": points,
            "closed": closed,
            "visit_list": visit_list,
            "visits": visits,
            "visit_statuses": [s for s in Visit.Status if s != Visit.Status.PENDING],
            "config": config,
            "can_search": True,
        },
    )


@require_GET
@capability_required("screening.sample")
def find(request, pk: int):
    """People to sample found by name, last ID digits or phone: the ledger's search and its scope
    (a grid leader finds their grid), names masked; ID and phone (masked) only for those who may
    search the ledger. `sampled_at`: counted in this round already, with the device's time."""
    round_ = _round_for(request.user, pk)
    q = request.GET.get("q", "").strip()
    if not q:
        return JsonResponse({"results": []})
    sampled = (
        Sample.objects.counting()
        .filter(round=round_, resident=OuterRef("pk"))
        .values("device_at")[:1]
    )
    found = ledger.resident_search(request.user, q=q, limit=FIND_LIMIT).annotate(
        sampled_at=Subquery(sampled)
    )
    show_ids = can(request.user, "ledger.search")
    out = []
    for r in found:
        row = {
            "resident": r.pk,
            "name": mask_name_initial(r.name),
            "household": place_label(r.household),
            "birth_year": r.birth_date.year if r.birth_date else None,
            "presence": "" if r.presence == Presence.PRESENT else Presence(r.presence).label,
            "sampled_at": timezone.localtime(r.sampled_at).isoformat() if r.sampled_at else None,
        }
        if show_ids:
            row["id_number"] = r.id_number_masked
            row["phone"] = r.phone_masked
        out.append(row)
    return JsonResponse({"results": out})


@cache
def _sw_source() -> tuple[bytes, str]:
    found = finders.find(SW_SOURCE)
    if found:
        with open(found, "rb") as f:
            body = f.read()
    else:  # a deployment with collected static files only
        from django.contrib.staticfiles.storage import staticfiles_storage

        with staticfiles_storage.open(SW_SOURCE) as f:
            body = f.read()
    return body, hashlib.sha256(body).hexdigest()[:12]


@require_GET
def sw(request):
    """The service worker, served under /screening/ so that its scope covers the sampling pages
    (a script under /static/ could only control /static/). Public: it is code, not data. The
    version makes the browser install a new worker (and drop the old caches) on a deploy."""
    if settings.DEBUG:
        _sw_source.cache_clear()
    body, version = _sw_source()
    head = f'const VERSION = "{version}";\n'.encode()
    resp = HttpResponse(head + body, content_type="text/javascript; charset=utf-8")
    resp["Cache-Control"] = "no-cache"
    return resp


urlpatterns = [
    path("screening/rounds/<int:pk>/sample/", sample, name="sample"),
    path("screening/rounds/<int:pk>/find/", find, name="find"),
    path("screening/sw.js", sw, name="sw"),
]
