from __future__ import annotations

from django.core.management.base import BaseCommand

from isocnet.notifications.delivery import deliver_pending


class Command(BaseCommand):
    help = (
        "Send the customer notices waiting in the outbox (isocnet serve also does this by itself)."
    )

    def handle(self, *args, **options):
        total = None
        while True:
            report = deliver_pending()
            if total is None:
                total = report
            else:
                total.sent += report.sent
                total.failed += report.failed
                total.retry += report.retry
            if not report.handled or report.retry:
                break
        self.stdout.write(f"sent {total.sent}, failed {total.failed}, to retry later {total.retry}")
