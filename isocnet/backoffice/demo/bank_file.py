"""A lockbox file for the demo: the checks the bank would send for the
demo's check payers' open invoices, to try the deposit desk with
(`isocnet bank-import var/demo-lockbox.csv`). Most carry the slip's scan
line; one only a name (it waits in the exceptions queue)."""

from __future__ import annotations

import csv
from pathlib import Path

from isocnet.core import clock
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.invoicing.scanline import scan_line

COLUMNS = [
    "deposit_date",
    "batch",
    "item_reference",
    "type",
    "amount",
    "check_number",
    "scan_line",
    "payer_name",
]


def write_demo_lockbox(path: Path, *, checks: int = 6) -> int:
    """Write the file (the same references for the same invoices, so a
    second import posts nothing); returns how many items it holds."""
    invoices = list(
        Invoice.objects.filter(
            customer__payment_method="check",
            customer__external_id__startswith="demo-",
            status__in=OPEN_STATUSES,
        )
        .select_related("customer")
        .order_by("number")[:checks]
    )
    today = clock.today().isoformat()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for n, invoice in enumerate(invoices):
            due = invoice.amount_due_at_issue.minor()
            amount = f"{invoice.balance_minor // 100}.{invoice.balance_minor % 100:02d}"
            slip = scan_line(invoice.customer.account_number, invoice.number, due)
            last = n == len(invoices) - 1 and n > 0
            writer.writerow(
                [
                    today,
                    "DEMO-LOCKBOX",
                    f"DEMO-{invoice.number}",
                    "check",
                    amount,
                    str(3001 + n),
                    "" if last else slip,
                    invoice.customer.name.upper() if last else "",
                ]
            )
    return len(invoices)
