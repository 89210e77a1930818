"""Importing the bank's lockbox or BAI2 file: each deposit of the file
becomes a batch, each item is matched (deposits.matching), the sure ones
post at once, the rest wait in the exceptions queue, and returned items
become returned payments (payments.returns: the payment voided, its
invoices reopened, the fee and the notice).

Exactly once, keyed by the bank's item reference (a unique index): a file
imported twice, or two files naming the same item (a lockbox file and the
BAI2 of the same day), post each item once; the second import reports the
items it already had. The import is one transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import BillingError, Conflict, InvalidInput
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.core.validation import (
    clean_choice,
    clean_line,
    clean_money,
    clean_payment_date,
    text_problem,
)
from isocnet.customers.services import customers_lock
from isocnet.deposits.bank_formats import READERS, BankFileError, BankItem, format_of
from isocnet.deposits.matching import Slip, match_slips
from isocnet.deposits.models import (
    BankFile,
    BatchStatus,
    DepositBatch,
    DepositItem,
    ItemKind,
    ItemState,
    Match,
    Source,
)
from isocnet.deposits.posting import (
    audit_write,
    item_move,
    item_post_locked,
    items_post_plain_locked,
)
from isocnet.invoicing.models import Invoice
from isocnet.payments.models import Payment, PaymentKind, PaymentStatus
from isocnet.payments.returns import payment_return

MAX_BYTES = 20 * 1024 * 1024


@dataclass
class ImportResult:
    bank_file: BankFile
    items: int
    posted: int
    exceptions: int
    returned: int
    already: int
    skipped: int
    posted_total: Money
    exception_total: Money

    def as_dict(self) -> dict:
        return {
            "items": self.items,
            "posted": self.posted,
            "exceptions": self.exceptions,
            "returned": self.returned,
            "already_imported": self.already,
            "skipped": self.skipped,
            "posted_total": self.posted_total.as_string(),
            "exception_total": self.exception_total.as_string(),
        }


def bank_file_import(
    *, actor: Actor, format: str | None, filename: str, content: str
) -> ImportResult:
    """Read, match and post a bank file (see the module's docstring).
    ``format`` None: told by the file itself (bank_formats.format_of)."""
    require(actor, "payment.record")
    if not format and isinstance(content, str):
        format = format_of(content)
    format = clean_choice(format, "format", [Source.LOCKBOX, Source.BAI2])
    filename = clean_line(filename or "bank-file", "filename", max_length=200)
    if not isinstance(content, str) or not content.strip():
        raise InvalidInput("the file is empty", field="content")
    if len(content) > MAX_BYTES or len(content.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InvalidInput(f"the file is over {MAX_BYTES // 1024 // 1024} MB", field="content")
    unreadable = _unreadable_line(content)
    if unreadable:
        raise InvalidInput(unreadable, field="content")
    try:
        read = READERS[format](content)
    except BankFileError as exc:
        raise InvalidInput(str(exc), field="content") from None
    for item in read.items:
        bank_item_clean(item, settings.CURRENCY)
    references = [item.reference for item in read.items]
    if len(set(references)) != len(references):
        twice = sorted({r for r in references if references.count(r) > 1})[:3]
        raise InvalidInput(f"the file names item {', '.join(twice)} twice", field="content")
    try:
        return _import(actor, format, filename, content, read)
    except IntegrityError:
        # the same items imported at this moment by someone else: theirs
        # counts, and this import now finds them all already there
        return _import(actor, format, filename, content, read)


def _unreadable_line(content: str) -> str | None:
    """Where the file holds what no reader should meet (NUL, a lone
    surrogate, bytes that were not UTF-8), before any reader sees it."""
    for number, line in enumerate(content.splitlines(), start=1):
        if "\x00" in line:
            return f"line {number}: holds a NUL character (not a bank file)"
        if "\ufffd" in line or any("\ud800" <= ch <= "\udfff" for ch in line):
            return f"line {number}: holds bytes that are not UTF-8 text"
    return None


# The text of an item as the deposit desk keeps it: the same bounds as a
# check keyed by a clerk (deposits.batches), the bank's references too.
_ITEM_TEXT = {
    "batch": ("batch", 120),
    "reference": ("item_reference", 80),
    "check_number": ("check_number", 40),
    "scan_line": ("scan_line", 80),
    "invoice_number": ("invoice_number", 40),
    "account_number": ("account_number", 40),
    "payer_name": ("payer_name", 140),
    "original_reference": ("original_reference", 80),
}


def bank_item_clean(item: BankItem, currency: str) -> BankItem:
    """Refuse an item the API or the deposit desk would refuse: an amount
    beyond AMOUNT_LIMIT, a deposit date outside the payment window (not in
    the future, at most PAYMENT_BACKDATE_DAYS ago), text that breaks lines
    or storage or holds a card number, a reference longer than is kept (never
    cut: two references sharing their first 80 characters are two items).
    The refusal names the file's line (or record) and column; the file is
    refused whole, nothing is stored."""
    try:
        for attr, (column, max_length) in _ITEM_TEXT.items():
            setattr(
                item,
                attr,
                clean_line(getattr(item, attr), column, max_length=max_length, required=False),
            )
        clean_money(Money.from_minor(item.amount_minor, currency), "amount", currency)
        clean_payment_date(item.deposit_date, "deposit_date")
    except InvalidInput as exc:
        raise InvalidInput(f"{item.where}, {exc.field}: {exc.message}", field="content") from None
    problem = text_problem(item.text, multiline=False) if item.text else None
    if problem:
        raise InvalidInput(f"{item.where}, text: {problem}", field="content")
    return item


def _import(actor, format, filename, content, read) -> ImportResult:
    currency = settings.CURRENCY
    with transaction.atomic():
        bank_file = BankFile.objects.create(
            format=format,
            filename=filename,
            sha256=hashlib.sha256(content.encode()).hexdigest(),
            content=content,
            received_at=clock.now(),
            imported_by=actor.label,
        )
        had = set(
            DepositItem.objects.filter(
                bank_reference__in=[i.reference for i in read.items]
            ).values_list("bank_reference", flat=True)
        )
        new = [item for item in read.items if item.reference not in had]
        payments = [item for item in new if item.kind == "payment"]
        found = match_slips(
            [
                Slip(
                    amount_minor=i.amount_minor,
                    scan_line=i.scan_line,
                    account_number=i.account_number,
                    invoice_number=i.invoice_number,
                    payer_name=i.payer_name,
                    text=i.text,
                )
                for i in payments
            ]
        )
        matched = dict(zip((id(i) for i in payments), found, strict=True))
        rows = _items(bank_file, format, currency, new, matched, read.deposit_totals)
        # every account this import touches, locked at once in id order (the
        # accounts of the checks it returns too), so two imports never deadlock
        returning = {row.pk: returned_check(row) for row in rows if row.kind == ItemKind.RETURN}
        customers = customers_lock(
            [row.customer_id for row in rows if row.state == ItemState.PENDING]
            + [payment.customer_id for payment in returning.values() if payment is not None]
        )
        audit: list = []
        posted = exceptions = returned = 0
        posted_total = exception_total = 0
        sure = [r for r in rows if r.kind == ItemKind.PAYMENT and r.state == ItemState.PENDING]
        bulk = items_post_plain_locked(actor=actor, items=sure, customers=customers, audit=audit)
        for row in rows:
            if row.pk in bulk:
                posted += 1
                posted_total += row.amount_minor
                continue
            if row.kind == ItemKind.RETURN:
                returned += return_item_post(actor, row, returning[row.pk])
                if row.state == ItemState.EXCEPTION:
                    exceptions += 1
                continue
            if row.state == ItemState.PENDING:  # sure: post now
                item_post_locked(
                    actor=actor,
                    item=row,
                    customer=customers[row.customer_id],
                    received_on=row.batch.deposit_date,
                    audit=audit,
                )
                posted += 1
                posted_total += row.amount_minor
            else:
                exceptions += 1
                exception_total += row.amount_minor
        audit_write(audit)
        result = ImportResult(
            bank_file=bank_file,
            items=len(read.items),
            posted=posted,
            exceptions=exceptions,
            returned=returned,
            already=len(read.items) - len(new),
            skipped=read.skipped,
            posted_total=Money.from_minor(posted_total, currency),
            exception_total=Money.from_minor(exception_total, currency),
        )
        bank_file.summary = result.as_dict()
        bank_file.save(update_fields=["summary"])
        audit_record(
            actor=actor,
            action="deposit.bank_file_import",
            obj=bank_file,
            after={"filename": filename, "format": format, **result.as_dict()},
        )
    return result


def _items(bank_file, format, currency, new, matched, totals) -> list[DepositItem]:
    """The batches (one per deposit of the file) and their items, written
    in bulk: sure matches PENDING (posted next), the rest EXCEPTION."""
    now = clock.now()
    by_batch: dict[tuple, list[BankItem]] = defaultdict(list)
    for item in new:
        by_batch[(item.batch, item.deposit_date)].append(item)
    rows = []
    for (reference, date), items in by_batch.items():
        credits = [i for i in items if i.kind == "payment"]
        batch = DepositBatch.objects.create(
            reference=reference[:120],
            deposit_date=date,
            currency=currency,
            expected_count=len(credits) or None,
            expected_total_minor=totals.get(reference) or None,
            source=format,
            bank_file=bank_file,
            status=BatchStatus.POSTED,
            created_by=bank_file.imported_by,
            created_at=now,
            posted_by=bank_file.imported_by,
            posted_at=now,
        )
        for position, item in enumerate(items, start=1):
            found = matched.get(id(item))
            sure = found is not None and found.sure
            rows.append(
                DepositItem(
                    batch=batch,
                    position=position,
                    kind=ItemKind.RETURN if item.kind == "return" else ItemKind.PAYMENT,
                    method=item.method,
                    state=ItemState.PENDING if sure else ItemState.EXCEPTION,
                    amount_minor=item.amount_minor,
                    currency=currency,
                    check_number=item.check_number[:40],
                    scan_line=item.scan_line[:80],
                    account_number=item.account_number[:40],
                    invoice_number=item.invoice_number[:40],
                    payer_name=item.payer_name[:140],
                    bank_reference=item.reference[:80],
                    original_reference=item.original_reference[:80],
                    customer_id=found.customer_id if sure else None,
                    invoice_id=found.invoice_id if sure else None,
                    match=found.match if found else Match.NONE,
                    confidence=found.confidence if found else 0,
                    note=(found.note if found else "")[:300],
                    suggestions=found.suggestions if found else [],
                    created_at=now,
                )
            )
    created = DepositItem.objects.bulk_create(rows)
    invoices = Invoice.objects.in_bulk({r.invoice_id for r in created if r.invoice_id})
    for row in created:
        if row.invoice_id:
            row.invoice = invoices[row.invoice_id]
    return created


def returned_check(row: DepositItem) -> Payment | None:
    """The payment a returned item takes back: the check whose bank
    reference it names, else the one check with its number and amount."""
    if row.original_reference:
        original = (
            DepositItem.objects.filter(bank_reference=row.original_reference, payment__isnull=False)
            .select_related("payment")
            .first()
        )
        if original is not None:
            return original.payment
    if row.check_number:
        candidates = list(
            Payment.objects.filter(
                method=PaymentKind.CHECK,
                reference=f"check #{row.check_number}",
                amount_minor=row.amount_minor,
                status=PaymentStatus.SUCCEEDED,
            )[:2]
        )
        if len(candidates) == 1:
            return candidates[0]
    return None


def return_item_post(actor: Actor, row: DepositItem, payment: Payment | None) -> int:
    """A returned item: ``payment`` (the check it names, ``returned_check``,
    or a clerk's choice) is returned (1); with none the item waits in the
    queue (0)."""
    if payment is None:
        _return_exception(row, "no posted check matches this returned item: find the payment")
        return 0
    try:
        with transaction.atomic():
            payment_return(
                actor=actor,
                payment_id=payment.pk,
                reason=f"Returned by the bank (item {row.bank_reference})"[:300],
            )
    except (Conflict, BillingError) as exc:
        _return_exception(row, f"payment {payment.pk}: {exc.message}")
        return 0
    item_move(row, ItemState.POSTED)
    row.customer_id = payment.customer_id
    row.returned_payment = payment
    row.note = (
        f"payment {payment.pk} ({payment.reference or payment.get_method_display()}) returned"
    )
    row.resolved_by, row.resolved_at = actor.label, clock.now()
    row.save(
        update_fields=[
            "state",
            "customer",
            "returned_payment",
            "note",
            "resolved_by",
            "resolved_at",
        ]
    )
    return 1


def _return_exception(row: DepositItem, note: str) -> None:
    row.note = note[:300]
    row.save(update_fields=["note"])
