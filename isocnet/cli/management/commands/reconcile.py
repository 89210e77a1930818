from django.core.management.base import BaseCommand

from isocnet.core.actors import Actor
from isocnet.payments.charges import reconcile


class Command(BaseCommand):
    help = "Settle card charges whose outcome is unknown (timeouts, crashes) by asking the gateway."

    def handle(self, *args, **options):
        settled = reconcile(actor=Actor("cli"))
        self.stdout.write(f"reconciled {settled} card charge(s)")
