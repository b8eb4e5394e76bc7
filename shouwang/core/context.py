"""Per-request context that services need without threading it through every call."""

from contextvars import ContextVar

current_address: ContextVar[str | None] = ContextVar("current_address", default=None)


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_address.set(request.META.get("REMOTE_ADDR"))
        try:
            return self.get_response(request)
        finally:
            current_address.reset(token)
