"""Staff logins: Django's user admin, with two-factor sign-in shown and a
billing manager's "reset two-factor sign-in" (a lost phone)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from isocnet.backoffice import two_factor
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = [*UserAdmin.list_display, "two_factor"]
    actions = ["reset_two_factor"]

    @admin.display(description="Two-factor sign-in", boolean=True)
    def two_factor(self, obj):
        return two_factor.enrolled(obj)

    @admin.action(description="Reset two-factor sign-in (lost phone): they set it up again")
    def reset_two_factor(self, request, queryset):
        actor = Actor.staff(request.user)
        for user in queryset:
            try:
                two_factor.two_factor_reset(
                    actor=actor, user=user, reason=f"reset in the back office by {actor.label}"
                )
            except BillingError as exc:
                self.message_user(request, f"{user}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{user}: two-factor sign-in reset.")
