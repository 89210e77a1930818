"""The network in the back office: what each service is known by on the
network, the plans' speeds, the requests sent to NASes, and the drift
check between billing, FreeRADIUS and live sessions."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from isocnet.backoffice.admin.base import ReadOnlyAdmin, ServiceRefused, ServiceSaveAdmin
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError
from isocnet.core.jobs import JobRetry
from isocnet.core.permissions import may
from isocnet.network.drift import network_verify
from isocnet.network.models import NasRequest, ServiceIdentity, SpeedProfile
from isocnet.network.services import FIELDS, identity_check, identity_set, speed_profile_set


class IdentityForm(forms.ModelForm):
    """The password is write-only: never shown, in any role; left empty it
    stays as it is. Values are checked by the network's one cleaner
    (identity_check), so the form refuses what the API and the import do."""

    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Type a new password to replace the one set; leave empty to keep it.",
    )

    class Meta:
        model = ServiceIdentity
        fields = ["subscription", *FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.pop("password", None)
        if self.instance.pk and self.instance.password:
            self.fields["password"].help_text = (
                "A password is set (never shown). " + self.fields["password"].help_text
            )

    def clean(self):
        cleaned = super().clean()
        subscription = cleaned.get("subscription")
        changes = service_changes(cleaned)
        try:
            identity_check(subscription_id=subscription.pk if subscription else None, **changes)
        except BillingError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return cleaned


def service_changes(cleaned: dict) -> dict:
    """The form's values as identity_set takes them: an empty password
    means "keep the one set"."""
    changes = {k: cleaned.get(k) or "" for k in FIELDS}
    if not changes["password"]:
        changes.pop("password")
    return changes


@admin.register(ServiceIdentity)
class ServiceIdentityAdmin(ServiceSaveAdmin):
    form = IdentityForm
    list_display = ["username", "subscription", "static_ip", "mac", "radius_state", "updated_at"]
    search_fields = ["username", "static_ip", "mac", "circuit_id", "subscription__customer__name"]
    raw_id_fields = ["subscription"]
    change_list_template = "backoffice/network/identity_list.html"

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        # read-only (support agents, clerks): the password is never shown,
        # only whether one is set
        fields = list(super().get_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            fields = [f if f != "password" else "password_set" for f in fields]
        return fields

    @admin.display(description="Password")
    def password_set(self, obj):
        return "set (never shown)" if obj.password else "not set"

    def get_urls(self):
        return [
            path("drift/", self.admin_site.admin_view(self.drift), name="network_drift"),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        data = service_changes(form.cleaned_data)
        try:
            saved = identity_set(
                actor=Actor.staff(request.user),
                subscription_id=form.cleaned_data["subscription"].pk,
                **data,
            )
        except BillingError as exc:
            raise ServiceRefused(exc) from None
        obj.pk = saved.pk

    def drift(self, request):
        repair = request.method == "POST"
        actor = Actor.staff(request.user)
        try:
            drifts = network_verify(actor=actor, repair=repair)
        except (JobRetry, BillingError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
            if repair:
                return redirect("admin:network_drift")
            drifts = []
        if repair:
            messages.success(
                request, f"{len(drifts)} drift(s) repaired; NAS requests are on their way."
            )
            return redirect("admin:network_drift")
        return TemplateResponse(
            request,
            "backoffice/network/drift.html",
            {
                **self.admin_site.each_context(request),
                "title": "Network drift check",
                "drifts": drifts,
                "may_repair": may(actor, "network.repair"),
            },
        )


class SpeedForm(forms.ModelForm):
    class Meta:
        model = SpeedProfile
        fields = ["plan", "download_kbps", "upload_kbps"]


@admin.register(SpeedProfile)
class SpeedProfileAdmin(admin.ModelAdmin):
    form = SpeedForm
    list_display = ["plan", "download_kbps", "upload_kbps", "group", "updated_at"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = speed_profile_set(
            actor=Actor.staff(request.user),
            plan_id=form.cleaned_data["plan"].pk,
            download_kbps=form.cleaned_data["download_kbps"],
            upload_kbps=form.cleaned_data["upload_kbps"],
        )
        obj.pk = saved.pk


@admin.register(NasRequest)
class NasRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "username",
        "nas_ip",
        "session_id",
        "status",
        "attempts",
        "answer",
        "answered_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["username", "session_id", "nas_ip"]
