"""The guard page: a guard at a checkpoint scans a pass (camera or keyboard-wedge scanner) or
finds someone without one, picks in or out, types the temperature (and the health-code colour
when the policy asks), and reads the answer — allow, deny or check further — with its reasons.

    GET  /checkpoints/guard/                 pick a checkpoint (one: straight to it)
    GET  /checkpoints/guard/<pk>/            the page (holds a gate key, gatekey.py)
    GET  /checkpoints/guard/<pk>/find/?q=    people found by name, last ID digits or phone
    POST /checkpoints/pass/                  the decision: JSON in, JSON out, key in the header

The decision endpoint:

    {"uid": UUID made by the page, "at": ISO time?, "direction": "in" | "out",
     "pass": token | "resident": id, "temperature": "36.5" | null, "code_colour": "" | …}
    → 200 {"ok": true, "status": "recorded" | "replayed", "uid", "decision", "decision_label",
           "reasons": [{"code", "decision", "text"}], "person": {"resident", "name", "home"}
           | null, "level", "level_label", "direction", "temperature", "code_colour", "at",
           "pass_problem"?: {"code", "message"}}
    refusals {"ok": false, "code", "message", "field"?}: 400 (bad_request, invalid, pass_empty),
    401 (gate_key), 404 (not_found).

`answer()` is the whole endpoint: the view below calls it, and so does the lean WSGI front
(checkpoints/quick.py) that answers the path in production without the middleware.
"""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from shouwang.accounts.permissions import can
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.checkpoints import decision as service
from shouwang.checkpoints import gatekey
from shouwang.checkpoints.models import Checkpoint, CodeColour, Decision, Direction, Passage
from shouwang.checkpoints.services import policy_for
from shouwang.core.errors import DomainError
from shouwang.core.masking import mask_name_initial
from shouwang.core.views import capability_required
from shouwang.registry import selectors as ledger
from shouwang.residents.services import place_label

MAX_BODY = 4096
FIND_LIMIT = 20
RECENT = 20
PASS_PATH = "/checkpoints/pass/"


# --- the decision endpoint ---------------------------------------------------------------------


def _bad_json() -> DomainError:
    from django.utils.translation import gettext

    return service.Refused("bad_request", gettext("The request is not JSON."))


def answer(key: str | None, body: bytes) -> tuple[int, dict, str]:
    """(HTTP status, JSON answer, language) for one request to the decision endpoint."""
    try:
        gate = gatekey.verify(key)
    except gatekey.GateKeyError as e:
        return e.status, service._scan.refusal(e), translation.get_language()
    data = None
    with translation.override(gate.language):
        try:
            if len(body) > MAX_BODY:
                raise _bad_json()
            try:
                data = json.loads(body)
            except ValueError:
                raise _bad_json() from None
            status, out = 200, service.record(gate, data)
        except DomainError as e:
            uid = data.get("uid") if isinstance(data, dict) else None
            status, out = e.status, service._scan.refusal(e, uid)
        return status, out, gate.language


def json_response(status: int, out: dict, language: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(out, ensure_ascii=False, separators=(",", ":")),
        content_type="application/json",
        status=status,
    )
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response


@csrf_exempt
@require_POST
def pass_(request):
    status, out, language = answer(request.META.get(gatekey.META), request.body)
    return json_response(status, out, language)


# --- the pages ---------------------------------------------------------------------------------


def _checkpoints(user):
    return scope_queryset(user, Checkpoint.objects.filter(is_active=True)).select_related(
        "compound"
    )


@never_cache
@capability_required("checkpoints.guard")
def guard(request):
    checkpoints = list(_checkpoints(request.user))
    if len(checkpoints) == 1:
        return redirect("checkpoints:guard_at", pk=checkpoints[0].pk)
    return render(request, "checkpoints/guard_pick.html", {"checkpoints": checkpoints})


def page_strings() -> dict:
    """Everything guard.js shows, translated here: the script holds no user-facing text."""
    return {
        "checking": _("Checking …"),
        "offline_title": _("No answer"),
        "offline": _(
            "No network or the server did not answer. Decide by the paper sheet and the ID card; "
            "try again."
        ),
        "failed": _("The server could not decide. Try again."),
        "gate_key": _("The guard page has expired or you are signed out. Open it again."),
        "no_pass": _("Scan a pass, or find the person first."),
        "all_clear": _("All clear."),
        "in": _("In"),
        "out": _("Out"),
        "find_empty": _("Nobody matches. Try the surname, the last 4 ID digits or the phone."),
        "find_offline": _("Search needs the network."),
        "pick": _("Check this person"),
        "decisions": {d.value: str(d.label) for d in Decision},
        "colours": {c.value: str(c.label) for c in CodeColour},
        "sound_on": _("Sound on"),
        "sound_off": _("Sound off"),
        "camera_starting": _("Starting the camera …"),
        "camera_ready": _("Hold the pass's QR in the frame."),
        "camera_denied": _("The camera is not allowed: allow it in the browser, or type the code."),
        "camera_missing": _("No camera found: type the code or use a hand scanner."),
        "camera_failed": _("The camera did not start: type the code or use a hand scanner."),
        "camera_insecure": _("The camera needs a secure (https) connection."),
    }


def _recent(checkpoint) -> list[dict]:
    rows = (
        Passage.objects.filter(checkpoint=checkpoint)
        .select_related("resident__household__dwelling__unit", "resident__household__building")
        .order_by("-at", "-pk")[:RECENT]
    )
    out = []
    for p in rows:
        r = p.resident
        out.append(
            {
                "at": p.at,
                "decision": p.decision,
                "decision_label": Decision(p.decision).label,
                "direction": Direction(p.direction).label,
                "name": mask_name_initial(r.name) if r else "",
                "home": service.home_label(
                    r.household.building.name,
                    r.household.dwelling.unit.name if r.household.dwelling.unit_id else "",
                    r.household.dwelling.door,
                )
                if r
                else "",
                "reasons": [service.reason_label(c) for c in p.reasons.split(",") if c],
            }
        )
    return out


def _rules_help(rules) -> list[tuple[str, str]]:
    """The rules table shown on the page (the same as docs/pass-decision.md)."""
    rows = [
        (_("Home sealed or close-contact building"), _("Out: deny. In: check further.")),
        (_("Home under control"), _("Out (leaving the compound): deny. In: allow.")),
        (_("Home in a precaution area"), _("Shown only.")),
        (
            _("Temperature"),
            _("%(t)s °C or more: deny. Not taken: check further.") % {"t": rules.fever_at},
        ),
        (
            _("Positive or awaiting re-test"),
            _("Positive within %(d)s days, or a pooled tube to re-test: deny.")
            % {"d": rules.positive_days},
        ),
    ]
    if rules.test_hours:
        rows.append(
            (
                _("Negative test"),
                _("None within %(h)s hours: check further (a sample awaiting its result counts).")
                % {"h": rules.test_hours}
                + (" " + str(_("Antigen self-tests count."))) * rules.antigen_counts,
            )
        )
    rows.append(
        (
            _("Health code seen"),
            _("Red: deny. Yellow: check further.")
            + (" " + str(_("Not entered: check further."))) * rules.ask_health_code,
        )
    )
    rows.append((_("Pass refused"), _("Check further: identify by ID card or search.")))
    return rows


@never_cache
@capability_required("checkpoints.guard")
def guard_at(request, pk: int):
    checkpoint = get_scoped(request.user, Checkpoint.objects.select_related("compound"), pk)
    policy = policy_for(checkpoint.community_id)
    rules = service.Rules.of(policy)
    active = checkpoint.is_active
    config = {
        "checkpoint": checkpoint.pk,
        "key": gatekey.issue(request.user, checkpoint) if active else "",
        "header": gatekey.HEADER,
        "ask_code": rules.ask_health_code,
        "urls": {"pass": PASS_PATH, "find": reverse("checkpoints:guard_find", args=[pk])},
        "strings": page_strings(),
    }
    return render(
        request,
        "checkpoints/guard.html",
        {
            "checkpoint": checkpoint,
            "active": active,
            "rules": rules,
            "rules_help": _rules_help(rules),
            "colours": CodeColour.choices,
            "recent": _recent(checkpoint),
            "config": config,
            "can_search": can(request.user, "checkpoints.guard"),
        },
    )


@require_GET
@capability_required("checkpoints.guard")
def guard_find(request, pk: int):
    """People found by name, last ID digits or phone (the ledger's search and its scope), names
    masked; ID and phone (masked) only for those who may search the ledger."""
    get_scoped(request.user, Checkpoint.objects.all(), pk)
    q = request.GET.get("q", "").strip()
    if not q:
        return JsonResponse({"results": []})
    show_ids = can(request.user, "ledger.search")
    out = []
    for r in ledger.resident_search(request.user, q=q, limit=FIND_LIMIT):
        row = {
            "resident": r.pk,
            "name": mask_name_initial(r.name),
            "home": place_label(r.household),
            "birth_year": r.birth_date.year if r.birth_date else None,
        }
        if show_ids:
            row["id_number"] = r.id_number_masked
            row["phone"] = r.phone_masked
        out.append(row)
    return JsonResponse({"results": out})


urlpatterns = [
    path("checkpoints/guard/", guard, name="guard"),
    path("checkpoints/guard/<int:pk>/", guard_at, name="guard_at"),
    path("checkpoints/guard/<int:pk>/find/", guard_find, name="guard_find"),
    path(PASS_PATH.lstrip("/"), pass_, name="pass"),
]
