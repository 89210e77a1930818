"""The receipt PDF: the invoice with the payments received up to and
including one payment, and the balance after it ($0.00 = paid in full)."""

from __future__ import annotations

from django.db.models import Q

from isocnet.core import clock, formatting
from isocnet.core.money import Money
from isocnet.documents.invoices import company, invoice_document_data, invoices_prefetch
from isocnet.documents.models import DocumentKind, StoredDocument
from isocnet.documents.renderer import render_pdf
from isocnet.invoicing.models import CreditNote, Invoice
from isocnet.ledger.models import Allocation, CreditEntry, CreditKind
from isocnet.payments.models import Payment, Receipt


def receipt_facts(invoice: Invoice, payment: Payment) -> dict:
    """Payments applied to ``invoice`` up to ``payment`` (in order), the
    total paid and the balance after it."""
    return receipts_facts([(invoice, payment)])[(invoice.pk, payment.pk)]


def receipts_facts(pairs: list[tuple[Invoice, Payment]]) -> dict[tuple[int, int], dict]:
    """``receipt_facts`` of each (invoice, payment), keyed by their ids, in
    three queries for all of them."""
    if not pairs:
        return {}
    invoice_ids = {invoice.pk for invoice, _ in pairs}
    # the invoices' allocations by their index, then their payments by key
    # (never a join a planner with stale statistics turns into a payment scan)
    payment_ids = {p.pk for _, p in pairs}
    newest = max(payment_ids)
    # in one query: the invoices' allocations up to the newest payment, and
    # every allocation of the payments themselves (where the rest of each went)
    read = list(
        Allocation.objects.filter(
            Q(invoice_id__in=invoice_ids, payment_id__lte=newest) | Q(payment_id__in=payment_ids)
        ).order_by("payment_id", "id")
    )
    allocations = [a for a in read if a.invoice_id in invoice_ids and a.payment_id <= newest]
    spread = [a for a in read if a.payment_id in payment_ids and a.refund_id is None]
    payments = Payment.objects.in_bulk({a.payment_id for a in allocations})
    credits = list(
        CreditEntry.objects.filter(
            invoice_id__in=invoice_ids,
            kind__in=[CreditKind.APPLIED, CreditKind.UNAPPLIED],  # as ledger.sums counts it
            created_at__lte=max(p.created_at for _, p in pairs),
        ).order_by("id")
    )
    notes = list(
        CreditNote.objects.filter(
            invoice_id__in=invoice_ids, created_at__lte=max(p.created_at for _, p in pairs)
        ).values_list("invoice_id", "applied_minor", "created_at")
    )
    numbers = {invoice.pk: invoice.number for invoice, _ in pairs}
    elsewhere = {a.invoice_id for a in spread} - set(numbers)
    if elsewhere:  # read only when a payment went to invoices not in these pairs
        numbers.update(Invoice.objects.filter(pk__in=elsewhere).values_list("pk", "number"))

    facts = {}
    for invoice, payment in pairs:
        applied = [
            a
            for a in allocations
            if a.invoice_id == invoice.pk
            and a.payment_id <= payment.pk
            and payments[a.payment_id].status == "succeeded"
        ]
        for a in applied:
            a.payment, a.invoice = payments[a.payment_id], invoice
        used = [
            c for c in credits if c.invoice_id == invoice.pk and c.created_at <= payment.created_at
        ]
        credited = sum(
            minor for i, minor, at in notes if i == invoice.pk and at <= payment.created_at
        )
        facts[(invoice.pk, payment.pk)] = {
            **_facts(invoice, payment, applied, used, credited),
            **_spread(invoice, payment, spread, numbers),
        }
    return facts


def _spread(invoice: Invoice, payment: Payment, spread: list, numbers: dict) -> dict:
    """The whole payment: received, applied to other invoices (number,
    amount), kept as account credit (what its allocations left: a refund's
    reversals are not counted, so the receipt says what happened then)."""
    currency = payment.currency
    own = [a for a in spread if a.payment_id == payment.pk]
    kept_minor = max(payment.amount_minor - sum(a.amount_minor for a in own), 0)
    others = [
        (numbers.get(a.invoice_id, "?"), Money.from_minor(a.amount_minor, currency))
        for a in own
        if a.invoice_id != invoice.pk
    ]
    return {
        "received": payment.amount,
        "other_invoices": others,
        "to_credit": Money.from_minor(kept_minor, currency),
    }


def _facts(
    invoice: Invoice, payment: Payment, allocations: list, credits: list, credited_minor: int
) -> dict:
    zero = Money.zero(invoice.currency)
    rows = [
        {
            "date": formatting.date(a.payment.received_on),
            "method": a.payment.get_method_display(),
            "reference": a.payment.reference or "—",
            "amount": formatting.money(a.amount),
            "this": a.payment_id == payment.pk,
        }
        for a in allocations
    ] + [
        {
            "date": formatting.date(clock.localdate(c.created_at)),
            "method": (
                "Account credit taken back" if c.kind == CreditKind.UNAPPLIED else "Account credit"
            ),
            "reference": c.memo,
            "amount": formatting.money(-c.amount),
            "this": False,
        }
        for c in credits
    ]
    paid = sum((a.amount for a in allocations), zero) + sum((-c.amount for c in credits), zero)
    this_payment = sum((a.amount for a in allocations if a.payment_id == payment.pk), zero)
    return {
        "rows": rows,
        "paid": paid,
        "balance": invoice.total - paid - Money.from_minor(credited_minor, invoice.currency),
        "credited": Money.from_minor(credited_minor, invoice.currency),
        "this_payment": this_payment,
    }


def receipt_document_data(
    invoice: Invoice, payment: Payment, facts: dict | None = None, receipt: Receipt | None = None
) -> dict:
    """What the receipt PDF shows (``facts``: its ``receipt_facts``, and
    ``receipt`` its row, when already read): the receipt's own number and
    date, the payment (date, method, reference, amount applied), what the
    invoice was for, every payment received on it so far and the balance
    after this one, once ($0.00 = paid in full)."""
    facts = facts or receipt_facts(invoice, payment)
    receipt = receipt or receipt_of(invoice, payment)
    data = invoice_document_data(invoice)
    fmt = formatting.money
    balance = facts["balance"]
    data["doc"] = {
        **data["doc"],
        "title": "RECEIPT",
        "number_label": "Receipt number",
        "number": receipt.number if receipt else "",
        "date_label": "Receipt date",
        "issue_date": formatting.date(receipt.issue_date if receipt else payment.received_on),
        "due_date": "",
        "extra": [{"label": "Invoice", "value": f"#{invoice.number}"}],
    }
    data["bill_to_label"] = "RECEIVED FROM"
    data["payment"] = {
        "date": formatting.date(payment.received_on),
        "method": payment.get_method_display(),
        "reference": payment.reference or "—",
        "amount": fmt(facts["this_payment"]),
        "spread": spread_lines(facts),
    }
    data["applied"] = []
    data["balance"] = None  # printed once, under the payments received
    if facts["credited"].minor():
        data["credited"] = {"label": "Less credit notes", "amount": fmt(facts["credited"])}
    data["payments"] = facts["rows"]
    data["total_paid"] = fmt(facts["paid"])
    data["stamp"] = "PAID IN FULL" if balance.amount == 0 else None
    data["receipt_balance_line"] = (
        f"Balance: {fmt(balance)} — PAID IN FULL"
        if balance.amount == 0
        else f"Remaining balance: {fmt(balance)}"
    )
    data["how_to_pay_title"] = "About this receipt"
    data["how_to_pay"] = [
        "This is a receipt: the payments above have been applied to your account. It does not need to be paid.",
    ]
    if balance.amount:
        data["how_to_pay"].append(
            f"The remaining balance of {fmt(balance)} is due on "
            f"{formatting.date(invoice.due_date)}."
        )
    data["slip"] = None
    return data


def spread_lines(facts: dict) -> list[str]:
    """Where the rest of a payment went, in words (empty when all of it
    was applied to this invoice): the receipt's email and its PDF say the
    same."""
    fmt = formatting.money
    if facts["received"] == facts["this_payment"]:
        return []
    lines = [f"Amount received: {fmt(facts['received'])}"]
    lines += [f"Applied to invoice #{n}: {fmt(amount)}" for n, amount in facts["other_invoices"]]
    if facts["to_credit"].minor():
        lines.append(
            f"Kept as account credit: {fmt(facts['to_credit'])} (it pays your next invoices)"
        )
    return lines


def credit_receipt_document_data(payment: Payment, receipt: Receipt) -> dict:
    """The receipt of a payment that paid no invoice: received, kept as
    account credit, and what the credit does next."""
    customer = payment.customer
    fmt = formatting.money
    kept = Money.from_minor(receipt.amount_minor, receipt.currency)
    return {
        "company": company(),
        "doc": {
            "title": "RECEIPT",
            "number_label": "Receipt number",
            "number": receipt.number,
            "date_label": "Receipt date",
            "issue_date": formatting.date(receipt.issue_date),
            "due_date": "",
            "account_number": customer.account_number,
        },
        "bill_to_label": "RECEIVED FROM",
        "bill_to": {
            "name": customer.name,
            "company": customer.company,
            "address": customer.address_lines(),
            "email": customer.email,
        },
        "lines": [
            {
                "description": "Payment kept as account credit (no invoice was open)",
                "period": "",
                "quantity": "1",
                "unit_price": fmt(kept),
                "amount": fmt(kept),
            }
        ],
        "subtotal": fmt(kept),
        "taxes": [],
        "total": fmt(kept),
        "applied": [],
        "balance": None,
        "payment": {
            "date": formatting.date(payment.received_on),
            "method": payment.get_method_display(),
            "reference": payment.reference or "—",
            "amount_label": "Kept as account credit",
            "amount": fmt(kept),
            "spread": [
                f"Amount received: {fmt(payment.amount)}",
                f"Kept as account credit: {fmt(kept)} (it pays your next invoices)",
            ],
        },
        "payments": [
            {
                "date": formatting.date(payment.received_on),
                "method": payment.get_method_display(),
                "reference": payment.reference or "—",
                "amount": fmt(payment.amount),
            }
        ],
        "total_paid": fmt(payment.amount),
        "receipt_balance_line": f"Account credit from this payment: {fmt(kept)}",
        "how_to_pay_title": "About this receipt",
        "how_to_pay": [
            "This is a receipt: your payment has been applied to your account as credit. "
            "It does not need to be paid.",
            "The credit pays your next invoices automatically.",
        ],
        "slip": None,
    }


def credit_receipt_pdf(payment: Payment, receipt: Receipt) -> StoredDocument:
    """The stored PDF of a credit-only receipt (rendered once, kept as sent)."""
    return StoredDocument.stored_once(
        lambda: (
            render_pdf("invoice.typ", credit_receipt_document_data(payment, receipt)),
            receipt.filename,
        ),
        kind=DocumentKind.RECEIPT,
        invoice=None,
        payment=payment,
    )


def receipt_of(invoice: Invoice, payment: Payment) -> Receipt | None:
    return Receipt.objects.filter(invoice=invoice, payment=payment).first()


def receipt_filename(receipt: Receipt | None, invoice: Invoice) -> str:
    return receipt.filename if receipt else f"Receipt-{invoice.number}.pdf"


def receipt_pdf(invoice: Invoice, payment: Payment) -> StoredDocument:
    def render() -> tuple[bytes, str]:
        receipt = receipt_of(invoice, payment)  # read only when the PDF is made
        data = receipt_document_data(invoice, payment, receipt=receipt)
        return render_pdf("invoice.typ", data), receipt_filename(receipt, invoice)

    return StoredDocument.stored_once(
        render, kind=DocumentKind.RECEIPT, invoice=invoice, payment=payment
    )


def receipt_pdfs_render(*, payment_ids: list[int]) -> int:
    """Render and store the receipt PDFs of these payments (one per invoice
    each was applied to) that have none yet, ahead of their emails: data read
    here, Typst on DOCUMENT_RENDER_THREADS threads (documents.renderer).
    Returns how many it rendered; safe to run twice or at once."""
    stored = 0
    for start in range(0, len(payment_ids), 50):
        chunk = payment_ids[start : start + 50]
        done = set(
            StoredDocument.objects.filter(
                kind=DocumentKind.RECEIPT, payment_id__in=chunk
            ).values_list("invoice_id", "payment_id")
        )
        pairs = [
            (a.invoice, a.payment)
            for a in Allocation.objects.filter(
                payment_id__in=Payment.objects.filter(pk__in=chunk, status="succeeded")
                .values_list("pk", flat=True)
                .order_by()
            )
            .select_related("invoice__customer", "payment")
            .order_by("payment_id", "id")
            if (a.invoice_id, a.payment_id) not in done
        ]
        invoices_prefetch([invoice for invoice, _ in pairs])
        facts = receipts_facts(pairs)
        receipts = {
            (r.invoice_id, r.payment_id): r
            for r in Receipt.objects.filter(payment_id__in={p.pk for _, p in pairs})
        }
        stored += StoredDocument.keep_rendered(
            [
                (
                    receipt_document_data(
                        invoice,
                        payment,
                        facts[(invoice.pk, payment.pk)],
                        receipt=receipts.get((invoice.pk, payment.pk)),
                    ),
                    {
                        "kind": DocumentKind.RECEIPT,
                        "invoice": invoice,
                        "payment": payment,
                        "filename": receipt_filename(
                            receipts.get((invoice.pk, payment.pk)), invoice
                        ),
                    },
                )
                for invoice, payment in pairs
            ]
        )
    return stored
