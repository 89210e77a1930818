"""Reading the bank's files into deposit items. Pure: text in, items out.

**Lockbox CSV** (the lockbox service's item file), one row per item, a
header row naming the columns (any order; unknown columns are ignored):

| column | required | meaning |
|---|---|---|
| `deposit_date` | yes | YYYY-MM-DD, the day the bank deposited it |
| `batch` | no | the bank's batch (one deposit); default: one per date |
| `item_reference` | yes | the bank's unique reference of the item |
| `type` | no | `check` (default) or `return` (a deposited item returned unpaid) |
| `amount` | yes | dollars and cents, e.g. `49.95` |
| `check_number` | no | the check's serial number |
| `scan_line` | no | the remittance slip's scan line, as read |
| `invoice_number`, `account_number` | no | as keyed from the slip by the bank |
| `payer_name` | no | the name on the check |
| `original_reference` | for a return | the `item_reference` of the check returned |

**BAI2** (the BAI Cash Management Balance Reporting Specification,
version 2), read with PyPI's ``bai2``: each group's as-of date is the
deposit date; each account's detail records (16) are items. Credits of the
lockbox, deposit and check families (115, 116, 118, 301, 175, 255 ...) are
checks, ACH credits (142, 165, 166 ...) bank transfers; 555 "Deposited Item
Returned" (and 252, 254, 256) are returns. Per 16 record: the bank
reference is the item's reference, the customer reference the check
number, and the text is searched for a scan line, ``INV <number>``,
``ACCT <number>``, ``NAME <payer>`` and, on a return, ``ORIG <bank
reference of the returned check>``. Other records are skipped and counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from bai2 import bai2
from bai2.constants import TypeCodeLevel, TypeCodeTransaction
from bai2.exceptions import IntegrityException, NotSupportedYetException, ParsingException

RETURN_CODES = {"555", "252", "254", "256"}
ACH_CREDIT_CODES = {"142", "143", "145", "165", "166", "169", "195", "196", "208"}


class BankFileError(ValueError):
    """The file is not what it says, with where and why."""


@dataclass
class BankItem:
    deposit_date: dt.date
    batch: str
    reference: str
    amount_minor: int
    kind: str = "payment"  # or "return"
    method: str = "check"  # or "bank_transfer"
    check_number: str = ""
    scan_line: str = ""
    invoice_number: str = ""
    account_number: str = ""
    payer_name: str = ""
    original_reference: str = ""
    text: str = ""
    where: str = ""  # "line 7" (lockbox) or "record 12" (BAI2): for refusals


@dataclass
class BankFileRead:
    items: list[BankItem]
    skipped: int = 0
    deposit_totals: dict[str, int] = field(default_factory=dict)  # batch -> bank's total


LOCKBOX_REQUIRED = ("deposit_date", "item_reference", "amount")


def read_lockbox(content: str) -> BankFileRead:
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in LOCKBOX_REQUIRED if c not in columns]
    if missing:
        raise BankFileError(f"the header has no {', '.join(missing)} column")
    reader.fieldnames = columns
    items = []
    for number, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(row.values()):
            continue
        where = f"line {number}"
        kind = (row.get("type") or "check").lower()
        if kind not in ("check", "return"):
            raise BankFileError(f"{where}, type: must be check or return, not {kind!r}")
        try:
            date = dt.date.fromisoformat(row["deposit_date"])
        except ValueError:
            raise BankFileError(f"{where}, deposit_date: must be YYYY-MM-DD") from None
        reference = row["item_reference"]
        if not reference:
            raise BankFileError(f"{where}, item_reference: is required")
        amount = _cents(row["amount"], f"{where}, amount")
        if kind == "return" and not (row.get("original_reference") or row.get("check_number")):
            raise BankFileError(f"{where}, original_reference: a return names the check it returns")
        items.append(
            BankItem(
                deposit_date=date,
                batch=row.get("batch") or date.isoformat(),
                reference=reference,
                amount_minor=amount,
                kind="return" if kind == "return" else "payment",
                check_number=row.get("check_number", ""),
                scan_line=row.get("scan_line", ""),
                invoice_number=row.get("invoice_number", ""),
                account_number=row.get("account_number", ""),
                payer_name=row.get("payer_name", ""),
                original_reference=row.get("original_reference", ""),
                where=where,
            )
        )
    return BankFileRead(items=items)


_AMOUNT = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?", re.ASCII)


def _cents(text: str, where: str) -> int:
    """Dollars and cents (``1,234.50``, ``$49.95``) as cents; NaN,
    Infinity, exponents and more than 15 digits are not amounts (their
    bound, AMOUNT_LIMIT, is the domain's: deposits.bank_files)."""
    plain = text.replace(",", "").replace("$", "").strip()
    if not _AMOUNT.fullmatch(plain):
        shown = repr(text[:40]) + ("…" if len(text) > 40 else "")
        raise BankFileError(f"{where}: {shown} is not an amount in dollars and cents (e.g. 49.95)")
    value = Decimal(plain)
    if value <= 0:
        raise BankFileError(f"{where}: must be more than zero")
    return int(value * 100)


_NAME = re.compile(r"\bNAME[\s:]+(.+?)(?=\s+(?:INV|ACCT|ORIG)\b|$)", re.I)
_ORIG = re.compile(r"\bORIG[\s:#]+(\S+)", re.I)


def read_bai2(content: str) -> BankFileRead:
    try:
        parsed = bai2.parse_from_string(content, check_integrity=True)
    except (
        ParsingException,
        IntegrityException,
        NotSupportedYetException,
        ValueError,
        IndexError,
    ) as exc:
        raise BankFileError(f"not a valid BAI2 file: {exc}") from None
    items, skipped, totals, number = [], 0, {}, 0
    for group in parsed.children:
        date = group.header.as_of_date
        for account in group.children:
            batch = f"{account.header.customer_account_number} {date.isoformat()}"
            for detail in account.children:
                number += 1
                code = detail.type_code.code
                is_return = code in RETURN_CODES
                is_credit = (
                    detail.type_code.transaction == TypeCodeTransaction.credit
                    and detail.type_code.level == TypeCodeLevel.detail
                )
                if not (is_return or is_credit) or not detail.amount or not detail.bank_reference:
                    skipped += 1
                    continue
                text = detail.text or ""
                name = _NAME.search(text)
                orig = _ORIG.search(text)
                items.append(
                    BankItem(
                        deposit_date=date,
                        batch=batch,
                        reference=detail.bank_reference,
                        amount_minor=int(detail.amount),
                        kind="return" if is_return else "payment",
                        method="bank_transfer" if code in ACH_CREDIT_CODES else "check",
                        check_number=detail.customer_reference or "",
                        payer_name=name.group(1).strip() if name else "",
                        original_reference=orig.group(1) if orig else "",
                        text=text,
                        where=f"16 record {number}",
                    )
                )
                if not is_return:
                    totals[batch] = totals.get(batch, 0) + int(detail.amount)
    return BankFileRead(items=items, skipped=skipped, deposit_totals=totals)


READERS = {"lockbox": read_lockbox, "bai2": read_bai2}


def format_of(content: str) -> str:
    """A BAI2 file starts with its 01 file header record; anything else is
    read as a lockbox CSV."""
    return "bai2" if content.lstrip("\ufeff \r\n\t").startswith("01,") else "lockbox"
