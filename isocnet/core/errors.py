"""Typed, expected failures. Each names the field (where there is one) and a
reason a billing clerk understands; the API maps them to 4xx responses."""

from __future__ import annotations

from isocnet.core.pan import redact


class BillingError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None):
        # A message may quote what was refused; a card number never goes on.
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
            body["message"] = f"{self.field}: {self.message}"
        return body


class InvalidInput(BillingError):
    status_code = 422
    code = "invalid_input"


class NotFound(BillingError):
    status_code = 404
    code = "not_found"


class Conflict(BillingError):
    status_code = 409
    code = "conflict"


class Forbidden(BillingError):
    """The actor's role (or the API key's scope) does not allow this."""

    status_code = 403
    code = "forbidden"


class InvoiceImmutable(Conflict):
    code = "invoice_immutable"
