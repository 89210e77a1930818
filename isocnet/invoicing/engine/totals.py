"""Invoice arithmetic. PURE: values in, values out; no ORM.

Rounding points (HALF_UP to the currency's minor unit), and only these:
1. each line amount = quantity x unit price, rounded once;
2. the tax for each tax rate, computed on the sum of the lines taxed at that
   rate (EN 16931 BR-CO-17), rounded once per rate;
3. the document total is then an exact sum of rounded amounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from isocnet.core.money import Money


@dataclass(frozen=True, slots=True)
class TaxKey:
    name: str
    percent: Decimal  # 8.25 means 8.25 %


@dataclass(frozen=True, slots=True)
class TaxSummary:
    key: TaxKey
    taxable: Money
    tax: Money


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Money
    taxes: tuple[TaxSummary, ...]
    tax_total: Money
    total: Money


def line_amount(quantity: Decimal, unit_price: Money) -> Money:
    """Rounding point 1."""
    if not isinstance(quantity, Decimal | int) or isinstance(quantity, bool):
        raise TypeError("quantity is a Decimal or int")
    return (unit_price * quantity).quantize()


def tax_for(taxable: Money, percent: Decimal) -> Money:
    """Rounding point 2."""
    return (taxable * (percent / Decimal(100))).quantize()


def compute_totals(
    lines: Iterable[tuple[Money, Sequence[TaxKey]]], currency: str, *, tax_exempt: bool = False
) -> Totals:
    """``lines``: (rounded line amount, the tax keys that apply to it; a line
    may carry several, e.g. state and county tax)."""
    subtotal = Money.zero(currency)
    taxable: dict[TaxKey, Money] = {}
    for amount, keys in lines:
        if not amount.is_exact:
            raise ValueError("line amounts must already be rounded (rounding point 1)")
        subtotal = subtotal + amount
        if tax_exempt:
            continue
        for key in set(keys):
            taxable[key] = taxable.get(key, Money.zero(currency)) + amount
    taxes = tuple(
        TaxSummary(key=key, taxable=base, tax=tax_for(base, key.percent))
        for key, base in sorted(taxable.items(), key=lambda item: (item[0].name, item[0].percent))
    )
    tax_total = Money.zero(currency)
    for summary in taxes:
        tax_total = tax_total + summary.tax
    return Totals(subtotal=subtotal, taxes=taxes, tax_total=tax_total, total=subtotal + tax_total)


def tax_keys_from_json(taxes: list[dict]) -> tuple[TaxKey, ...]:
    return tuple(TaxKey(t["name"], Decimal(t["percent"])) for t in taxes)


def tax_keys_to_json(keys: Sequence[TaxKey]) -> list[dict]:
    return [{"name": k.name, "percent": f"{k.percent.normalize():f}"} for k in keys]
