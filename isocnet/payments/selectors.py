from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from isocnet.core.money import Money
from isocnet.customers.models import Customer
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.payments.models import CreditEntry


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
    credit_minor = (
        CreditEntry.objects.filter(customer=customer).aggregate(s=Sum("amount_minor"))["s"] or 0
    )
    currency = customer.currency
    return AccountSummary(
        open_invoices=Money.from_minor(open_minor, currency),
        credit=Money.from_minor(credit_minor, currency),
        balance=Money.from_minor(open_minor - credit_minor, currency),
    )
