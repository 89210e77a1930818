"""The audit log, number sequences and API keys."""

from __future__ import annotations

from django.contrib import admin

from isocnet.api.models import ApiToken
from isocnet.backoffice.admin.base import ReadOnlyAdmin
from isocnet.core.jobs import job_retry_now
from isocnet.core.models import AuditEvent, Job, Sequence


# -- core -----------------------------------------------------------------
@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_id", "customer_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor", "action", "object_id"]
    date_hierarchy = "created_at"


@admin.register(Sequence)
class SequenceAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_value"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Side-effect jobs (RADIUS changes, NAS requests, webhook deliveries)."""

    list_display = [
        "created_at",
        "kind",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "result",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["subject", "last_error"]
    actions = ["retry_now"]

    @admin.action(description="Try again now")
    def retry_now(self, request, queryset):
        retried = sum(job_retry_now(job.pk) for job in queryset)
        self.message_user(request, f"{retried} job(s) will run again now.")
