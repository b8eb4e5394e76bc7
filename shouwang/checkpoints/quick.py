"""The pass decision answered in front of Django's middleware (config/wsgi.py).

A checkpoint at the morning rush is a guard scanning a pass every few seconds, at every gate of
the community at once; each scan is a small JSON POST authenticated by the gate key in a header
(gatekey.py). None of the middleware stack does anything for it, so this WSGI wrapper answers
POST /checkpoints/pass/ by calling the very function Django's view calls
(`views.guard.answer`), and hands every other request, untouched, to Django.

The front itself — what it keeps from the stack (request_started / request_finished, the
client's address, the security headers, Django's 500 handling) and which requests it leaves to
Django — is core/front.py's `JsonFront`, as for screening/quick.py; a request it does not take
is answered the same way through views/guard.py. SHOUWANG_QUICK_PASS=0 (settings.QUICK_PASS)
turns the front off.
"""

from __future__ import annotations

from django.conf import settings

from shouwang.checkpoints import gatekey
from shouwang.checkpoints.views import guard as views
from shouwang.core.front import JsonFront

PATHS = {views.PASS_PATH: "pass"}


def enabled() -> bool:
    return bool(getattr(settings, "QUICK_PASS", True))


class QuickPass(JsonFront):
    """WSGI: the decision endpoint in front of Django's WSGI application."""

    PATHS = PATHS
    MAX_BODY = views.MAX_BODY
    enabled = staticmethod(enabled)
    json_response = staticmethod(views.json_response)

    def answer(self, op, request):
        return views.answer(request.META.get(gatekey.META), request.body)


match = QuickPass.match
