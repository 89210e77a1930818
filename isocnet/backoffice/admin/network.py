"""The network in the back office: what each service is known by on the
network, the plans' speeds, the requests sent to NASes, and the drift
check between billing, FreeRADIUS and live sessions."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from isocnet.backoffice.admin.base import ReadOnlyAdmin
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError
from isocnet.core.jobs import JobRetry
from isocnet.network.drift import network_verify
from isocnet.network.models import NasRequest, ServiceIdentity, SpeedProfile
from isocnet.network.services import FIELDS, identity_set, speed_profile_set


class IdentityForm(forms.ModelForm):
    class Meta:
        model = ServiceIdentity
        fields = ["subscription", *FIELDS]
        widgets = {"password": forms.PasswordInput(render_value=True)}


@admin.register(ServiceIdentity)
class ServiceIdentityAdmin(admin.ModelAdmin):
    form = IdentityForm
    list_display = ["username", "subscription", "static_ip", "mac", "radius_state", "updated_at"]
    search_fields = ["username", "static_ip", "mac", "circuit_id", "subscription__customer__name"]
    raw_id_fields = ["subscription"]
    change_list_template = "backoffice/network/identity_list.html"

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("drift/", self.admin_site.admin_view(self.drift), name="network_drift"),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data.get(k) or "" for k in FIELDS}
        try:
            saved = identity_set(
                actor=Actor.staff(request.user),
                subscription_id=form.cleaned_data["subscription"].pk,
                **data,
            )
        except BillingError as exc:
            messages.error(request, exc.message)
            raise
        obj.pk = saved.pk

    def drift(self, request):
        repair = request.method == "POST"
        try:
            drifts = network_verify(actor=Actor.staff(request.user), repair=repair)
        except JobRetry as exc:
            messages.error(request, str(exc))
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
