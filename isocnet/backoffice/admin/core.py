"""The audit log, number sequences and API keys."""

from __future__ import annotations

from django.contrib import admin

from isocnet.api.models import ApiToken
from isocnet.backoffice.admin.base import ReadOnlyAdmin
from isocnet.core.models import AuditEvent, Sequence


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
