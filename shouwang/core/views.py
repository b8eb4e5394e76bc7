"""Small helpers shared by HTML views."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from shouwang.core.errors import DomainError, Forbidden, NotFound


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


def back_to(request, default: str) -> str:
    """Where to go after a POST: the `next` the page sent when it is ours, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def press(request, fn, ok_message, *args, **kwargs) -> bool:
    """Run a service on a button press: a refusal of the row itself (not yours, not found) is a
    403/404 page; any other refusal is a message on the page the button was on. True when it
    went through."""
    try:
        fn(*args, **kwargs)
    except (Forbidden, NotFound):
        raise
    except DomainError as e:
        messages.error(request, str(e.message))
        return False
    messages.success(request, ok_message)
    return True
