"""Webhook endpoints (the secret shown once, at creation), their
deliveries with every attempt's answer, and replay."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from isocnet.backoffice.admin.base import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceRefused,
    ServiceSaveAdmin,
)
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError
from isocnet.core.events import TYPES
from isocnet.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from isocnet.webhooks.services import (
    delivery_replay,
    endpoint_create,
    endpoint_input_clean,
    endpoint_set_active,
)


class EndpointForm(forms.ModelForm):
    url = forms.CharField(max_length=500, help_text="https://… a public address of the receiver")
    events = forms.MultipleChoiceField(
        choices=[("*", "Every event"), *[(t, t) for t in TYPES]],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events"]

    def clean(self):
        cleaned = super().clean()
        if "url" in cleaned and "events" in cleaned:
            try:
                endpoint_input_clean(
                    url=cleaned["url"],
                    events=cleaned["events"],
                    description=cleaned.get("description", ""),
                )
            except BillingError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceSaveAdmin):
    form = EndpointForm
    list_display = [
        "url",
        "events_wanted",
        "active",
        "failing_since",
        "disabled_reason",
        "secret_hint",
    ]

    @admin.display(description="Events")
    def events_wanted(self, obj):
        """Words, not the stored list (["*"] was shown as is)."""
        if "*" in (obj.events or []):
            return "Every event"
        return ", ".join(obj.events or []) or "—"

    list_filter = ["active"]
    actions = ["disable", "enable"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            endpoint, secret = endpoint_create(
                actor=Actor.staff(request.user),
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except BillingError as exc:
            raise ServiceRefused(exc) from None
        obj.pk = endpoint.pk
        messages.warning(
            request,
            f"The signing secret of {endpoint.url} is {secret} — copy it into the receiving "
            "system now: it is not shown again.",
        )

    def _switch(self, request, queryset, active: bool):
        for endpoint in queryset:
            try:
                endpoint_set_active(
                    actor=Actor.staff(request.user), endpoint_id=endpoint.pk, active=active
                )
            except BillingError as exc:
                messages.error(request, exc.message)

    @admin.action(description="Disable (what waits is not sent)")
    def disable(self, request, queryset):
        self._switch(request, queryset, False)

    @admin.action(description="Enable again")
    def enable(self, request, queryset):
        self._switch(request, queryset, True)


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["attempted_at", "status_code", "error", "duration_ms", "replay"]
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "webhook_id",
        "event_type",
        "endpoint",
        "customer_id",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event__type", "endpoint"]
    search_fields = ["event__id", "customer_id"]
    list_select_related = ["event", "endpoint"]
    inlines = [AttemptInline]
    actions = ["replay"]

    @admin.display(description="Event")
    def event_type(self, obj):
        return obj.event.type

    @admin.action(description="Replay (send again with the same webhook-id)")
    def replay(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                delivery_replay(actor=Actor.staff(request.user), delivery_id=delivery.pk)
                done += 1
            except BillingError as exc:
                messages.error(request, f"{delivery.webhook_id}: {exc.message}")
        if done:
            messages.success(request, f"{done} delivery(ies) sent again with the same webhook-id.")
