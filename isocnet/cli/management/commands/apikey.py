from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from isocnet.api.models import ApiToken
from isocnet.api.tokens import apikey_create, apikey_revoke
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError


class Command(BaseCommand):
    help = "Manage REST API keys: create NAME (prints the key once, as the last word), list, revoke NAME."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("name")
        create.add_argument(
            "--read-only", action="store_true", help="the key may only read (GET requests)"
        )
        sub.add_parser("revoke").add_argument("name")
        sub.add_parser("list")

    def handle(self, *args, action, name=None, read_only=False, **options):
        actor = Actor("cli")
        try:
            if action == "create":
                scope = "read" if read_only else "write"
                _row, token = apikey_create(actor=actor, name=name, scope=scope)
                self.stdout.write(f"Created API key {name!r}; it is shown only now: {token}")
            elif action == "revoke":
                apikey_revoke(actor=actor, name=name)
                self.stdout.write(f"Revoked API key {name!r}")
            else:
                for row in ApiToken.objects.order_by("name"):
                    state = "revoked" if row.revoked_at else f"active, {row.scope}"
                    self.stdout.write(
                        f"{row.name}\t{row.prefix}…\t{state}\tlast used {row.last_used_at or 'never'}"
                    )
        except ApiToken.DoesNotExist:
            raise CommandError(f"no API key named {name!r}") from None
        except BillingError as exc:
            raise CommandError(exc.as_dict()["message"]) from None
