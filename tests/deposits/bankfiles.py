"""Bank files written by the tests from the formats' specifications (not
copied from anywhere): a lockbox item CSV as docs/payments.md documents
it, and BAI2 as the BAI Cash Management Balance Reporting Specification,
version 2, lays it out (01 file header, 02 group, 03 account, 16 detail,
49/98/99 trailers with record counts and control totals)."""

import csv
import datetime as dt
import io
from dataclasses import dataclass


@dataclass
class Item:
    reference: str
    amount_minor: int
    type_code: str = "115"  # BAI2 "Lockbox Deposit"; 555 "Deposited Item Returned"
    check_number: str = ""
    scan_line: str = ""
    invoice_number: str = ""
    account_number: str = ""
    payer_name: str = ""
    original_reference: str = ""

    @property
    def returned(self) -> bool:
        return self.type_code == "555"


def lockbox_csv(items: list[Item], date: dt.date, batch: str = "LB-1") -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "deposit_date",
            "batch",
            "item_reference",
            "type",
            "amount",
            "check_number",
            "scan_line",
            "invoice_number",
            "account_number",
            "payer_name",
            "original_reference",
        ]
    )
    for i in items:
        writer.writerow(
            [
                date.isoformat(),
                batch,
                i.reference,
                "return" if i.returned else "check",
                f"{i.amount_minor // 100}.{i.amount_minor % 100:02d}",
                i.check_number,
                i.scan_line,
                i.invoice_number,
                i.account_number,
                i.payer_name,
                i.original_reference,
            ]
        )
    return out.getvalue()


def _text(i: Item) -> str:
    words = []
    if i.scan_line:
        words.append(f"REMIT {i.scan_line}")
    if i.invoice_number:
        words.append(f"INV {i.invoice_number}")
    if i.account_number:
        words.append(f"ACCT {i.account_number}")
    if i.original_reference:
        words.append(f"ORIG {i.original_reference}")
    if i.payer_name:
        words.append(f"NAME {i.payer_name}")
    return " ".join(words)


def bai2_file(items: list[Item], date: dt.date, account: str = "000123456789") -> str:
    """One file, one group (as-of ``date``), one account with a 16 record
    per item. Text runs to the end of a 16 record (no closing slash)."""
    ymd = date.strftime("%y%m%d")
    details = []
    for i in items:
        text = _text(i)
        record = f"16,{i.type_code},{i.amount_minor},Z,{i.reference},{i.check_number},"
        details.append(record + text if text else record + "/")
    account_total = sum(i.amount_minor for i in items)
    account_records = [f"03,{account},USD/", *details]
    account_records.append(f"49,{account_total},{len(account_records) + 1}/")
    group = [f"02,ISOCNET,BANK01,1,{ymd},2359,USD,2/", *account_records]
    group.append(f"98,{account_total},1,{len(group) + 1}/")
    lines = [f"01,BANK01,ISOCNET,{ymd},0600,1,80,,2/", *group]
    lines.append(f"99,{account_total},1,{len(lines) + 1}/")
    return "\n".join(lines) + "\n"
