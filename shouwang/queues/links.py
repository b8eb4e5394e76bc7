"""Addresses of the queue's public pages and streams (printed on posters and paper tickets)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def absolute(path: str, request=None) -> str:
    """`path` on the address residents reach the site at (SHOUWANG_PUBLIC_URL, else the request)."""
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


def stream_url(request, key: str, number: int | None = None) -> str:
    """The Server-Sent Events address for a sale day (and one number), as SHOUWANG_STREAM_URL
    says: same origin, the page's host on another port, or a given base URL."""
    path = reverse("queues:stream", args=[key])
    if number is not None:
        path += f"?n={int(number)}"
    base = settings.STREAM_URL
    if not base:
        return path
    if base.startswith(":"):
        scheme = "https" if request is not None and request.is_secure() else "http"
        host = request.get_host() if request is not None else "127.0.0.1"
        if not host.endswith("]") and ":" in host:
            host = host.rsplit(":", 1)[0]  # drop the page's port: the stream has its own
        return f"{scheme}://{host}{base}{path}"
    return base + path
