"""The rest of what staff do, for scripts: tax rates, manual invoices and
one-time charges, voids, card charges, account credit, refunds, credit
notes and messages. Each endpoint calls the one service staff use."""

import datetime as dt

from ninja import Query, Router, Schema, Status

from isocnet.api.v1.base import actor_of
from isocnet.api.v1.invoices import InvoiceOut, invoice_by_number, invoice_out
from isocnet.api.v1.invoices import router as invoices_router
from isocnet.api.v1.pagination import PageParams, page
from isocnet.api.v1.schemas import ErrorOut, Id, IsoDate, QueryId, Strict
from isocnet.catalog.models import TaxRate
from isocnet.catalog.services import tax_rate_create
from isocnet.core.errors import Conflict, NotFound
from isocnet.core.money import Money
from isocnet.core.validation import clean_money
from isocnet.invoicing.charges import charge_create
from isocnet.invoicing.models import CreditNote
from isocnet.invoicing.services import invoice_create_manual, invoice_void
from isocnet.ledger.sums import available_credit_minor
from isocnet.notifications.services import message_resend
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.charges import charge_invoice
from isocnet.payments.models import Refund
from isocnet.payments.services import credit_adjust

router = Router(tags=["billing operations"])
ERRORS = {404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# Tax rates ---------------------------------------------------------------------


class TaxRateOut(Schema):
    id: int
    name: str
    percent: str
    active: bool


class TaxRateIn(Strict):
    name: str
    percent: str


def _tax(t) -> dict:
    return {"id": t.pk, "name": t.name, "percent": f"{t.rate.normalize():f}", "active": t.active}


@router.get("/tax-rates", response=list[TaxRateOut])
def list_tax_rates(request):

    return [_tax(t) for t in TaxRate.objects.order_by("name", "id")]


@router.post("/tax-rates", response={201: TaxRateOut, 409: ErrorOut, 422: ErrorOut})
def create_tax_rate(request, payload: TaxRateIn):

    rate = tax_rate_create(actor=actor_of(request), name=payload.name, rate=payload.percent)
    return Status(201, _tax(rate))


# Manual invoices, charges, voids, card charges -----------------------------------


class LineIn(Strict):
    description: str
    unit_price: str
    quantity: int = 1
    tax_rates: list[Id] = []


class InvoiceIn(Strict):
    customer: Id
    lines: list[LineIn]
    due_date: IsoDate | None = None
    notes: str = ""


# On the invoices router: one path, one router (GET /invoices lists them).
@invoices_router.post(
    "/invoices", response={201: InvoiceOut, **ERRORS}, summary="Create and issue an invoice"
)
def create_invoice(request, payload: InvoiceIn):
    """A manual invoice: its lines, issued at once (numbered, emailed by the
    next delivery). All or nothing: an invalid line issues nothing."""

    invoice = invoice_create_manual(
        actor=actor_of(request),
        customer_id=payload.customer,
        lines=[
            {
                "description": line.description,
                "unit_price": line.unit_price,
                "quantity": line.quantity,
                "tax_rate_ids": line.tax_rates,
            }
            for line in payload.lines
        ],
        due_date=payload.due_date,
        notes=payload.notes,
    )
    return Status(201, invoice_out(invoice))


class VoidIn(Strict):
    reason: str


@router.post("/invoices/{number}/void", response={200: InvoiceOut, **ERRORS})
def void_invoice(request, number: str, payload: VoidIn):
    """Void an invoice nothing has been paid on; its number stays used."""

    invoice = invoice_by_number(number)
    invoice = invoice_void(actor=actor_of(request), invoice_id=invoice.pk, reason=payload.reason)
    return invoice_out(invoice)


class CardChargeIn(Strict):
    amount: str | None = None


class CardChargeOut(Schema):
    status: str
    amount: str
    message: str
    payment: int | None
    invoice_balance: str


@router.post("/invoices/{number}/charge", response={200: CardChargeOut, **ERRORS, 402: ErrorOut})
def charge_card(request, number: str, payload: CardChargeIn):
    """Charge the invoice's balance (or ``amount`` of it) to the customer's
    default card now. 402 when the card is declined."""

    invoice = invoice_by_number(number)
    amount = (
        clean_money(payload.amount, "amount", invoice.currency, allow_zero=False)
        if payload.amount
        else None
    )
    call = charge_invoice(actor=actor_of(request), invoice_id=invoice.pk, amount=amount)
    if call is None:
        raise Conflict("nothing to charge: no balance, or no card on file", field="invoice")
    invoice.refresh_from_db()
    body = {
        "status": call.status,
        "amount": Money.from_minor(call.amount_minor, call.currency).as_string(),
        "message": call.message,
        "payment": call.payment_id,
        "invoice_balance": invoice.balance.as_string(),
    }
    if call.status == "declined":
        return Status(
            402, {"error": "card_declined", "message": f"card: {call.message}", "field": "card"}
        )
    return body


class ChargeIn(Strict):
    description: str
    unit_price: str
    quantity: int = 1
    tax_rates: list[Id] = []
    invoice_now: bool = False


class ChargeOut(Schema):
    id: int
    description: str
    amount: str
    invoice: str | None


@router.post("/customers/{customer_id}/charges", response={201: ChargeOut, **ERRORS})
def add_charge(request, customer_id: int, payload: ChargeIn):
    """A one-time charge on the next invoice, or invoiced now."""

    charge, invoice = charge_create(
        actor=actor_of(request),
        customer_id=customer_id,
        description=payload.description,
        unit_price=payload.unit_price,
        quantity=payload.quantity,
        tax_rate_ids=payload.tax_rates,
        invoice_now=payload.invoice_now,
    )
    return Status(
        201,
        {
            "id": charge.pk,
            "description": charge.description,
            "amount": charge.amount.as_string(),
            "invoice": invoice.number if invoice else None,
        },
    )


class CreditIn(Strict):
    amount: str
    memo: str


class CreditOut(Schema):
    amount: str
    available_credit: str


@router.post("/customers/{customer_id}/credit", response={201: CreditOut, **ERRORS})
def adjust_credit(request, customer_id: int, payload: CreditIn):
    """Grant (positive) or remove (negative) account credit."""

    entry = credit_adjust(
        actor=actor_of(request), customer_id=customer_id, amount=payload.amount, memo=payload.memo
    )
    return Status(
        201,
        {
            "amount": entry.amount.as_string(),
            "available_credit": Money.from_minor(
                available_credit_minor(customer_id), entry.currency
            ).as_string(),
        },
    )


# Refunds, credit notes, messages (reads and resend) --------------------------------


class RefundRow(Schema):
    id: int
    payment: int
    customer: int
    amount: str
    destination: str
    status: str
    reason: str
    created_at: dt.datetime


class RefundPage(Schema):
    items: list[RefundRow]
    count: int


class ByCustomer(Schema):
    customer: QueryId | None = None


def _refund(r: Refund) -> dict:
    return {
        "id": r.pk,
        "payment": r.payment_id,
        "customer": r.customer_id,
        "amount": r.amount.as_string(),
        "destination": r.destination,
        "status": r.status,
        "reason": r.reason,
        "created_at": r.created_at,
    }


@router.get("/refunds", response=RefundPage)
def list_refunds(request, filters: Query[ByCustomer], paging: Query[PageParams]):
    qs = Refund.objects.order_by("-created_at", "-id")
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)
    return page(qs, paging, _refund)


@router.get("/refunds/{refund_id}", response={200: RefundRow, 404: ErrorOut})
def get_refund(request, refund_id: int):
    refund = Refund.objects.filter(pk=refund_id).first()
    if refund is None:
        raise NotFound(f"no refund {refund_id}", field="refund")
    return _refund(refund)


class CreditNoteRow(Schema):
    number: str
    invoice: str
    customer: int
    amount: str
    applied_to_invoice: str
    to_account_credit: str
    reason: str
    issue_date: dt.date


class CreditNotePage(Schema):
    items: list[CreditNoteRow]
    count: int


@router.get("/credit-notes", response=CreditNotePage)
def list_credit_notes(request, filters: Query[ByCustomer], paging: Query[PageParams]):
    qs = CreditNote.objects.select_related("invoice").order_by("-issue_date", "-id")
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)

    def row(n):
        return {
            "number": n.number,
            "invoice": n.invoice.number,
            "customer": n.customer_id,
            "amount": n.amount.as_string(),
            "applied_to_invoice": Money.from_minor(n.applied_minor, n.currency).as_string(),
            "to_account_credit": Money.from_minor(n.to_credit_minor, n.currency).as_string(),
            "reason": n.reason,
            "issue_date": n.issue_date,
        }

    return page(qs, paging, row)


class MessageRow(Schema):
    id: int
    customer: int
    invoice: str | None
    kind: str
    status: str
    subject: str
    to: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    attempts: int
    last_error: str


class MessagePage(Schema):
    items: list[MessageRow]
    count: int


class MessageFilter(Schema):
    customer: QueryId | None = None
    kind: str | None = None
    status: str | None = None


def _message(m: OutboxMessage) -> dict:
    return {
        "id": m.pk,
        "customer": m.customer_id,
        "invoice": m.invoice.number if m.invoice_id else None,
        "kind": m.kind,
        "status": m.status,
        "subject": m.subject,
        "to": m.to_email,
        "created_at": m.created_at,
        "sent_at": m.sent_at,
        "attempts": m.attempts,
        "last_error": m.last_error,
    }


@router.get("/messages", response=MessagePage)
def list_messages(request, filters: Query[MessageFilter], paging: Query[PageParams]):
    """Customer emails: invoices, receipts, notices (what was sent, to whom,
    and what failed)."""
    qs = OutboxMessage.objects.select_related("invoice").order_by("-created_at", "-id")
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page(qs, paging, _message)


@router.post("/messages/{message_id}/resend", response={201: MessageRow, **ERRORS})
def resend_message(request, message_id: int):
    """Send a message again, exactly as first sent (same text, same PDF)."""

    copy = message_resend(actor=actor_of(request), message_id=message_id)
    return Status(201, _message(copy))
