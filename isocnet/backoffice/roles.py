"""The staff groups behind the roles of core.permissions, with the Django
admin permissions that match them (what the back office shows; the
services enforce the role whatever the page)."""

from __future__ import annotations

from isocnet.core.permissions import CLERK, GROUPS, MANAGER

APPS = (
    "customers",
    "catalog",
    "subscriptions",
    "invoicing",
    "payments",
    "deposits",
    "collections",
    "documents",
    "notifications",
    "core",
    "api",
    "network",
    "webhooks",
)
CLERK_EXTRA = {
    "customers.change_customer",
    "customers.add_customer",
    "payments.add_payment",
    "deposits.add_depositbatch",
    "deposits.change_depositbatch",
    "notifications.change_outboxmessage",
}


def ensure_staff_groups(**kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    perms = Permission.objects.filter(content_type__app_label__in=APPS).select_related(
        "content_type"
    )
    view = [p for p in perms if p.codename.startswith("view_")]
    for name, role in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        if role == MANAGER:
            wanted = list(perms)
        elif role == CLERK:
            wanted = view + [
                p for p in perms if f"{p.content_type.app_label}.{p.codename}" in CLERK_EXTRA
            ]
        else:
            wanted = view
        group.permissions.set(wanted)
