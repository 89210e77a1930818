"""Shared pieces of the admin: read-only bases and formatted money columns."""

from __future__ import annotations

from django.contrib import admin

from isocnet.core.money import Money


def money_column(attr: str, label: str, currency_attr: str = "currency"):
    """A list column showing integer minor units as "$49.95"."""

    def column(model_admin, obj):
        value = getattr(obj, attr)
        if value is None:
            return "—"
        currency = obj
        for part in currency_attr.split("__"):
            currency = getattr(currency, part)
        return Money.from_minor(value, currency).format()

    column.short_description = label
    column.admin_order_field = attr
    return column


class ReadOnlyAdmin(admin.ModelAdmin):
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
