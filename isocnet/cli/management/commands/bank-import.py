"""``isocnet bank-import FILE``: import the bank's lockbox CSV or BAI2 file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError
from isocnet.deposits.bank_files import bank_file_import


class Command(BaseCommand):
    help = (
        "Import the bank's lockbox CSV or BAI2 file of the day's deposits and returns: "
        "sure matches post, the rest go to the exceptions queue (docs/payments.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--format", choices=["bai2", "lockbox"], help="default: from the file's first record"
        )

    def handle(self, *args, **options):
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: {exc}") from None
        fmt = options["format"]  # None: told by the file
        try:
            result = bank_file_import(
                actor=Actor("cli"), format=fmt, filename=path.name, content=text
            )
        except BillingError as exc:
            raise CommandError(f"{path}: {exc.message}") from None
        s = result.as_dict()
        self.stdout.write(
            f"{path.name} ({result.bank_file.format}): {s['items']} items, {s['posted']} posted "
            f"({s['posted_total']}), {s['exceptions']} to the exceptions queue "
            f"({s['exception_total']}), {s['returned']} returned, "
            f"{s['already_imported']} already imported, {s['skipped']} skipped"
        )
