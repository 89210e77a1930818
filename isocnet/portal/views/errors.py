"""The error pages, in the portal's colours, each with a way back: not
found (404), not allowed (403, and a form sent without its security
token), and our own fault (500). The 500 page is rendered without the
database or the request's context, which may be what failed."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template.loader import render_to_string

from isocnet.portal.context import branding


def _way_back(request) -> tuple[str, str]:
    if request.path.startswith("/admin/"):
        return "/admin/", "Back to the back office"
    if getattr(request, "customer", None) is not None:
        return "/portal/dashboard/", "Back to your account"
    return "/portal/", "Go to the client portal"


def _page(request, status: int, title: str, message: str):
    href, label = _way_back(request)
    return render(
        request,
        "portal/http_error.html",
        {"status": status, "title": title, "message": message, "back": href, "back_label": label},
        status=status,
    )


def not_found(request, exception=None):
    return _page(
        request,
        404,
        "Page not found",
        "We could not find that page. It may have moved, or the address may be mistyped.",
    )


def forbidden(request, exception=None):
    return _page(request, 403, "Not allowed", "You do not have access to that page.")


def csrf_failure(request, reason=""):
    return _page(
        request,
        403,
        "Please try again",
        "Your form had expired or was sent from another page, so nothing was done. "
        "Go back, reload the page and send it again.",
    )


def server_error(request):
    context = {
        **branding(request),
        "status": 500,
        "title": "Something went wrong on our side",
        "message": "Nothing you did caused this, and nothing was charged twice. Please try "
        f"again in a few minutes; if it keeps happening, write to {settings.COMPANY_EMAIL} "
        f"or call {settings.COMPANY_PHONE}.",
        "back": "/portal/",
        "back_label": "Go to the client portal",
    }
    return HttpResponseServerError(render_to_string("portal/500.html", context))
