"""Small helpers shared by HTML views."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from shouwang.core.errors import DomainError


def capability_required(capability: str):
    """Sign-in required, then the role's capability; domain errors become a friendly page."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            from shouwang.accounts.permissions import can

            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, capability):
                return render(request, "core/forbidden.html", status=403)
            try:
                return view(request, *args, **kwargs)
            except DomainError as e:
                return render(request, "core/error.html", {"error": e}, status=e.status)

        wrapper.capability = capability
        return wrapper

    return decorator
