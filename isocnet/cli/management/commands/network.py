"""``isocnet network verify [--repair]`` and ``isocnet network radius-schema``."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from isocnet.core.actors import Actor
from isocnet.core.jobs import JobRetry
from isocnet.network.drift import network_verify
from isocnet.network.radius_db import radius_schema_create


class Command(BaseCommand):
    help = (
        "verify: compare billing, FreeRADIUS and live sessions (--repair fixes what it can, "
        "audited); radius-schema: create FreeRADIUS's tables in RADIUS_DATABASE_URL."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "radius-schema"])
        parser.add_argument("--repair", action="store_true")

    def handle(self, *args, action, repair, **options):
        if not settings.RADIUS_DATABASE_URL:
            raise CommandError("RADIUS_DATABASE_URL is not set: there is no RADIUS database")
        if action == "radius-schema":
            self.stdout.write(f"created FreeRADIUS's tables from {radius_schema_create()}")
            return
        try:
            drifts = network_verify(actor=Actor("cli"), repair=repair)
        except JobRetry as exc:
            raise CommandError(str(exc)) from None
        for d in drifts:
            done = "repaired" if d.repaired else "to do"
            self.stdout.write(f"{d.kind}\t{d.username}\t{d.detail}\t{d.action} ({done})")
        self.stdout.write(f"{len(drifts)} drift(s)" + (", repaired" if repair and drifts else ""))
        if drifts and not repair:
            raise SystemExit(1)
