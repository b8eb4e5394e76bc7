"""Staff sessions end after 30 minutes idle and 12 hours in all, whatever the cookie says."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

_STARTED = "_sw_started"
_SEEN = "_sw_seen"


class SessionExpiryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if _STARTED not in request.session:
                mark_session_start(request)
            now = int(time.time())
            session = request.session
            if (
                now - session.get(_SEEN, now) > settings.SESSION_IDLE_SECONDS
                or now - session[_STARTED] > settings.SESSION_ABSOLUTE_SECONDS
            ):
                logout(request)
                if not request.path.startswith("/api/"):
                    # Say why on the login page, and come back here afterwards.
                    login_url = reverse(settings.LOGIN_URL)
                    query = urlencode({"expired": 1, "next": request.get_full_path()})
                    return redirect(f"{login_url}?{query}")
            elif now - session.get(_SEEN, 0) >= 60:
                # Refresh at most once a minute so that every page view is not a session write.
                session[_SEEN] = now
        return self.get_response(request)


def mark_session_start(request) -> None:
    now = int(time.time())
    request.session[_STARTED] = now
    request.session[_SEEN] = now
