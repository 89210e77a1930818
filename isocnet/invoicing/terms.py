"""Payment terms: when an invoice is due."""

from __future__ import annotations

import datetime as dt

from django.conf import settings


def earliest_due_date(customer, issued_on: dt.date) -> dt.date:
    """Payment terms: a check or mail-in payer's invoice is due no earlier
    than PAYMENT_TERMS_DAYS after its issue (time for the mail); an
    auto-debit customer's is charged on its due date, which may be the
    issue date."""
    if customer.auto_debit:
        return issued_on
    return issued_on + dt.timedelta(days=settings.PAYMENT_TERMS_DAYS)
