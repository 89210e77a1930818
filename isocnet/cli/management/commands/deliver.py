from __future__ import annotations

import re
import subprocess
import sys

from django.core.management.base import BaseCommand, CommandError

from isocnet.notifications.delivery import deliver_pending

REPORT = re.compile(r"sent (\d+), failed (\d+), to retry later (\d+)")


class Command(BaseCommand):
    help = (
        "Send the customer notices waiting in the outbox (isocnet serve also does this by itself)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help=(
                "Send from this many processes at once (each message is claimed by one: "
                "a backlog after a billing run uses every core). Default 1."
            ),
        )

    def handle(self, *args, **options):
        processes = options["processes"]
        if processes < 1:
            raise CommandError("--processes: expected 1 or more")
        others = [
            subprocess.Popen(
                [sys.executable, "-m", "isocnet.cli.main", "deliver"],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes - 1)
        ]
        sent, failed, retry = self._deliver()
        for proc in others:
            out, _ = proc.communicate()
            found = REPORT.search(out or "")
            if proc.returncode or not found:
                raise CommandError(f"a sender process ended with code {proc.returncode}: {out}")
            sent, failed, retry = (
                sent + int(found[1]),
                failed + int(found[2]),
                retry + int(found[3]),
            )
        self.stdout.write(f"sent {sent}, failed {failed}, to retry later {retry}")

    def _deliver(self) -> tuple[int, int, int]:
        sent = failed = retry = 0
        while True:
            report = deliver_pending()
            sent, failed, retry = sent + report.sent, failed + report.failed, retry + report.retry
            if not report.handled or report.retry:
                return sent, failed, retry
