import datetime as dt

from django.http import HttpResponse
from ninja import Query, Router, Schema, Status

from isocnet.api.v1.base import actor_of
from isocnet.api.v1.pagination import PageParams, page
from isocnet.api.v1.schemas import ErrorOut, Id, QueryId, Strict
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.validation import clean_money
from isocnet.customers.models import Customer
from isocnet.documents.receipts import receipt_pdf
from isocnet.invoicing.models import Invoice
from isocnet.payments.cards import card_attach, card_remove
from isocnet.payments.charges import charge_invoice
from isocnet.payments.models import CallStatus, Payment, PaymentMethod
from isocnet.payments.refunds import refund_create
from isocnet.payments.returns import payment_return
from isocnet.payments.selectors import account_summary
from isocnet.payments.services import payment_record

router = Router(tags=["payments"])


class CardIn(Strict):
    token: str
    default: bool = True


class CardOut(Schema):
    id: int
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    default: bool


def card_out(card: PaymentMethod) -> dict:
    return {
        "id": card.pk,
        "brand": card.brand,
        "last4": card.last4,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "default": card.is_default,
    }


def _customer(customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}", field="id")
    return customer


@router.post(
    "/customers/{customer_id}/cards", response={201: CardOut, 404: ErrorOut, 422: ErrorOut}
)
def add_card(request, customer_id: int, payload: CardIn):
    """Attach a card by the token the gateway's card form returned
    (sandbox: tok_visa, tok_chargeDeclined, ...). Card numbers are refused."""
    card = card_attach(
        actor=actor_of(request),
        customer_id=_customer(customer_id).pk,
        token=payload.token,
        make_default=payload.default,
    )
    return Status(201, card_out(card))


@router.get("/customers/{customer_id}/cards", response={200: list[CardOut], 404: ErrorOut})
def list_cards(request, customer_id: int):
    customer = _customer(customer_id)
    return [
        card_out(c)
        for c in PaymentMethod.objects.filter(customer=customer, removed_at__isnull=True)
    ]


@router.delete("/customers/{customer_id}/cards/{card_id}", response={204: None, 404: ErrorOut})
def remove_card(request, customer_id: int, card_id: int):
    card_remove(actor=actor_of(request), customer_id=_customer(customer_id).pk, card_id=card_id)
    return Status(204, None)


class PaymentIn(Strict):
    invoice: str | None = None
    customer: Id | None = None
    amount: str
    method: str
    reference: str = ""
    date: str | None = None


class PaymentOut(Schema):
    id: int
    customer: int
    invoice: str | None
    amount: str
    method: str
    reference: str
    received_on: dt.date
    status: str
    applied: str
    invoice_balance: str | None
    credit: str  # what this payment added to account credit (amount - applied)
    account_credit: str  # the account's whole credit now
    allocations: list[dict]


def payment_out(payment: Payment, invoice_number: str | None = None) -> dict:
    allocations = list(payment.allocations.select_related("invoice"))
    applied = sum(a.amount_minor for a in allocations)
    invoice = None
    if invoice_number:
        invoice = Invoice.objects.get(number=invoice_number)
    elif allocations:
        invoice = allocations[0].invoice
    return {
        "id": payment.pk,
        "customer": payment.customer_id,
        "invoice": invoice.number if invoice else None,
        "amount": payment.amount.as_string(),
        "method": payment.method,
        "reference": payment.reference,
        "received_on": payment.received_on,
        "status": payment.status,
        "applied": type(payment.amount).from_minor(applied, payment.currency).as_string(),
        "invoice_balance": invoice.balance.as_string() if invoice else None,
        "credit": type(payment.amount)
        .from_minor(payment.amount_minor - applied, payment.currency)
        .as_string(),
        "account_credit": account_summary(payment.customer).credit.as_string(),
        "allocations": [
            {"invoice": a.invoice.number, "amount": a.amount.as_string()} for a in allocations
        ],
    }


@router.post(
    "/payments",
    response={201: PaymentOut, 402: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def create_payment(request, payload: PaymentIn):
    """Record a payment received by check, money order, bank transfer or cash;
    or, with ``"method": "card"``, charge the customer's default card through
    the gateway for the invoice. Applied to the invoice, the rest becomes
    account credit."""
    actor = actor_of(request)
    if payload.method == "card":
        if payload.invoice is None:
            raise InvalidInput("a card payment needs the invoice to charge", field="invoice")
        invoice = Invoice.objects.filter(number=payload.invoice).select_related("customer").first()
        if invoice is None:
            raise NotFound(f"no issued invoice numbered {payload.invoice!r}", field="invoice")
        amount = clean_money(payload.amount, "amount", invoice.currency, allow_zero=False)
        if not PaymentMethod.objects.defaults().filter(customer=invoice.customer).exists():
            raise Conflict("the customer has no card on file", field="method")
        call = charge_invoice(actor=actor, invoice_id=invoice.pk, amount=amount)
        if call is None:
            raise Conflict(f"invoice #{invoice.number} has nothing left to pay", field="invoice")
        if call.status == CallStatus.DECLINED:
            return Status(
                402,
                {"error": "card_declined", "message": f"method: {call.message}", "field": "method"},
            )
        if call.status != CallStatus.SUCCEEDED:
            return Status(
                409,
                {
                    "error": "payment_pending",
                    "message": f"method: the card payment's outcome is {call.status}; it will be reconciled",
                    "field": "method",
                },
            )
        return Status(201, payment_out(call.payment, invoice.number))
    result = payment_record(
        actor=actor,
        customer_id=payload.customer,
        amount=payload.amount,
        method=payload.method,
        reference=payload.reference,
        received_on=payload.date,
        invoice_number=payload.invoice,
    )
    return Status(201, payment_out(result.payment, payload.invoice))


class PaymentFilter(Schema):
    customer: QueryId | None = None
    method: str | None = None


class PaymentPage(Schema):
    items: list[PaymentOut]
    count: int


@router.get("/payments", response=PaymentPage)
def list_payments(request, filters: Query[PaymentFilter], paging: Query[PageParams]):
    qs = Payment.objects.select_related("customer").order_by("-received_on", "-id")
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.method:
        qs = qs.filter(method=filters.method)
    return page(qs, paging, payment_out)


@router.get("/payments/{payment_id}", response={200: PaymentOut, 404: ErrorOut})
def get_payment(request, payment_id: int):
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(f"no payment with id {payment_id}", field="id")
    return payment_out(payment)


@router.get("/payments/{payment_id}/receipt.pdf", response={200: None, 404: ErrorOut})
def get_receipt(request, payment_id: int, invoice: str | None = None):
    """The receipt PDF for the invoice this payment was applied to (the first
    one, or ``?invoice=<number>``), exactly as emailed."""

    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(f"no payment with id {payment_id}", field="id")
    allocations = payment.allocations.select_related("invoice__customer")
    if invoice:
        allocations = allocations.filter(invoice__number=invoice)
    allocation = allocations.order_by("id").first()
    if allocation is None:
        raise NotFound(
            "this payment was not applied to an invoice (it is account credit)", field="invoice"
        )
    doc = receipt_pdf(allocation.invoice, payment)
    response = HttpResponse(bytes(doc.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{doc.filename}"'
    response["X-Content-SHA256"] = doc.sha256
    return response


class ReturnIn(Strict):
    reason: str = "Returned by the bank"


@router.post(
    "/payments/{payment_id}/return",
    response={200: PaymentOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def return_payment(request, payment_id: int, payload: ReturnIn):
    """A check, money order or transfer came back unpaid (bounced): the
    payment is voided and the invoices it paid are open again."""

    payment = payment_return(actor=actor_of(request), payment_id=payment_id, reason=payload.reason)
    return payment_out(payment)


class RefundIn(Strict):
    amount: str
    destination: str  # card | credit
    reason: str


class RefundOut(Schema):
    id: int
    payment: int
    amount: str
    destination: str
    status: str
    reason: str


@router.post(
    "/payments/{payment_id}/refunds",
    response={201: RefundOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def create_refund(request, payment_id: int, payload: RefundIn):
    """Refund (part of) a payment to the card it came from (through the
    gateway), or move it to account credit."""

    refund = refund_create(
        actor=actor_of(request),
        payment_id=payment_id,
        amount=payload.amount,
        destination=payload.destination,
        reason=payload.reason,
    )
    return Status(
        201,
        {
            "id": refund.pk,
            "payment": refund.payment_id,
            "amount": refund.amount.as_string(),
            "destination": refund.destination,
            "status": refund.status,
            "reason": refund.reason,
        },
    )
