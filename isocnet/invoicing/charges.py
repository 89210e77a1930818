"""One-time charges added by staff (an installation, a service call, a
late fee): they wait for the customer's next invoice, or are invoiced at
once."""

from __future__ import annotations

from django.db import transaction

from isocnet.catalog.models import TaxRate
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import InvalidInput
from isocnet.core.limits import check_amount
from isocnet.core.permissions import require
from isocnet.core.validation import clean_line, clean_money
from isocnet.customers.services import customer_lock
from isocnet.invoicing.engine.totals import line_amount
from isocnet.invoicing.issuing import invoice_charges_now
from isocnet.invoicing.models import Charge, Invoice, LineKind


def charge_create(
    *,
    actor: Actor,
    customer_id: int,
    description: str,
    unit_price,
    quantity: int = 1,
    tax_rate_ids: list[int] | tuple = (),
    invoice_now: bool = False,
) -> tuple[Charge, Invoice | None]:
    """Add a one-time charge. ``invoice_now``: issue an invoice for it (and
    any other pending charges) today instead of waiting for the next run."""
    require(actor, "invoice.create")
    description = clean_line(description, "description", max_length=300)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 10000:
        raise InvalidInput("must be a whole number from 1 to 10000", field="quantity")
    with transaction.atomic():
        customer = customer_lock(customer_id)
        price = clean_money(unit_price, "unit_price", customer.currency, allow_zero=False)
        rates = list(TaxRate.objects.filter(pk__in=list(tax_rate_ids), active=True))
        if len(rates) != len(set(tax_rate_ids)):
            raise InvalidInput("names a tax rate that does not exist", field="tax_rates")
        amount = check_amount(
            line_amount(quantity, price), "quantity", what="quantity × unit price"
        )
        charge = Charge.objects.create(
            customer=customer,
            kind=LineKind.CHARGE,
            description=description,
            quantity=quantity,
            unit_price_minor=price.minor(),
            amount_minor=amount.minor(),
            currency=customer.currency,
            taxes=[]
            if customer.tax_exempt
            else [{"name": t.name, "percent": f"{t.rate.normalize():f}"} for t in rates],
            created_at=clock.now(),
            created_by=actor.label,
        )
        audit_record(
            actor=actor,
            action="charge.create",
            obj=charge,
            customer_id=customer.pk,
            after={"description": description, "amount": amount.as_string(), "now": invoice_now},
        )
        invoice = None
        if invoice_now:
            pending = list(Charge.objects.filter(customer=customer, invoice_line__isnull=True))
            invoice = invoice_charges_now(customer_id=customer.pk, charges=pending, actor=actor)
    return charge, invoice
