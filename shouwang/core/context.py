"""Per-request context that services need without threading it through every call."""

from contextvars import ContextVar

from django.conf import settings

current_address: ContextVar[str | None] = ContextVar("current_address", default=None)


def client_address(meta) -> str | None:
    """The client's address. Behind SHOUWANG_TRUSTED_PROXY_HOPS reverse proxies, it is the
    address the outermost trusted proxy saw (counted from the right of X-Forwarded-For, so a
    client cannot forge it by sending its own header); otherwise REMOTE_ADDR."""
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0:
        forwarded = [a.strip() for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return meta.get("REMOTE_ADDR")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        address = client_address(request.META)
        # The sign-in locks and the SMS limits read REMOTE_ADDR: make it the client's.
        request.META["REMOTE_ADDR"] = address
        token = current_address.set(address)
        try:
            return self.get_response(request)
        finally:
            current_address.reset(token)
