"""Residents sign in with their mobile phone and an SMS code (public pages, no staff login).

Step 1 (`signin`): type the phone; a code is sent if the number is known, and the answer is the
same for any number. Step 2 (`verify`): type the code; a right code opens a resident session
(`access.begin_with_phone`) and leads to the resident's page.

The typed phone waits for step 2 in the session, never in the page. The code is never put in
the session, a page, a log or an audit row.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.core.errors import DomainError
from shouwang.core.masking import mask_phone
from shouwang.residents import access
from shouwang.residents.otp import otp_phone, otp_request, otp_verify

SESSION_PHONE = "_sw_otp_phone"


def _address(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _code_page(request, phone: str, *, error=None, status: int = 200):
    return render(
        request,
        "residents/signin_code.html",
        {"phone_masked": mask_phone(phone), "error": error},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def signin(request):
    """GET: the phone form. POST: send a code (or, with "resend", send again to the number
    already typed) and show the code form."""
    if request.method == "GET":
        return render(request, "residents/signin.html", {"phone": ""})

    resend = bool(request.POST.get("resend"))
    phone_raw = request.session.get(SESSION_PHONE, "") if resend else request.POST.get("phone", "")
    if resend and not phone_raw:
        messages.warning(request, _("Type your mobile phone number first."))
        return redirect("residents:signin")
    try:
        phone = otp_phone(phone_raw)
    except DomainError as e:
        return render(
            request,
            "residents/signin.html",
            {"phone": str(phone_raw)[:32], "error": e.fields.get("phone", e.message)},
            status=e.status,
        )
    request.session[SESSION_PHONE] = phone
    try:
        otp_request(phone_raw=phone, address=_address(request))
    except DomainError as e:
        # A sending limit: a code may still be on its way from a moment ago, so the code form
        # is where the person can go on.
        return _code_page(request, phone, error=e.message, status=e.status)
    return _code_page(request, phone)


@require_POST
def verify(request):
    """Check the typed code; a right one signs in and leads to the resident's page."""
    phone = request.session.get(SESSION_PHONE, "")
    if not phone:
        messages.warning(
            request, _("Your sign-in was interrupted. Type your mobile phone number again.")
        )
        return redirect("residents:signin")
    try:
        phone_index = otp_verify(
            phone_raw=phone, code=request.POST.get("code", ""), address=_address(request)
        )
    except DomainError as e:
        return _code_page(request, phone, error=e.message, status=e.status)
    access.begin_with_phone(request, phone_index)
    request.session.pop(SESSION_PHONE, None)
    return redirect(reverse("residents:my"))
