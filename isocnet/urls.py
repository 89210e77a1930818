from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import include, path

from isocnet.api.urls import api
from isocnet.backoffice import two_factor_views
from isocnet.backoffice.collections_views import policy_page
from isocnet.backoffice.health_views import health_page, metrics
from isocnet.backoffice.reports import reports
from isocnet.payments.sandbox_views import card_form
from isocnet.payments.webhooks import gateway_webhook


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", lambda request: redirect("portal:home")),
    path("portal/", include("isocnet.portal.urls")),
    path("admin/reports/", admin.site.admin_view(reports), name="backoffice-reports"),
    path("admin/health/", admin.site.admin_view(health_page), name="backoffice-health"),
    path(
        "admin/collections-policy/",
        admin.site.admin_view(policy_page),
        name="backoffice-collections-policy",
    ),
    path("metrics", metrics, name="metrics"),
    path("admin/2fa/enrol/", two_factor_views.enrol, name="staff-2fa-enrol"),
    path("admin/2fa/verify/", two_factor_views.verify, name="staff-2fa-verify"),
    path("admin/2fa/recovery/", two_factor_views.recovery_renew, name="staff-2fa-recovery"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", healthz),
    path("webhooks/<str:gateway_name>", gateway_webhook, name="gateway-webhook"),
    path("sandbox/card-form", card_form, name="sandbox-card-form"),
]

handler404 = "isocnet.portal.views.errors.not_found"
handler403 = "isocnet.portal.views.errors.forbidden"
handler500 = "isocnet.portal.views.errors.server_error"
