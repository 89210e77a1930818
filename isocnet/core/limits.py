"""The bounds of what one document may say (docs/api.md, "Limits"). Every
amount, quantity and invoice is checked against them before anything is
written or numbered, so no invoice says $9,999,999,999,990,000.00 and no
sum overflows a 64-bit column.

- any one amount (a price, a line, an invoice total, a payment, a credit):
  at most ``AMOUNT_LIMIT`` (default 10,000,000) in the currency's major unit;
- a quantity: more than 0 and at most 100,000, with at most 4 decimals;
- an invoice: at most 500 lines;
- a customer: at most 5 cc addresses.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from isocnet.core import formatting
from isocnet.core.errors import InvalidInput
from isocnet.core.money import Money

QUANTITY_MAX = Decimal("100000")
LINES_MAX = 500
CC_EMAILS_MAX = 5


def amount_max(currency: str) -> Money:
    return Money(Decimal(settings.AMOUNT_LIMIT), currency)


def check_amount(money: Money, field: str, *, what: str = "") -> Money:
    """``money`` unless it is beyond the limit (either side of zero)."""
    limit = amount_max(money.currency)
    if abs(money.amount) > limit.amount:
        subject = f"{what} " if what else ""
        raise InvalidInput(
            f"{subject}must not exceed {formatting.money(limit)} (AMOUNT_LIMIT)", field=field
        )
    return money
