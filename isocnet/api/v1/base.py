"""The /api/v1/ NinjaAPI object: bearer auth and one JSON error shape.

Every error body is {"error": code, "message": "<field>: <reason>",
"field"?: name, "fields"?: [{"field", "reason"}]}.
"""

from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from isocnet.api.tokens import apikey_authenticate
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError, Forbidden


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        row = apikey_authenticate(token)
        if row is not None:
            if row.scope == "read" and request.method not in {"GET", "HEAD", "OPTIONS"}:
                raise Forbidden(f"the API key {row.name!r} is read-only")
            request.actor = Actor.api(row.name)
        return row


_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
_COMMON = {
    401: "No valid API key (Authorization: Bearer <key>)",
    422: "Invalid input: the message names the field and the reason",
}
_WRITES = {
    400: "The body is not valid JSON",
    403: "The API key is read-only",
    409: "Conflict with the current state, or an Idempotency-Key still in flight",
}


class BillingAPI(NinjaAPI):
    """Adds to every operation the answers every operation can give (no
    key, invalid input; for writes: bad JSON, read-only key, conflicts) and
    the Idempotency-Key header, so the document is complete."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                extra = dict(_COMMON)
                if method in {"post", "put", "patch", "delete"}:
                    extra.update(_WRITES)
                    operation.setdefault("parameters", []).append(
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "Send the same key again to get the first answer "
                            "back instead of doing the work twice (docs/api.md)",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                        }
                    )
                for code, description in extra.items():
                    if code not in responses and str(code) not in responses:
                        responses[code] = {"description": description, "content": _ERROR}
        return schema


api = BillingAPI(
    title="ISOCNET Billing API",
    version="1",
    description='Billing for internet and hosting providers. Money is a JSON string ("49.95"); '
    "dates are ISO 8601. Authenticate with `Authorization: Bearer <token>` "
    "(create one with `isocnet apikey create NAME`).",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=BearerToken(),
)


def _field_of(loc) -> str:
    parts = [str(p) for p in loc]
    # ninja prefixes ("body", "payload") / ("query", ...) / ("path", ...)
    if parts and parts[0] in {"body", "query", "path", "header", "form"}:
        parts = parts[1:]
    if parts and parts[0] in {"payload", "filters", "params"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _reason(error: dict) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this resource"
    if kind in {"string_type"}:
        return 'must be a string (money is written as a string such as "49.95")'
    return error.get("msg", "is invalid")


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    fields = [{"field": _field_of(e.get("loc", ())), "reason": _reason(e)} for e in exc.errors]
    first = fields[0] if fields else {"field": "body", "reason": "is invalid"}
    body = {
        "error": "invalid_input",
        "message": f"{first['field']}: {first['reason']}",
        "field": first["field"],
        "fields": fields,
    }
    return api.create_response(request, body, status=422)


@api.exception_handler(BillingError)
def on_billing_error(request, exc: BillingError):
    return api.create_response(request, exc.as_dict(), status=exc.status_code)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    response = api.create_response(
        request,
        {
            "error": "unauthorized",
            "message": "a valid API token is required: Authorization: Bearer <token>",
        },
        status=401,
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    message = str(exc)
    if exc.status_code == 400 and "parse" in message.lower():
        message = "body: is not valid JSON"
    return api.create_response(
        request, {"error": "bad_request", "message": message}, status=exc.status_code
    )


@api.exception_handler(OverflowError)
def on_overflow(request, exc):
    # an id beyond what the database can hold names nothing
    return api.create_response(
        request, {"error": "not_found", "message": "no such record"}, status=404
    )


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(
        request, {"error": "not_found", "message": str(exc) or "not found"}, status=404
    )


def actor_of(request) -> Actor:
    return request.actor
