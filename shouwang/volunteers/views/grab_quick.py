"""Grabbing a place from the phone in one JSON request: the endpoint behind the "grab" buttons
of the list of tasks (static/js/volunteer-grab.js), authenticated by the grab key the page holds
(grabkey.py) in the header `X-Shouwang-Grab`.

    POST /volunteers/grab/   {"task": id}
    → 200 {"ok": true, "status": "taken" | "waiting", "signup", "task", "position" (waiting:
           1 = next in line, else null), "replayed" (a retry: the place already held),
           "message"}
    refusals {"ok": false, "status": "refused", "code", "message"} in the key's language:
    400 (bad_request), 401 (grab_key: open the page again), 403 / 409 (the task's rules:
    not_approved, not_active, team_only, skill, no_show_limit, rest_rule, not_grabbable,
    cancelled, started, over), 404 (not_found).

`answer()` is the whole endpoint: this view calls it, and so does the lean WSGI front
(volunteers/quick.py) that answers the path in production without the middleware. The rules
are tasks.py's (`tasks.take`, the same as `tasks.grab`).
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shouwang.core.errors import DomainError
from shouwang.volunteers import grabkey, tasks

GRAB_PATH = "/volunteers/grab/"
MAX_BODY = 1024


def refusal(e: DomainError) -> dict:
    return {"ok": False, "status": "refused", "code": e.code, "message": str(e.message)}


def _bad() -> DomainError:
    return DomainError("bad_request", _('Send the task to grab as {"task": its number}.'))


def _task_id(body: bytes) -> int:
    if len(body) > MAX_BODY:
        raise _bad()
    try:
        data = json.loads(body)
    except ValueError:
        raise _bad() from None
    task = data.get("task") if isinstance(data, dict) else None
    if isinstance(task, bool) or not isinstance(task, int | str):
        raise _bad()
    try:
        task = int(task)
    except ValueError:
        raise _bad() from None
    if not 0 < task < 2**31:
        raise _bad()
    return task


def answer_of(g: tasks.Grabbed) -> dict:
    if g.status == "taken":
        message = _("You have a place on “%(task)s”, %(when)s. Come on time!") % {
            "task": g.title,
            "when": timezone.localtime(g.starts_at).strftime("%m-%d %H:%M"),
        }
    elif g.status == "waiting":
        message = _(
            "All places are taken: you are number %(n)s on the waiting list. You get a place "
            "when someone cancels."
        ) % {"n": g.position}
    else:  # pragma: no cover - take() gives a live signup
        message = ""
    return {
        "ok": True,
        "status": g.status,
        "signup": g.signup_id,
        "task": g.task_id,
        "position": g.position,
        "replayed": not g.created,
        "message": message,
    }


def answer(key: str | None, body: bytes) -> tuple[int, dict, str]:
    """(HTTP status, JSON answer, language) for one request to the grab endpoint."""
    try:
        k = grabkey.verify(key)
    except grabkey.GrabKeyError as e:
        return e.status, refusal(e), translation.get_language()
    with translation.override(k.language):
        try:
            g = tasks.take(
                k.volunteer_id, _task_id(body), user_id=k.user_id, community_id=k.community_id
            )
            return 200, answer_of(g), k.language
        except DomainError as e:
            return e.status, refusal(e), k.language


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
def grab_quick(request):
    status, out, language = answer(request.META.get(grabkey.META), request.body)
    return json_response(status, out, language)


urlpatterns = [path(GRAB_PATH.lstrip("/"), grab_quick, name="grab_quick")]
