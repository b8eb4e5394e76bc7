"""One error shape for the whole product.

Services raise DomainError with a stable code; the API turns it into
{"error": {"code", "message", "fields"}} and the HTML views into a message on the page.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400

    def __init__(self, code: str, message: Any, *, fields: dict[str, Any] | None = None):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.fields = fields or {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": str(self.message),
                "fields": {k: str(v) for k, v in self.fields.items()},
            }
        }


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


def invalid(field: str, message) -> DomainError:
    """Bad input in one field: the message goes on that field (forms) and in `fields` (API)."""
    return DomainError("invalid", message, fields={field: message})
