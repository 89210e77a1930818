"""What every request and response passes, whatever the door:

- a path or query string holding NUL or another control character is
  refused (400; 422 JSON naming the parameter under /api/) before any view
  reads it: PostgreSQL refuses NUL in text, so it would otherwise be a 500
  wherever a view looks the value up;
- a page served to a signed-in person (the portal, the back office) is
  ``Cache-Control: no-store``: a shared or back-button cache never keeps
  an account's invoices, balances or a secret shown once.
"""

from __future__ import annotations

import unicodedata

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.cache import add_never_cache_headers

API = "/api/"


def _control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def _refuse(request, field: str):
    reason = "must not contain NUL or other control characters"
    if request.path.startswith(API):
        return JsonResponse(
            {"error": "invalid_input", "message": f"{field}: {reason}", "field": field},
            status=422,
        )
    return HttpResponseBadRequest(f"{field}: {reason}".encode(), content_type="text/plain")


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _control(request.path):  # PATH_INFO as decoded: %00 is a NUL here
            return _refuse(request, "path")
        for key, values in request.GET.lists():
            if _control(key):
                return _refuse(request, "query")
            if any(_control(value) for value in values):
                return _refuse(request, key)
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Expires"):
            add_never_cache_headers(response)  # no-store, no-cache, private, max-age=0
        return response
