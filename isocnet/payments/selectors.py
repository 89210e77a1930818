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


def account_summary(customer: Customer) -> AccountSummary:
    open_minor = open_invoices_minor(customer.pk)
    credit_minor = (
        CreditEntry.objects.filter(customer=customer).aggregate(s=Sum("amount_minor"))["s"] or 0
    )
    currency = customer.currency
    return AccountSummary(
        open_invoices=Money.from_minor(open_minor, currency),
        credit=Money.from_minor(credit_minor, currency),
        balance=Money.from_minor(open_minor - credit_minor, currency),
    )
