"""The scanner page: guards, samplers and volunteers check passes at a gate or a queue.

Three ways in, one service (`services.pass_resolve`): a keyboard-wedge scanner or a person typing
into the input, the phone camera (both post to /api/v1/passes/resolve from scan.js), and, without
JavaScript, a plain GET form (`?token=…`) answered here.
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from shouwang.accounts.permissions import can
from shouwang.core.views import capability_required
from shouwang.registry.models import Presence
from shouwang.residents import services
from shouwang.residents.api import scanner_community

# The headline of a refused scan, by PassRefused.code; the service's message says what to do.
REFUSAL_TITLES = {
    "pass_empty": _("Nothing scanned"),
    "pass_unreadable": _("Not a Shouwang pass"),
    "pass_forged": _("Code does not check out"),
    "pass_unknown": _("Unknown pass"),
    "pass_revoked": _("Pass revoked"),
    "pass_elsewhere": _("Another community's pass"),
}
REFUSED = _("Not valid")


def page_strings() -> dict:
    """Everything scan.js shows, translated here (JavaScript holds no user-facing text)."""
    return {
        "ok": _("Pass valid"),
        "refused": REFUSED,
        "titles": REFUSAL_TITLES,
        "age": _("%(age)s years old"),
        "presence": {p.value: p.label for p in Presence},
        "checking": _("Checking …"),
        "offline_title": _("Not checked"),
        "offline": _(
            "No connection: the scan did not reach the server. Check the network and scan again."
        ),
        "signed_out": _("You are signed out. Sign in again, then scan again."),
        "stale": _("This page is out of date. Reload it, then scan again."),
        "failed": _("The server could not check this pass. Scan again in a moment."),
        "camera_starting": _("Starting the camera …"),
        "camera_ready": _("Hold the pass QR in the frame."),
        "camera_denied": _(
            "The camera is not allowed. Allow it in the browser's site settings, or type the code."
        ),
        "camera_missing": _("No camera was found. Type the code under the QR instead."),
        "camera_failed": _("The camera could not start. Type the code under the QR instead."),
        "camera_insecure": _("The camera works only over a secure (https) connection."),
        "sound_on": _("Sound on"),
        "sound_off": _("Sound off"),
    }


@never_cache
@capability_required("passes.scan")
def scan(request):
    result = None
    if "token" in request.GET:
        community_id = scanner_community(request.user)
        try:
            holder = services.pass_resolve(request.GET["token"], community_id=community_id)
        except services.PassRefused as e:
            result = {
                "ok": False,
                "code": e.code,
                "title": REFUSAL_TITLES.get(e.code, REFUSED),
                "message": e.message,
            }
        else:
            result = {
                "ok": True,
                "holder": holder,
                "presence_label": Presence(holder.presence).label
                if holder.presence in Presence.values
                else holder.presence,
            }
        result["at"] = timezone.localtime()
    return render(
        request,
        "residents/scan.html",
        {
            "result": result,
            "strings": page_strings(),
            "api_url": reverse("api:passes_resolve"),
            "search_url": reverse("registry:search") if can(request.user, "ledger.search") else "",
        },
    )
