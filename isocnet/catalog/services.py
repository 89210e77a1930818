"""The price list: plans and tax rates."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from isocnet.catalog.models import BillingCycle, Plan, TaxRate
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput
from isocnet.core.permissions import require
from isocnet.core.validation import (
    clean_choice,
    clean_currency,
    clean_line,
    clean_money,
    clean_text,
)

_PERCENT = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,4})?$", re.ASCII)


def clean_percent(value, field: str) -> Decimal:
    if isinstance(value, Decimal):
        value = str(value)
    if not isinstance(value, str) or not _PERCENT.match(value.strip()):
        raise InvalidInput('must be a percentage such as "8.25" (at most 4 decimals)', field=field)
    try:
        percent = Decimal(value.strip())
    except InvalidOperation:
        raise InvalidInput("is not a number", field=field) from None
    if percent > 100:
        raise InvalidInput("must be between 0 and 100", field=field)
    return percent


def tax_rate_create(*, actor: Actor, name: str, rate) -> TaxRate:
    require(actor, "catalog.edit")
    name = clean_line(name, "name", max_length=100)
    percent = clean_percent(rate, "rate")
    with transaction.atomic():
        tax_rate = TaxRate.objects.create(name=name, rate=percent)
        audit_record(
            actor=actor,
            action="tax_rate.create",
            obj=tax_rate,
            after={"name": name, "rate": str(percent)},
        )
    return tax_rate


def tax_rate_for_percent(*, actor: Actor, rate, field: str = "tax_rate") -> TaxRate:
    """The active tax rate with this percentage, created ("Sales tax 8.25%")
    when there is none yet."""
    percent = clean_percent(rate, field)
    existing = TaxRate.objects.filter(rate=percent, active=True).order_by("id").first()
    if existing:
        return existing
    return tax_rate_create(
        actor=actor, name=f"Sales tax {percent.normalize():f}%", rate=str(percent)
    )


def plan_create(
    *,
    actor: Actor,
    name: str,
    price,
    cycle: str,
    description: str = "",
    setup_fee=None,
    tax_rates: list[TaxRate] | None = None,
    code: str | None = None,
    currency: str | None = None,
) -> Plan:
    require(actor, "catalog.edit")
    name = clean_line(name, "name", max_length=200)
    currency = clean_currency(currency or settings.CURRENCY, "currency")
    cycle = clean_choice(cycle, "cycle", BillingCycle)
    price = clean_money(price, "price", currency)
    setup = clean_money(setup_fee if setup_fee is not None else "0", "setup_fee", currency)
    description = clean_text(description, "description", max_length=2000, required=False)
    code = clean_line(code, "code", max_length=60, required=False) or slugify(name)[:50]
    if not re.fullmatch(r"[-a-z0-9_]+", code):
        raise InvalidInput("may contain only lower-case letters, digits, - and _", field="code")
    with transaction.atomic():
        base, suffix = code, 1
        while Plan.objects.filter(code=code).exists():
            suffix += 1
            code = f"{base}-{suffix}"
        try:
            with transaction.atomic():
                plan = Plan.objects.create(
                    code=code,
                    name=name,
                    description=description,
                    currency=currency,
                    price_minor=price.minor(),
                    setup_fee_minor=setup.minor(),
                    cycle=cycle,
                    active=True,
                    created_at=clock.now(),
                )
        except IntegrityError:
            raise Conflict("a plan with this code already exists", field="code") from None
        if tax_rates:
            plan.tax_rates.set(tax_rates)
        audit_record(
            actor=actor,
            action="plan.create",
            obj=plan,
            after={
                "name": name,
                "price": price.as_string(),
                "cycle": cycle,
                "setup_fee": setup.as_string(),
                "tax_rates": [t.pk for t in tax_rates or []],
            },
        )
    return plan
