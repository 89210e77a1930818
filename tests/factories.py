"""Builders for tests. They go through the services, as a clerk would, so a
test's data obeys the same rules as production data."""

import itertools

import pytest

from isocnet.catalog.services import plan_create, tax_rate_create
from isocnet.core.actors import Actor
from isocnet.customers.services import customer_create
from isocnet.invoicing.services import invoice_add_line, invoice_create_draft, invoice_issue

ACTOR = Actor("test")
_seq = itertools.count(1)


def make_customer(**overrides):
    n = next(_seq)
    data = {
        "name": f"Alice Example {n}",
        "email": f"alice{n}@example.com",
        "address": {
            "line1": "1 Main St",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62701",
            "country": "US",
        },
        "payment_method": "check",
    }
    data.update(overrides)
    return customer_create(actor=ACTOR, **data)


def make_plan(**overrides):
    n = next(_seq)
    data = {"name": f"Fiber 100 Mbps {n}", "price": "49.95", "cycle": "monthly"}
    data.update(overrides)
    return plan_create(actor=ACTOR, **data)


def make_tax(rate="8.25", name=None):
    return tax_rate_create(actor=ACTOR, name=name or f"Sales tax {rate}%", rate=rate)


def make_invoice(
    customer,
    lines=(("Fiber 100 Mbps", "49.95", None),),
    *,
    issue=True,
    issue_date=None,
    due_date=None,
):
    invoice = invoice_create_draft(actor=ACTOR, customer_id=customer.pk, due_date=due_date)
    for line in lines:
        description, price, tax = line[:3]
        quantity = line[3] if len(line) > 3 else 1
        invoice_add_line(
            actor=ACTOR,
            invoice_id=invoice.pk,
            description=description,
            unit_price=price,
            tax_rates=[tax] if tax else [],
            quantity=quantity,
        )
    if issue:
        invoice = invoice_issue(actor=ACTOR, invoice_id=invoice.pk, issue_date=issue_date)
    invoice.refresh_from_db()
    return invoice


@pytest.fixture
def customer(db):
    return make_customer()


@pytest.fixture
def plan(db):
    return make_plan()
