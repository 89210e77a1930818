"""What each notice says. Rendered once per message and stored."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.template.loader import render_to_string

from isocnet.collections.models import PaymentPlan, Promise
from isocnet.collections.policy import Policy, current
from isocnet.core import clock, formatting
from isocnet.core.money import Money
from isocnet.documents.credit_notes import credit_note_document_data, credit_note_pdf, refund_pdf
from isocnet.documents.invoices import (
    company,
    invoice_document_data,
    invoice_filename,
    invoice_pdf,
    invoices_prefetch,
    render_invoice_pdf,
)
from isocnet.documents.models import DocumentKind, StoredDocument
from isocnet.documents.receipts import (
    credit_receipt_document_data,
    credit_receipt_pdf,
    receipt_document_data,
    receipt_facts,
    receipt_filename,
    receipt_of,
    receipt_pdf,
    receipts_facts,
    spread_lines,
)
from isocnet.documents.renderer import render_pdf
from isocnet.invoicing.models import CreditNote, Invoice
from isocnet.notifications.account_notices import render_account
from isocnet.notifications.message import Rendered, tidy
from isocnet.notifications.words import SUBJECTS, autopay_line, dunning_words
from isocnet.outbox.models import ACCOUNT_KINDS, MessageKind, OutboxMessage
from isocnet.payments.models import Payment, Receipt, Refund
from isocnet.payments.selectors import AutoDebitState, auto_debit_states


@dataclass
class Known:
    """What ``render_many_into`` read for a message before rendering it."""

    document: StoredDocument | None = None  # the stored PDF it attaches
    payment: object | None = None  # a receipt's payment
    facts: dict | None = None  # a receipt's receipt_facts
    receipt: object | None = None  # a receipt's Receipt row
    autopay: AutoDebitState | None = None  # an invoice notice's automatic payment
    autopay_read: bool = False  # whether ``autopay`` was read (None: never tried)
    policy: Policy | None = None  # the collections policy (its suspension day)


def invoice_url(invoice: Invoice) -> str:
    return f"{settings.PORTAL_URL}/invoices/{invoice.number}/"


def _context(invoice: Invoice, policy: Policy) -> dict:
    customer = invoice.customer
    doc = invoice_document_data(invoice)
    address = company()["address"]
    return {
        "name": customer.name,
        "company": settings.COMPANY_NAME,
        "company_email": settings.COMPANY_EMAIL,
        "company_phone": settings.COMPANY_PHONE,
        "issue_date": formatting.date(invoice.issue_date),
        "due_date": formatting.date(invoice.due_date),
        "suspension_date": formatting.date(policy.suspension_date(invoice.due_date)),
        "number": invoice.number,
        "amount_due": formatting.money(invoice.balance),
        "balance_due": bool(invoice.balance_minor),
        "total": doc["total"],
        "lines": [
            {"description": ln.description, "amount": formatting.money(ln.amount)}
            for ln in invoice.lines.all()
        ],
        "taxes": doc["taxes"],
        "applied": doc["applied"],
        "auto_debit": customer.auto_debit,
        "payment_method": doc["payment_method"],
        "invoice_url": invoice_url(invoice),
        "payable_to": settings.COMPANY_CHECKS_PAYABLE_TO,
        "mail_to": ", ".join([settings.COMPANY_NAME, *address]),
    }


def _invoice_context(invoice: Invoice, autopay: AutoDebitState | None, ctx: dict) -> dict:
    """The "Customer Invoice" notice says what the invoice asked for when it
    was issued (its total less the credit applied then), whatever was paid
    since; only line 5, about the automatic card payment, follows where
    that payment stands when the message is rendered, so that it is true
    when it is read (docs/notifications.md). ``ctx``: the invoice's
    ``_context``."""
    due = invoice.amount_due_at_issue
    ctx.update(
        amount_due=formatting.money(due),
        balance_due=bool(due.minor()),
        autopay_line=autopay_line(invoice, due, autopay) if invoice.customer.auto_debit else "",
        paid_from_credit=not due.minor(),
    )
    return ctx


def render(
    kind: str,
    invoice: Invoice,
    *,
    store_pdf: bool = True,
    context: dict | None = None,
    known: Known | None = None,
) -> Rendered:
    """Render a notice for an invoice. ``store_pdf=False`` (previews) renders
    the PDF without keeping it. ``context``: the message's own facts (the
    payment of a receipt, the reason of a failed charge). ``known``: what
    the caller has read already (``render_many_into``)."""
    known = known or Known()
    ctx = _context(invoice, known.policy or current())
    context = context or {}
    if context.get("suspension_date"):  # as the run decided it when queueing
        ctx["suspension_date"] = formatting.date(dt.date.fromisoformat(context["suspension_date"]))
    if context.get("late_fee"):  # a fee the run will charge, named before it is
        ctx["late_fee"] = formatting.money(Money.parse(context["late_fee"], invoice.currency))
        ctx["late_fee_date"] = formatting.date(dt.date.fromisoformat(context["late_fee_date"]))
    if context.get("plan"):
        plan = PaymentPlan.objects.get(pk=context["plan"])
        installments = list(plan.installments.all())
        ctx.update(
            plan_total=formatting.money(Money.from_minor(plan.total_minor, plan.currency)),
            plan_paid=formatting.money(Money.from_minor(plan.paid_minor, plan.currency)),
            plan_count=len(installments),
            plan_first=formatting.money(
                Money.from_minor(installments[0].amount_minor, plan.currency)
            ),
            plan_schedule="; ".join(
                f"{formatting.money(Money.from_minor(i.amount_minor, plan.currency))} on "
                f"{formatting.date(i.due_on)}"
                for i in installments
            ),
        )
    if context.get("promise"):
        promise = Promise.objects.get(pk=context["promise"])
        ctx.update(
            promise_amount=formatting.money(
                Money.from_minor(promise.amount_minor, promise.currency)
            ),
            promise_paid=formatting.money(Money.from_minor(promise.paid_minor, promise.currency)),
            promise_date=formatting.date(promise.promised_on),
        )
    subject = SUBJECTS[kind].format(**ctx)
    if kind == MessageKind.RECEIPT:
        return _render_receipt(ctx, invoice, context, store_pdf=store_pdf, known=known)
    if kind == MessageKind.INVOICE:
        text, html, attachment, document = _invoice_parts(invoice, store_pdf, known, ctx)
    else:
        text, html, attachment = _notice_parts(kind, ctx, invoice, context, subject, store_pdf)
        document = None
    customer = invoice.customer
    return Rendered(
        subject=subject,
        text=tidy(text),
        html=html,
        to=formataddr((customer.name, customer.email)),
        cc=list(customer.cc_emails or []),
        attachment=attachment,
        document=document,
    )


def _invoice_parts(invoice: Invoice, store_pdf: bool, known: Known, ctx: dict):
    """The "Customer Invoice" email: its text, HTML, the PDF as issued (the
    stored one, when kept) and that stored document."""
    autopay = (
        known.autopay if known.autopay_read else auto_debit_states([invoice.pk]).get(invoice.pk)
    )
    ctx = _invoice_context(invoice, autopay, ctx)
    text = render_to_string("notifications/invoice.txt", ctx)
    html = render_to_string("notifications/invoice.html", ctx)
    document = None
    if store_pdf:
        document = known.document or invoice_pdf(invoice)
        attachment = (document.filename, bytes(document.content))
    else:
        attachment = (invoice_filename(invoice), render_invoice_pdf(invoice))
    return text, html, attachment, document


def _notice_parts(
    kind: str, ctx: dict, invoice: Invoice, context: dict, subject: str, store_pdf: bool
):
    """Every other notice (reminders, overdue notices, failed charges,
    returned payments, refunds, credit notes): one template, its opening
    and closing words by kind; a credit note carries its PDF."""
    if context.get("refund"):
        ctx["refund_obj"] = Refund.objects.select_related("payment").get(pk=context["refund"])
    if context.get("credit_note"):
        ctx["credit_note_obj"] = CreditNote.objects.get(pk=context["credit_note"])
    if kind == MessageKind.PAYMENT_RETURNED and context.get("payment"):
        ctx["payment_obj"] = Payment.objects.get(pk=context["payment"])
        if context.get("fee"):
            ctx["fee_text"] = formatting.money(Money.parse(context["fee"], invoice.currency))
    if context.get("next_retry_on"):
        context = {
            **context,
            "next_retry_on": formatting.date(dt.date.fromisoformat(context["next_retry_on"])),
        }
    ctx.update({k: v for k, v in context.items() if k in {"reason", "card", "next_retry_on"} and v})
    # a preview speaks as of the day the notice goes out (notifications.previews)
    day = dt.date.fromisoformat(context["as_of"]) if context.get("as_of") else clock.today()
    opening, closing = dunning_words(kind, ctx, invoice, day)
    ctx.update(opening=opening, closing=closing, subject=subject, dunning=kind in DUNNING_KINDS)
    text = render_to_string("notifications/_notice.txt", ctx)
    html = render_to_string("notifications/_notice.html", ctx)
    attachment = None
    if kind == MessageKind.CREDIT_NOTE:
        note = ctx["credit_note_obj"]
        if store_pdf:
            doc = credit_note_pdf(note)
            attachment = (doc.filename, bytes(doc.content))
        else:
            attachment = (
                f"CreditNote-{note.number}.pdf",
                render_pdf("invoice.typ", credit_note_document_data(note)),
            )
    return text, html, attachment


DUNNING_KINDS = frozenset(
    {MessageKind.REMINDER, MessageKind.OVERDUE_1, MessageKind.OVERDUE_2, MessageKind.OVERDUE_3}
)


def _render_receipt(
    ctx: dict,
    invoice: Invoice,
    context: dict,
    *,
    store_pdf: bool,
    known: Known,
) -> Rendered:

    payment = known.payment or Payment.objects.get(pk=context["payment"])
    facts = known.facts or receipt_facts(invoice, payment)
    receipt = known.receipt or receipt_of(invoice, payment)
    ctx.update(
        receipt_number=receipt.number if receipt else "",
        total_paid=formatting.money(facts["paid"]),
        remaining=formatting.money(facts["balance"]) if facts["balance"].amount else "",
        payment_date=formatting.date(payment.received_on),
        payment_method=payment.get_method_display(),
        payment_reference=payment.reference,
        applied=formatting.money(facts["this_payment"]),
        spread=spread_lines(facts),
    )
    doc = None
    if store_pdf:
        doc = known.document or receipt_pdf(invoice, payment)
        attachment = (doc.filename, bytes(doc.content))
    else:
        attachment = (
            receipt_filename(receipt, invoice),
            render_pdf(
                "invoice.typ", receipt_document_data(invoice, payment, facts, receipt=receipt)
            ),
        )
    return _receipt_email(invoice.customer, "receipt", ctx, attachment, doc)


def _receipt_email(customer, template: str, ctx: dict, attachment, doc) -> Rendered:
    """Every "Invoice Payment Confirmation": to the customer and the cc list."""
    return Rendered(
        subject="Invoice Payment Confirmation",
        text=tidy(render_to_string(f"notifications/{template}.txt", ctx)),
        html=render_to_string(f"notifications/{template}.html", ctx),
        to=formataddr((customer.name, customer.email)),
        cc=list(customer.cc_emails or []),
        attachment=attachment,
        document=doc,
    )


def render_credit_receipt(message: OutboxMessage, *, store_pdf: bool = True) -> Rendered:
    """The receipt of a payment that paid no invoice (all of it kept as
    account credit): the seed's receipt lines, with the credit kept."""
    receipt = Receipt.objects.select_related("payment__customer").get(pk=message.context["receipt"])
    payment, customer = receipt.payment, receipt.payment.customer
    ctx = {
        "name": customer.name,
        "company": settings.COMPANY_NAME,
        "company_email": settings.COMPANY_EMAIL,
        "company_phone": settings.COMPANY_PHONE,
        "receipt_number": receipt.number,
        "total_paid": formatting.money(payment.amount),
        "kept": formatting.money(receipt.amount),
        "payment_date": formatting.date(payment.received_on),
        "payment_method": payment.get_method_display(),
        "payment_reference": payment.reference,
        "portal_url": settings.PORTAL_URL,
    }
    doc = credit_receipt_pdf(payment, receipt) if store_pdf else None
    attachment = (
        (doc.filename, bytes(doc.content))
        if doc
        else (
            receipt.filename,
            render_pdf("invoice.typ", credit_receipt_document_data(payment, receipt)),
        )
    )
    return _receipt_email(customer, "credit_receipt", ctx, attachment, doc)


# What rendering a message writes on it (``render_many_into`` saves these).
RENDERED_FIELDS = [
    "subject",
    "body_text",
    "body_html",
    "to_email",
    "cc_emails",
    "document",
    "message_id",
    "rendered_at",
]


def render_many_into(messages: list[OutboxMessage]) -> None:
    """Render these queued messages (loaded with their invoice and its
    customer), reading what they show for all of them at once: lines, taxes
    and cards (``invoices_prefetch``), the stored PDFs they attach, and the
    payments and facts of the receipts. About a dozen queries per batch
    instead of eight to twelve per message. The caller saves
    ``RENDERED_FIELDS``."""

    policy = current()
    known = {m.pk: Known(policy=policy) for m in messages}
    notices = [m for m in messages if m.kind not in ACCOUNT_KINDS and m.invoice_id]
    invoices_prefetch([m.invoice for m in notices])
    receipts = [
        m
        for m in notices
        if m.kind == MessageKind.RECEIPT and isinstance(m.context.get("payment"), int)
    ]
    payments = Payment.objects.in_bulk([m.context["payment"] for m in receipts])
    receipts = [m for m in receipts if m.context["payment"] in payments]
    facts = receipts_facts([(m.invoice, payments[m.context["payment"]]) for m in receipts])
    receipt_rows = {
        (r.invoice_id, r.payment_id): r for r in Receipt.objects.filter(payment_id__in=payments)
    }
    for m in receipts:
        payment = payments[m.context["payment"]]
        known[m.pk].payment = payment
        known[m.pk].facts = facts[(m.invoice_id, payment.pk)]
        known[m.pk].receipt = receipt_rows.get((m.invoice_id, payment.pk))
    invoice_ids = [  # line 5 is only an auto-debit customer's
        m.invoice_id
        for m in notices
        if m.kind == MessageKind.INVOICE and m.invoice.customer.auto_debit
    ]
    autopay = auto_debit_states(invoice_ids) if invoice_ids else {}
    for m in notices:
        if m.kind == MessageKind.INVOICE:
            known[m.pk].autopay = autopay.get(m.invoice_id)
            known[m.pk].autopay_read = True
    pdfs = {}
    invoice_pdfs = StoredDocument.objects.filter(
        invoice_id__in=[m.invoice_id for m in notices if m.kind == MessageKind.INVOICE],
        kind=DocumentKind.INVOICE,
    )
    for doc in invoice_pdfs:
        pdfs[(MessageKind.INVOICE, doc.invoice_id, None)] = doc
    for doc in StoredDocument.objects.filter(payment_id__in=payments, kind=DocumentKind.RECEIPT):
        pdfs[(MessageKind.RECEIPT, doc.invoice_id, doc.payment_id)] = doc
    for message in messages:
        payment = known[message.pk].payment
        key = (message.kind, message.invoice_id, payment.pk if payment else None)
        known[message.pk].document = pdfs.get(key)
        render_into(message, known=known[message.pk])


def render_into(message: OutboxMessage, *, known: Known | None = None) -> None:
    """Render a queued message and keep the result on it (first attempt)."""
    invoice = message.invoice
    if message.kind in ACCOUNT_KINDS:
        rendered = render_account(message)
    elif message.kind == MessageKind.RECEIPT and invoice is None:
        rendered = render_credit_receipt(message)
    else:
        rendered = render(message.kind, invoice, context=message.context, known=known)
    message.subject = rendered.subject
    message.body_text = rendered.text
    message.body_html = rendered.html
    message.to_email = rendered.to
    message.cc_emails = rendered.cc
    if message.kind == MessageKind.INVOICE:
        message.document = rendered.document or invoice_pdf(invoice)
    elif message.kind == MessageKind.REFUND:
        message.document = refund_pdf(
            Refund.objects.select_related("payment").get(pk=message.context["refund"])
        )
    elif message.kind == MessageKind.CREDIT_NOTE:
        message.document = credit_note_pdf(
            CreditNote.objects.get(pk=message.context["credit_note"])
        )
    elif message.kind == MessageKind.RECEIPT and invoice is None:
        message.document = rendered.document
    elif message.kind == MessageKind.RECEIPT:
        message.document = rendered.document or receipt_pdf(
            invoice, Payment.objects.get(pk=message.context["payment"])
        )
    message.message_id = new_message_id(message)
    message.rendered_at = clock.now()


def new_message_id(message: OutboxMessage) -> str:
    """<kind.id.random@domain>, the random part in hex: no long digit runs
    (Python's make_msgid uses a 20-digit decimal, which card-number scanners
    flag)."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "isocnet.invalid"
    return f"<{message.kind}.{message.pk}.{secrets.token_hex(8)}@{domain}>"
