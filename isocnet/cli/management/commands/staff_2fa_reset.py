"""isocnet staff_2fa_reset USERNAME --reason "...": remove a staff login's
authenticator and recovery codes (the only billing manager lost their
phone); they set it up again at their next sign-in. Audited."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from isocnet.backoffice.two_factor import two_factor_reset
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError


class Command(BaseCommand):
    help = "Reset a staff login's two-factor sign-in (audited)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True)

    def handle(self, *args, username, reason, **options):
        user = get_user_model().objects.filter(username=username, is_staff=True).first()
        if user is None:
            raise CommandError(f"no staff login {username!r}")
        try:
            two_factor_reset(actor=Actor("cli"), user=user, reason=reason)
        except BillingError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"two-factor sign-in of {username} reset; they set it up at next sign-in")
