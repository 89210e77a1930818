"""``Idempotency-Key`` for the REST API (as Stripe's): a POST, PUT, PATCH
or DELETE sent again with the same key gets the first answer back, with
``Idempotent-Replayed: true``, and does nothing twice.

The key is recorded (committed) before the request runs, so a concurrent
retry with the same key is answered 409 while the first is in flight, and
a retry after a crash is never run again blindly (409: check the resource,
then use a new key). The same key with a different request is refused
(422). Answers of 5xx are not kept: the work did not happen, so a retry
may run; nor are refusals of the input (400, 422), which may hold what was
refused. Keys are per API key and kept for KEEP_DAYS.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse

from isocnet.api.models import ApiToken, IdempotencyRecord
from isocnet.api.tokens import token_digest
from isocnet.api.v1.base import api
from isocnet.core import clock

HEADER = "HTTP_IDEMPOTENCY_KEY"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
KEEP_DAYS = 7
PREFIX = "/api/"


def _error(status: int, message: str) -> JsonResponse:
    code = {409: "conflict", 422: "invalid_input"}[status]
    return JsonResponse(
        {"error": code, "message": f"Idempotency-Key: {message}", "field": "Idempotency-Key"},
        status=status,
    )


@lru_cache(maxsize=1)
def _routes() -> list[tuple[re.Pattern, dict[str, set[str]]]]:
    """The API's operations from its OpenAPI document: path pattern, and for
    each method the names of its query parameters."""

    routes = []
    for template, operations in api.get_openapi_schema()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)) + "$")
        routes.append(
            (
                pattern,
                {
                    method.upper(): {
                        p["name"] for p in op.get("parameters", []) if p.get("in") == "query"
                    }
                    for method, op in operations.items()
                },
            )
        )
    return routes


def _operation(path: str, method: str) -> set[str] | None:
    """The query parameters of the operation, or None when there is none."""
    for pattern, methods in _routes():
        if pattern.match(path):
            return methods.get(method)
    return None


class IdempotencyMiddleware:
    """Also refuses query parameters an operation does not have (a typo
    such as ?stauts=unpaid would otherwise list everything)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        declared = _operation(request.path, request.method)
        if declared is None:
            return self.get_response(request)  # the API answers 404 or 405
        unknown = sorted(set(request.GET) - declared)
        if unknown:
            return JsonResponse(
                {
                    "error": "invalid_input",
                    "message": f"{unknown[0]}: is not a parameter of this operation",
                    "field": unknown[0],
                },
                status=422,
            )
        key = request.META.get(HEADER)
        if key is None or request.method not in WRITES:
            return self.get_response(request)
        if not key or len(key) > 200 or not key.isprintable():
            return _error(422, "must be 1 to 200 printable characters")
        auth = request.META.get("HTTP_AUTHORIZATION", "")
        raw = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not ApiToken.objects.filter(
            token_hash=token_digest(raw), revoked_at__isnull=True
        ).exists():
            # no key, or a revoked one: nothing is kept or replayed (a stored
            # answer is the key holder's, and only while the key lives)
            return self.get_response(request)  # the API answers 401
        token = token_digest(raw)
        fingerprint = hashlib.sha256(
            request.method.encode() + b" " + request.get_full_path().encode() + b"\n" + request.body
        ).hexdigest()
        now = clock.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    token_hash=token,
                    key=key,
                    method=request.method,
                    path=request.path[:300],
                    request_hash=fingerprint,
                    created_at=now,
                )
        except IntegrityError:
            return self._replay(token, key, fingerprint)
        try:
            response = self.get_response(request)
        except Exception:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        # 5xx: the work did not happen; 400/422: the input was refused, and a
        # refused body is never kept (it may hold what was refused).
        if (
            response.status_code >= 500
            or response.status_code in (400, 401, 403, 422)
            or response.streaming
        ):
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            body=bytes(response.content),
            completed_at=clock.now(),
        )
        return response

    def _replay(self, token: str, key: str, fingerprint: str):
        record = IdempotencyRecord.objects.filter(token_hash=token, key=key).first()
        if record is None:  # deleted meanwhile (the first answer was a 5xx): try again
            return _error(409, "the first request with this key failed; send it again")
        if record.request_hash != fingerprint:
            return _error(422, "was already used for a different request; use a new key")
        if record.completed_at is None:
            if clock.now() - record.created_at < dt.timedelta(minutes=10):
                return _error(409, "a request with this key is still in progress; retry shortly")
            return _error(
                409,
                "the first request with this key did not finish; check the resource, then use "
                "a new key",
            )
        response = HttpResponse(
            bytes(record.body or b""), status=record.status_code, content_type=record.content_type
        )
        response["Idempotent-Replayed"] = "true"
        return response


def idempotency_purge(*, before: dt.datetime | None = None) -> int:
    cutoff = before or clock.now() - dt.timedelta(days=KEEP_DAYS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
