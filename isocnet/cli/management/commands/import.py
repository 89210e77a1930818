from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from isocnet.core.actors import Actor
from isocnet.imports.services import KINDS, run_import


class Command(BaseCommand):
    help = (
        "Import customers, subscriptions or opening balances from the previous billing system "
        "(CSV, docs/import.md). All rows are checked first; any error imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="CSV files, imported in the order given")
        parser.add_argument(
            "--kind", choices=sorted(KINDS), help="default: guessed from the header"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count, change nothing"
        )
        parser.add_argument(
            "--welcome", action="store_true", help="send new customers the portal welcome email"
        )

    def handle(self, *args, files, kind, dry_run, welcome, **options):
        failed = False
        for name in files:
            path = Path(name)
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as exc:
                raise CommandError(
                    f"{name}: the file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}"
                    f" at position {exc.start}); save it as CSV UTF-8. Nothing was imported."
                ) from None
            except OSError as exc:
                raise CommandError(f"{name}: {exc}") from None
            report = run_import(
                actor=Actor("cli:import"), kind=kind, text=text, dry_run=dry_run, welcome=welcome
            )
            self.stdout.write(f"{path.name}: {report.summary()}")
            failed = failed or not report.ok
        if failed:
            raise CommandError("nothing was imported from the file(s) with errors")
