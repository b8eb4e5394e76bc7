from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.middleware import mark_session_start
from shouwang.accounts.services import login_authenticate
from shouwang.core.errors import DomainError


@require_http_methods(["GET", "POST"])
def login_view(request):
    error = None
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST":
        try:
            user = login_authenticate(
                request=request,
                username=request.POST.get("username", ""),
                password=request.POST.get("password", ""),
            )
        except DomainError as e:
            error = e.message
            status = e.status
        else:
            login(request, user)
            mark_session_start(request)
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
                next_url = ""
            return redirect(next_url or "home")
        return render(
            request, "accounts/login.html", {"error": error, "next": next_url}, status=status
        )
    return render(
        request,
        "accounts/login.html",
        {"error": error, "next": next_url, "expired": request.GET.get("expired")},
    )


@require_POST
def logout_view(request):
    logout(request)
    return redirect("accounts:login")
