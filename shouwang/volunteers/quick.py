"""A volunteer's press of "grab" answered in front of Django's middleware (config/wsgi.py).

When the hours are published every task goes in seconds (秒抢): hundreds of phones press at
once, each a small JSON POST authenticated by the grab key in a header (grabkey.py). None of
the middleware stack does anything for it, so this WSGI wrapper answers POST /volunteers/grab/
by calling the very function Django's view calls (`views.grab_quick.answer`), and hands every
other request, untouched, to Django — core/front.py's `JsonFront`, as checkpoints/quick.py.
SHOUWANG_QUICK_GRAB=0 (settings.QUICK_GRAB) turns the front off.
"""

from __future__ import annotations

from django.conf import settings

from shouwang.core.front import JsonFront
from shouwang.volunteers import grabkey
from shouwang.volunteers.views import grab_quick as views

PATHS = {views.GRAB_PATH: "grab"}


def enabled() -> bool:
    return bool(getattr(settings, "QUICK_GRAB", True))


class QuickGrab(JsonFront):
    """WSGI: the grab endpoint in front of Django's WSGI application."""

    PATHS = PATHS
    MAX_BODY = views.MAX_BODY
    enabled = staticmethod(enabled)
    json_response = staticmethod(views.json_response)

    def answer(self, op, request):
        return views.answer(request.META.get(grabkey.META), request.body)


match = QuickGrab.match
