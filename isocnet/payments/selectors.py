from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Sum

from isocnet.core import clock
from isocnet.core.money import Money
from isocnet.customers.models import Customer
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.ledger.sums import available_credit_minor
from isocnet.payments.models import CUSTOMER_KEY_PREFIX, CallStatus, GatewayCall, PaymentMethod


@dataclass(frozen=True)
class AccountSummary:
    open_invoices: Money  # Σ balances of unpaid and partially paid invoices
    credit: Money  # available account credit
    balance: Money  # what the customer owes: open_invoices - credit (negative = in credit)


def open_invoices_minor(customer_id: int) -> int:
    """Σ balances of the customer's unpaid and partially paid invoices."""
    return (
        Invoice.objects.filter(customer_id=customer_id, status__in=OPEN_STATUSES).aggregate(
            s=Sum("balance_minor")
        )["s"]
        or 0
    )


def account_summary(
    customer: Customer, *, open_invoices: list[Invoice] | None = None
) -> AccountSummary:
    """``open_invoices``: the customer's open invoices when the caller has
    just read them all (the portal's dashboard), saving the sum's query."""
    if open_invoices is None:
        open_minor = open_invoices_minor(customer.pk)
    else:
        open_minor = sum(invoice.balance_minor for invoice in open_invoices)
    credit_minor = available_credit_minor(customer.pk)
    currency = customer.currency
    return AccountSummary(
        open_invoices=Money.from_minor(open_minor, currency),
        credit=Money.from_minor(credit_minor, currency),
        balance=Money.from_minor(open_minor - credit_minor, currency),
    )


@dataclass(frozen=True)
class AutoDebitState:
    """Where the automatic card payment of an invoice stands, for what the
    customer reads about it (the invoice notice's line 5, the portal).

    ``state``: ``scheduled`` (not tried yet), ``in_flight`` (sent to the
    gateway, no answer yet), ``taken`` (charged) or ``declined`` (the last
    try was declined)."""

    state: str
    amount: Money | None = None
    on: dt.date | None = None  # the day it was taken or tried
    card: str = ""  # "Visa ending in 4242"


SCHEDULED = AutoDebitState("scheduled")


def auto_debit_states(invoice_ids: list[int]) -> dict[int, AutoDebitState]:
    """``AutoDebitState`` of each invoice, from its automatic charges (the
    schedule's gateway calls, not payments a customer made in the portal),
    in one query for them all. Invoices never tried are absent (SCHEDULED),
    except those of an auto-debit customer with no card to charge:
    ``no_card`` (nothing will be taken; the customer is told how to pay)."""
    calls = (
        GatewayCall.objects.filter(invoice_id__in=invoice_ids, kind=GatewayCall.Kind.CHARGE)
        .exclude(idempotency_key__startswith=CUSTOMER_KEY_PREFIX)
        .select_related("card")
        .order_by("invoice_id", "id")
    )
    states: dict[int, AutoDebitState] = {}
    for call in calls:
        if states.get(call.invoice_id, SCHEDULED).state == "taken":
            continue  # a charge that went through is what the customer needs to know
        state = {
            CallStatus.SUCCEEDED: "taken",
            CallStatus.PENDING: "in_flight",
            CallStatus.UNKNOWN: "in_flight",
            CallStatus.DECLINED: "declined",
        }.get(call.status)
        if state is None:  # failed before it reached the gateway: not tried
            continue
        states[call.invoice_id] = AutoDebitState(
            state,
            amount=Money.from_minor(call.amount_minor, call.currency),
            on=clock.localdate(call.completed_at or call.created_at),
            card=str(call.card) if call.card_id else "",
        )
    untried = [i for i in invoice_ids if i not in states]
    if untried:
        no_card = (
            Invoice.objects.filter(pk__in=untried, customer__payment_method="card")
            .exclude(customer_id__in=PaymentMethod.objects.defaults().values("customer_id"))
            .values_list("pk", flat=True)
        )
        for invoice_id in no_card:
            states[invoice_id] = AutoDebitState("no_card")
    return states
