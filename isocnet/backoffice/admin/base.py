"""Shared pieces of the admin: read-only bases and formatted money columns."""

from __future__ import annotations

import types

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from isocnet.core.errors import BillingError
from isocnet.core.money import Money


def money_column(attr: str, label: str, currency_attr: str = "currency"):
    """A list column showing integer minor units as "$49.95"."""

    def column(model_admin, obj):
        value = getattr(obj, attr)
        if value is None:
            return "—"
        return Money.from_minor(value, _currency_of(obj, currency_attr)).format()

    column.short_description = label
    column.admin_order_field = attr
    return column


def _currency_of(obj, currency_attr: str) -> str:
    value = obj
    try:
        for part in currency_attr.split("__"):
            value = getattr(value, part)
    except AttributeError:
        return obj.customer.currency  # rows without their own currency (a subscription's price)
    return value


class ServiceRefused(Exception):
    """A service refused what a page's save sent (raised from save_model)."""

    def __init__(self, error: BillingError):
        super().__init__(error.message)
        self.error = error


class ServiceSaveAdmin(admin.ModelAdmin):
    """An admin whose save calls a service. The form checks the values with
    the domain's cleaner first; what only the service can see (a clash
    found under its lock) comes back as the page's error and nothing is
    saved — never a 500."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            messages.error(request, refused.error.message)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records: staff look, services change. On the detail page every
    ``*_minor`` column is shown as money ("$49.95"), never as raw cents."""

    def get_fields(self, request, obj=None):
        return [
            f"{f}_money" if f.endswith("_minor") else f for f in super().get_fields(request, obj)
        ]

    def __getattr__(self, name: str):
        if name.endswith("_minor_money"):
            column = name.removesuffix("_money")
            label = column.removesuffix("_minor").replace("_", " ").capitalize()
            return types.MethodType(money_column(column, label), self)
        raise AttributeError(name)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
