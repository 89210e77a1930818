"""Exports for the accountant: invoices, invoice lines, payments and credit
notes of a date range, as rows (header first) an accounting package can
import. Amounts are plain decimals in the document's currency; streamed,
so a year of a large ISP does not sit in memory."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator

from isocnet.core.money import Money
from isocnet.invoicing.models import CreditNote, Invoice, InvoiceLine, InvoiceStatus
from isocnet.ledger.models import Allocation
from isocnet.payments.models import Payment

KINDS = ("invoices", "lines", "payments", "credit-notes")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _m(minor: int, currency: str) -> str:
    return Money.from_minor(minor, currency).as_string()


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _invoices_rows(start: dt.date, end: dt.date) -> Iterator[list]:
    yield [
        "number",
        "issue_date",
        "due_date",
        "status",
        "account_number",
        "customer",
        "currency",
        "subtotal",
        "tax",
        "total",
        "paid",
        "credit_applied",
        "credited",
        "balance",
    ]
    invoices = (
        Invoice.objects.filter(issue_date__gte=start, issue_date__lte=end)
        .exclude(status=InvoiceStatus.DRAFT)
        .select_related("customer")
        .order_by("issue_date", "sequence", "id")
    )
    for inv in invoices.iterator(chunk_size=2000):
        c = inv.currency
        yield [
            inv.number,
            inv.issue_date.isoformat(),
            inv.due_date.isoformat(),
            inv.status,
            inv.customer.account_number,
            inv.customer.name,
            c,
            _m(inv.subtotal_minor, c),
            _m(inv.tax_minor, c),
            _m(inv.total_minor, c),
            _m(inv.amount_paid_minor, c),
            _m(inv.credit_applied_minor, c),
            _m(inv.credited_minor, c),
            _m(inv.balance_minor, c),
        ]


def _lines_rows(start: dt.date, end: dt.date) -> Iterator[list]:
    yield [
        "invoice",
        "issue_date",
        "account_number",
        "line",
        "kind",
        "description",
        "plan",
        "period_start",
        "period_end",
        "quantity",
        "unit_price",
        "amount",
        "taxes",
        "currency",
    ]
    lines = (
        InvoiceLine.objects.filter(invoice__issue_date__gte=start, invoice__issue_date__lte=end)
        .exclude(invoice__status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
        .select_related("invoice__customer", "subscription__plan")
        .order_by("invoice__issue_date", "invoice__sequence", "id")
    )
    for n, line in enumerate(lines.iterator(chunk_size=2000), start=1):
        inv = line.invoice
        c = inv.currency
        yield [
            inv.number,
            inv.issue_date.isoformat(),
            inv.customer.account_number,
            n,
            line.kind,
            line.description,
            line.subscription.plan.code if line.subscription_id else "",
            line.period_start.isoformat() if line.period_start else "",
            line.period_last_day.isoformat() if line.period_start else "",
            f"{line.quantity}",
            _m(line.unit_price_minor, c),
            _m(line.amount_minor, c),
            ";".join(f"{t['name']} {t['percent']}%" for t in (line.taxes or [])),
            c,
        ]


def _payments_rows(start: dt.date, end: dt.date) -> Iterator[list]:
    # One row per payment, as the accountant books it: when, from whom,
    # for which invoice(s), how, its reference and amount.
    yield [
        "date",
        "account_number",
        "customer",
        "invoice",
        "method",
        "reference",
        "amount",
        "currency",
        "status",
        "applied_to",
        "payment_id",
    ]
    payments = (
        Payment.objects.filter(received_on__gte=start, received_on__lte=end)
        .select_related("customer")
        .order_by("received_on", "id")
    )
    for chunk in _chunks(payments.iterator(chunk_size=2000), 2000):
        applied: dict[int, list] = {}
        for a in (
            Allocation.objects.filter(payment_id__in=[p.pk for p in chunk], refund__isnull=True)
            .select_related("invoice")
            .order_by("id")
        ):
            applied.setdefault(a.payment_id, []).append(a)
        for pay in chunk:
            mine = applied.get(pay.pk, [])
            yield [
                pay.received_on.isoformat(),
                pay.customer.account_number,
                pay.customer.name,
                ";".join(a.invoice.number for a in mine),
                pay.get_method_display(),
                pay.reference,
                _m(pay.amount_minor, pay.currency),
                pay.currency,
                pay.status,
                ";".join(f"{a.invoice.number}={_m(a.amount_minor, pay.currency)}" for a in mine),
                pay.pk,
            ]


def _credit_notes_rows(start: dt.date, end: dt.date) -> Iterator[list]:
    yield [
        "number",
        "issue_date",
        "invoice",
        "account_number",
        "amount",
        "applied_to_invoice",
        "to_account_credit",
        "reason",
        "currency",
    ]
    notes = (
        CreditNote.objects.filter(issue_date__gte=start, issue_date__lte=end)
        .select_related("invoice", "customer")
        .order_by("issue_date", "sequence")
    )
    for note in notes.iterator(chunk_size=2000):
        c = note.currency
        yield [
            note.number,
            note.issue_date.isoformat(),
            note.invoice.number,
            note.customer.account_number,
            _m(note.amount_minor, c),
            _m(note.applied_minor, c),
            _m(note.to_credit_minor, c),
            note.reason,
            c,
        ]


_EXPORTS = {
    "invoices": _invoices_rows,
    "lines": _lines_rows,
    "payments": _payments_rows,
    "credit-notes": _credit_notes_rows,
}


def export_rows(kind: str, start: dt.date, end: dt.date) -> Iterator[list]:
    """The rows (header first) of one export: ``kind`` is one of KINDS."""
    if kind not in _EXPORTS:
        raise ValueError(f"unknown export {kind!r}")
    return _EXPORTS[kind](start, end)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows) -> Iterator[str]:
    """Rows as CSV text, one line at a time (for streaming responses).
    Cells that a spreadsheet would run as a formula are quoted with a
    leading apostrophe (CSV injection)."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([_safe(cell) for cell in row])


def _safe(cell):
    if (isinstance(cell, str) and cell[:1] in ("=", "+", "@", "\t", "\r")) or (
        isinstance(cell, str) and cell[:1] == "-" and not _is_number(cell)
    ):
        return "'" + cell
    return cell


def _is_number(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text))
