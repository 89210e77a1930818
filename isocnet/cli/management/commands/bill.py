"""isocnet bill [--date YYYY-MM-DD] [--dry-run]: the daily billing run.

Cron, once a day after midnight in the provider's time zone:
    15 0 * * *  cd /srv/isocnet && .venv/bin/isocnet bill >> var/billing.log 2>&1
"""

from __future__ import annotations

import contextlib
import sys

from django.core.management.base import BaseCommand, CommandError

from isocnet.api.idempotency import idempotency_purge
from isocnet.celery_app import workers_enabled
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError
from isocnet.core.validation import clean_date
from isocnet.operations.billing_run import billing_date_check, billing_run
from isocnet.operations.tasks import billing_run_distributed


class Command(BaseCommand):
    help = (
        "Run billing for a date (default: today): issue due invoices, overdue notices, suspensions."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Billing date YYYY-MM-DD (default: today in TIME_ZONE)")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would happen; write nothing"
        )
        parser.add_argument(
            "--future-override",
            metavar="REASON",
            help="Run for a --date after today anyway (audited with this reason)",
        )

    def handle(self, *args, date=None, dry_run=False, future_override=None, **options):
        try:
            day = clean_date(date, "date") if date else clock.today()
        except BillingError:
            raise CommandError(f"--date {date!r}: expected YYYY-MM-DD") from None
        today = clock.today()
        if not dry_run:
            try:
                billing_date_check(date=day, today=today, future_override=future_override)
            except BillingError as exc:
                raise CommandError(f"--{exc.message}") from None

        def progress(ids):
            if not sys.stderr.isatty() or len(ids) < 50:
                return ids
            from tqdm import tqdm

            return tqdm(ids, desc=f"Billing {day}", unit="customer", file=sys.stderr)

        # Another day's run travels to noon of that day; today's runs on the real
        # clock, so what it queues (invoice emails) is due now, not at noon.
        travel = day != clock.today()
        with clock.frozen_at(day) if travel else contextlib.nullcontext():
            if workers_enabled() and not dry_run:
                self.stderr.write(f"Billing {day} on the workers (CELERY_BROKER_URL)")
                summary = billing_run_distributed(
                    date=day, actor=Actor("cli"), future_override=future_override, today=today
                )
            else:
                summary = billing_run(
                    date=day,
                    dry_run=dry_run,
                    actor=Actor("cli"),
                    progress=progress,
                    future_override=future_override,
                    today=today,
                )
        if not dry_run:
            idempotency_purge()  # the daily run is also the daily housekeeping
        out = self.stdout
        mode = "DRY RUN — nothing written" if dry_run else f"run #{summary.run.pk}"
        out.write(f"Billing {day} ({mode})")
        if dry_run:
            for item in summary.preview:
                state = (
                    f"REFUSED: {item['refused']}" if item["refused"] else f"total {item['total']}"
                )
                out.write(f"  {item['account_number']} {item['name']}: {state}")
                for line in item["lines"]:
                    out.write(f"      {line['amount']:>10}  {line['description']}")
        d = summary.dunning
        out.write(
            f"  customers with something due: {summary.customers}\n"
            f"  invoices {'to issue' if dry_run else 'issued'}: {summary.invoices}, total {summary.total}\n"
            f"  refused by checks: {summary.refused}, errors: {summary.errors}\n"
            f"  marked overdue: {d.marked_overdue}, notices queued: {d.notices}, "
            f"customers suspended: {d.suspended_customers}, reactivated: {d.reactivated_customers}\n"
            f"  open auto-debit invoices due by {summary.date.isoformat()}: {d.to_collect}"
            + ("" if dry_run else _collection_outcome(summary))
        )
        for problem in summary.problems:
            self.stderr.write(f"  ! {problem}")


def _collection_outcome(summary) -> str:
    """What this run's auto debit did with the open auto-debit invoices."""
    counts, due = summary.collection, summary.dunning.to_collect
    text = (
        f"; this run charged {counts['charged']}, declined {counts['declined']}, "
        f"unknown {counts['unknown']}, no card on file {counts['no_card']}"
    )
    if counts.get("not_sent"):
        text += f", not sent (tried again by the next run) {counts['not_sent']}"
    waiting = due - sum(counts.values())
    if waiting > 0:
        text += f"; not tried (waiting for a retry date or a new card, or in flight) {waiting}"
    return text
