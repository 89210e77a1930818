import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError

from isocnet.reports.exports import KINDS, csv_lines, export_rows


class Command(BaseCommand):
    help = "Export invoices, invoice lines, payments or credit notes of a period as CSV."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD (included)")
        parser.add_argument("-o", "--output", help="file (default: standard output)")

    def handle(self, *args, kind, start, end, output, **options):
        try:
            start, end = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError as exc:
            raise CommandError(f"--from/--to: {exc}") from None
        out = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        rows = -1  # the header is not a row
        try:
            for line in csv_lines(export_rows(kind, start, end)):
                out.write(line)
                rows += 1
        finally:
            if output:
                out.close()
        # what was done, where the data is not (the CSV may be standard output)
        where = output or "standard output"
        self.stderr.write(f"Exported {rows} {kind} rows of {start} to {end} to {where}.")
