"""What no API request may carry, refused before anything runs (and so
before the Idempotency-Key layer could keep the answer): text that cannot
be stored or breaks lines, and card numbers. Every string in the JSON body
and every query parameter is checked; the 422 names the field and the
reason and never echoes the value.

- a lone UTF-16 surrogate ("\\ud800" in JSON) can be neither stored nor
  emailed (PostgreSQL and SQLite refuse it at INSERT);
- a card number (13–19 Luhn-valid digits, spaces or dashes allowed, even
  inside a word) is never accepted outside the gateway's own card form
  (PCI DSS 3.3/3.4, core.pan).
Line breaks, control and direction characters are refused per field by the
services (core.validation.clean_text), where the field's kind is known.
"""

from __future__ import annotations

import json

from django.http import JsonResponse

from isocnet.core.pan import card_number_in

PREFIX = "/api/"


def _problem(value: str) -> str | None:
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return "is not valid Unicode text (it holds a lone surrogate)"
    if card_number_in(value):
        return "must not contain a card number: card numbers are never stored (send a token)"
    return None


def _walk(value, path: str):
    """(field, problem) of the first string in ``value`` that may not pass."""
    if isinstance(value, str):
        problem = _problem(value)
        if problem:
            return path or "body", problem
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _problem(key):
                return path or "body", "has a field name that is not allowed"
            found = _walk(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _walk(item, f"{path}[{i}]")
            if found:
                return found
    return None


def _refuse(field: str, problem: str) -> JsonResponse:
    return JsonResponse(
        {"error": "invalid_input", "message": f"{field}: {problem}", "field": field}, status=422
    )


class TextGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        for key, values in request.GET.lists():
            for value in values:
                problem = _problem(value) or _problem(key)
                if problem:
                    return _refuse(key if not _problem(key) else "query", problem)
        if request.body and "json" in request.content_type:
            try:
                data = json.loads(request.body)
            except (ValueError, UnicodeDecodeError):
                return self.get_response(request)  # the API answers 400 "not valid JSON"
            found = _walk(data, "")
            if found:
                return _refuse(*found)
        return self.get_response(request)
