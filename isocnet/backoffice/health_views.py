from django.contrib import admin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from isocnet.api.tokens import apikey_authenticate
from isocnet.backoffice.health import health, prometheus_text


@require_GET
def metrics(request):
    """Prometheus text format, for a monitoring system with an API key
    (Authorization: Bearer …; a read-only key is enough)."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or apikey_authenticate(auth[7:].strip()) is None:
        response = HttpResponse("an API key is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(
        prometheus_text(health()), content_type="text/plain; version=0.0.4; charset=utf-8"
    )


def health_page(request):
    return TemplateResponse(
        request,
        "backoffice/health.html",
        {**admin.site.each_context(request), "title": "System health", "h": health()},
    )
