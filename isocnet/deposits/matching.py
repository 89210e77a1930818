"""Whom a check belongs to: by the scan line, then the invoice number, then
the account number, then the amount and the payer's name, each with a
confidence (0-100). Items at or above DEPOSIT_AUTO_POST_CONFIDENCE post by
themselves; the rest wait in the exceptions queue with suggestions.

| found by | confidence |
|---|---|
| a valid scan line whose invoice is its account's | 100 |
| an invoice number (and no account that disagrees) | 95 |
| an account number | 90 |
| scan line, invoice and account that disagree | 50 (suggestions) |
| amount equal to an open balance, and a similar name | up to 70 (suggestions) |
| a similar name alone | up to 40 (suggestions) |

Reads in bulk: one query for the invoices and one for the accounts that
the items name, whatever their number.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from django.conf import settings

from isocnet.customers.models import Customer
from isocnet.deposits.models import Match
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.invoicing.scanline import ScanLineError, scan_line_in_text, scan_line_parse

SUGGESTIONS = 5


@dataclass
class Slip:
    """What a check came with: typed by a clerk or read from a bank file."""

    amount_minor: int
    scan_line: str = ""
    account_number: str = ""
    invoice_number: str = ""
    payer_name: str = ""
    text: str = ""  # a bank file's free remittance text, searched for the rest


@dataclass
class Found:
    customer_id: int | None = None
    invoice_id: int | None = None
    match: str = Match.NONE
    confidence: int = 0
    note: str = ""
    suggestions: list[dict] = field(default_factory=list)

    @property
    def sure(self) -> bool:
        return self.customer_id is not None and self.confidence >= auto_post_confidence()


def auto_post_confidence() -> int:
    return settings.DEPOSIT_AUTO_POST_CONFIDENCE


_INVOICE_IN_TEXT = re.compile(r"\bINV(?:OICE)?[\s#:.-]*([0-9A-Z][0-9A-Z-]+)", re.I)
_ACCOUNT_IN_TEXT = re.compile(r"\bACC(?:OUN)?T[\s#:.-]*([0-9A-Z][0-9A-Z-]+)", re.I)


def _from_text(slip: Slip) -> Slip:
    """Fill what the free text says and the fields do not."""
    if not slip.text:
        return slip
    text = slip.text
    if not slip.scan_line:
        found = scan_line_in_text(text)
        if found is not None:
            slip.scan_line = str(found)
    if not slip.invoice_number and (m := _INVOICE_IN_TEXT.search(text)):
        slip.invoice_number = m.group(1)
    if not slip.account_number and (m := _ACCOUNT_IN_TEXT.search(text)):
        slip.account_number = m.group(1)
    return slip


@dataclass
class _Known:
    invoices: dict[str, tuple[int, int, str, int]]  # number -> (id, customer, status, balance)
    accounts: dict[str, int]  # account number (upper) -> customer id


def _look_up(slips: list[Slip]) -> _Known:
    numbers, accounts = set(), set()
    for slip in slips:
        if slip.scan_line:
            try:
                parsed = scan_line_parse(slip.scan_line)
            except ScanLineError:
                pass
            else:
                numbers.add(parsed.invoice_number)
                accounts.add(parsed.account_number)
        if slip.invoice_number:
            numbers.add(slip.invoice_number.strip().upper())
        if slip.account_number:
            accounts.add(slip.account_number.strip().upper())
    invoices = {
        number.upper(): (pk, customer_id, status, balance)
        for number, pk, customer_id, status, balance in Invoice.objects.filter(
            number__in=numbers
        ).values_list("number", "pk", "customer_id", "status", "balance_minor")
    }
    customers = {
        number.upper(): pk
        for number, pk in Customer.objects.filter(account_number__in=accounts).values_list(
            "account_number", "pk"
        )
    }
    return _Known(invoices=invoices, accounts=customers)


def match_slips(slips: list[Slip]) -> list[Found]:
    """Each slip's match, in order."""
    slips = [_from_text(slip) for slip in slips]
    known = _look_up(slips)
    return [_match(slip, known) for slip in slips]


def match_slip(slip: Slip) -> Found:
    return match_slips([slip])[0]


def _match(slip: Slip, known: _Known) -> Found:
    notes = []
    invoice_number = slip.invoice_number.strip().upper()
    account_number = slip.account_number.strip().upper()
    if slip.scan_line:
        try:
            parsed = scan_line_parse(slip.scan_line)
        except ScanLineError as exc:
            notes.append(f"scan line unreadable ({exc})")
        else:
            invoice = known.invoices.get(parsed.invoice_number)
            customer_id = known.accounts.get(parsed.account_number)
            if invoice and invoice[1] == customer_id:
                return Found(customer_id, invoice[0], Match.SCAN_LINE, 100, _paid_note(invoice))
            invoice_number = invoice_number or parsed.invoice_number
            account_number = account_number or parsed.account_number
            notes.append("the scan line's account and invoice do not agree")
    invoice = known.invoices.get(invoice_number) if invoice_number else None
    customer_id = known.accounts.get(account_number) if account_number else None
    if invoice_number and invoice is None:
        notes.append(f"no invoice numbered {invoice_number}")
    if account_number and customer_id is None:
        notes.append(f"no account numbered {account_number}")
    if invoice and customer_id and invoice[1] != customer_id:
        note = f"invoice {invoice_number} is not account {account_number}'s"
        return Found(
            match=Match.NONE,
            confidence=50,
            note="; ".join([*notes, note]),
            suggestions=_suggest([(invoice[1], invoice[0], 50), (customer_id, None, 50)]),
        )
    if invoice:
        note = "; ".join(x for x in [*notes, _paid_note(invoice)] if x)
        return Found(invoice[1], invoice[0], Match.INVOICE, 95, note)
    if customer_id:
        return Found(customer_id, None, Match.ACCOUNT, 90, "; ".join(notes))
    return _by_amount_and_name(slip, notes)


def _paid_note(invoice: tuple[int, int, str, int]) -> str:
    if invoice[2] in OPEN_STATUSES:
        return ""
    return "the invoice is already paid or closed: the check goes to the account"


def _normal(name: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", name.lower()).split())


def _similarity(name: str, other: str) -> int:
    """How alike two names are, 0-100 (difflib's ratio, as a percentage)."""
    return int(100 * difflib.SequenceMatcher(None, name, _normal(other)).ratio())


def _by_amount_and_name(slip: Slip, notes: list[str]) -> Found:
    """Suggestions only: never sure enough to post by itself."""
    name = _normal(slip.payer_name)
    scored: dict[tuple[int, int | None], int] = {}
    for pk, customer_id, customer_name in Invoice.objects.filter(
        status__in=OPEN_STATUSES, balance_minor=slip.amount_minor
    ).values_list("pk", "customer_id", "customer__name")[:50]:
        similar = _similarity(name, customer_name) if name else 0
        scored[(customer_id, pk)] = 40 + 30 * similar // 100
    if name:
        words = [w for w in name.split() if len(w) > 2]
        if words:
            candidates = Customer.objects.filter(name__icontains=max(words, key=len))
            for customer_id, customer_name in candidates.values_list("pk", "name")[:50]:
                similar = _similarity(name, customer_name)
                if similar >= 50 and not any(k[0] == customer_id for k in scored):
                    scored[(customer_id, None)] = 40 * similar // 100
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0][0]))[:SUGGESTIONS]
    if not ranked:
        return Found(note="; ".join([*notes, "no account, invoice or similar name"]))
    return Found(
        match=Match.AMOUNT_NAME,
        confidence=ranked[0][1],
        note="; ".join([*notes, "matched by amount and name only: a clerk confirms"]),
        suggestions=_suggest([(c, i, score) for (c, i), score in ranked]),
    )


def _suggest(rows: list[tuple[int, int | None, int]]) -> list[dict]:
    """Suggestions a clerk can pick: the account, the invoice (if any) and
    the confidence, with the words to show."""
    customers = {
        pk: f"{account} {name}"
        for pk, account, name in Customer.objects.filter(pk__in={r[0] for r in rows}).values_list(
            "pk", "account_number", "name"
        )
    }
    invoices = dict(
        Invoice.objects.filter(pk__in={r[1] for r in rows if r[1]}).values_list("pk", "number")
    )
    out = []
    for customer_id, invoice_id, score in rows:
        label = customers[customer_id]
        if invoice_id:
            label += f", invoice {invoices[invoice_id]}"
        out.append(
            {
                "customer_id": customer_id,
                "invoice_id": invoice_id,
                "label": label,
                "confidence": score,
            }
        )
    return out
