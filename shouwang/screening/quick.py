"""The scan endpoints answered in front of Django's middleware (config/wsgi.py).

A mass round is thousands of scans an hour from dozens of tables at once; each is a small JSON
POST authenticated by the station key in a header. None of the middleware stack does anything
for it, so this WSGI wrapper answers POST /screening/scan/, /scan/undo/, /scan/close/ and
/scan/batch/ by calling the very function Django's views call (`views.scan.answer`), and hands
every other request, untouched, to Django.

The front itself — what it keeps from the stack (request_started / request_finished, the
client's address for the audit events of undo and close, the security headers, Django's 500
handling) and which requests it leaves to Django — is core/front.py's `JsonFront`; a request
it does not take is answered the same way through views/scan.py. SHOUWANG_QUICK_SCAN=0 turns
the front off.
"""

from __future__ import annotations

from django.conf import settings

from shouwang.core.front import JsonFront
from shouwang.screening.views import scan as views

PATHS = {
    "/screening/scan/": "scan",
    "/screening/scan/undo/": "undo",
    "/screening/scan/close/": "close",
    "/screening/scan/batch/": "batch",
}


def enabled() -> bool:
    return bool(settings.QUICK_SCAN)


class QuickScan(JsonFront):
    """WSGI: the scan endpoints in front of Django's WSGI application."""

    PATHS = PATHS
    MAX_BODY = views.MAX_BODY
    enabled = staticmethod(enabled)
    json_response = staticmethod(views.json_response)

    def answer(self, op, request):
        return views.answer(op, request.META.get("HTTP_X_SHOUWANG_STATION"), request.body)


match = QuickScan.match
