"""Wiring shared by every router: authentication and the one error shape."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from shouwang.core.errors import DomainError


class BearerToken(HttpBearer):
    """`Authorization: Bearer sw_…` — tokens printed by `shouwang accounts_token`."""

    def authenticate(self, request: HttpRequest, token: str):
        from shouwang.accounts.services import token_user

        user = token_user(token)
        if user is not None:
            request.user = user
        return user


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def install_error_handlers(api: NinjaAPI) -> None:
    from shouwang.registry.tabular import TableError

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return api.create_response(request, exc.as_dict(), status=exc.status)

    @api.exception_handler(TableError)
    def table_error(request, exc):
        return api.create_response(request, error_body(exc.code, str(exc.message)), status=400)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        fields = {}
        for err in exc.errors:
            loc = [str(x) for x in err.get("loc", [])]
            # ("body", "payload", "reason") → "reason": the body parameter's Python name is ours,
            # not the client's, and an empty value names the field the same way.
            if loc[:1] == ["body"] and len(loc) > 2:
                loc = loc[2:]
            loc = [x for x in loc if x not in ("body", "query", "path", "form")]
            fields[".".join(loc) or "request"] = err.get("msg", "")
        return api.create_response(
            request,
            error_body("invalid_input", _("Some fields are missing or invalid."), fields),
            status=400,
        )

    @api.exception_handler(AuthenticationError)
    def auth_error(request, exc):
        return api.create_response(
            request,
            error_body(
                "unauthenticated", _("Sign in, or send an API token (Authorization: Bearer …).")
            ),
            status=401,
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return api.create_response(
            request, error_body("http_error", str(exc)), status=exc.status_code
        )
