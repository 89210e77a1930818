import datetime as dt

import pytest
from django.db import DatabaseError, transaction
from django.test import override_settings

from isocnet.core.errors import Conflict, InvalidInput, InvoiceImmutable
from isocnet.core.models import AuditEvent
from isocnet.customers.services import customer_update
from isocnet.invoicing.models import Invoice, InvoiceLine, InvoiceStatus, InvoiceTaxLine
from isocnet.invoicing.services import invoice_add_line, invoice_issue, invoice_void
from tests.factories import ACTOR, make_customer, make_invoice, make_tax

pytestmark = pytest.mark.django_db


def test_issue_numbers_snapshots_and_dates(customer, today):
    invoice = make_invoice(customer)
    assert invoice.number == "2026-000001"
    assert invoice.status == InvoiceStatus.UNPAID
    assert invoice.issue_date == today
    assert invoice.due_date == today + dt.timedelta(days=10)  # PAYMENT_TERMS_DAYS
    assert invoice.bill_to["name"] == customer.name
    assert invoice.bill_to["account_number"] == customer.account_number
    assert invoice.total.as_string() == "49.95"
    assert invoice.balance == invoice.total  # nothing applied yet
    assert AuditEvent.objects.filter(action="invoice.issue", object_id=str(invoice.pk)).exists()
    assert make_invoice(customer).number == "2026-000002"


def test_the_snapshot_keeps_the_address_of_the_day(customer, today):
    invoice = make_invoice(customer)
    customer_update(
        actor=ACTOR, customer_id=customer.pk, changes={"address": {"line1": "9 New Rd"}}
    )
    invoice.refresh_from_db()
    assert invoice.bill_to["address"][0] == "1 Main St"


@override_settings(INVOICE_NUMBER_FORMAT="INV-{seq:05d}")
def test_number_format_is_configurable(customer, today):
    assert make_invoice(customer).number == "INV-00001"


def test_each_year_has_its_own_series(customer):
    assert make_invoice(customer, issue_date=dt.date(2026, 12, 31)).number == "2026-000001"
    assert make_invoice(customer, issue_date=dt.date(2027, 1, 1)).number == "2027-000001"


def test_taxes_on_the_invoice(today):
    customer = make_customer()
    tax = make_tax("8.25")
    invoice = make_invoice(
        customer,
        [("Web Hosting", "119.40", tax), ("Static IP", "10.00", tax), ("Fiber", "49.95", None)],
    )
    assert invoice.subtotal.as_string() == "179.35"
    assert [
        (t.name, t.taxable.as_string(), t.tax.as_string()) for t in invoice.tax_lines.all()
    ] == [("Sales tax 8.25%", "129.40", "10.68")]
    assert invoice.total.as_string() == "190.03"


def test_tax_exempt_customer(today):
    customer = make_customer(tax_exempt=True)
    invoice = make_invoice(customer, [("Web Hosting", "119.40", make_tax())])
    assert invoice.tax_minor == 0
    assert invoice.total.as_string() == "119.40"


def test_an_issued_invoice_cannot_be_issued_again_or_get_lines(customer, today):
    invoice = make_invoice(customer)
    with pytest.raises(Conflict, match="already issued"):
        invoice_issue(actor=ACTOR, invoice_id=invoice.pk)
    with pytest.raises(Conflict, match="draft"):
        invoice_add_line(actor=ACTOR, invoice_id=invoice.pk, description="Extra", unit_price="1.00")


def test_empty_zero_and_backdated_due_are_refused(customer, today):
    draft = make_invoice(customer, lines=(), issue=False)
    with pytest.raises(Conflict, match="without lines"):
        invoice_issue(actor=ACTOR, invoice_id=draft.pk)
    invoice_add_line(actor=ACTOR, invoice_id=draft.pk, description="Free month", unit_price="0.00")
    with pytest.raises(Conflict, match="zero"):
        invoice_issue(actor=ACTOR, invoice_id=draft.pk)
    late = make_invoice(customer, issue=False, due_date=today - dt.timedelta(days=1))
    with pytest.raises(InvalidInput) as err:
        invoice_issue(actor=ACTOR, invoice_id=late.pk)
    assert err.value.field == "due_date"
    # nothing was numbered by the refused attempts
    assert make_invoice(customer).number == "2026-000001"


def test_bad_line_input_names_the_field(customer, today):
    draft = make_invoice(customer, lines=(), issue=False)
    for kwargs, field in [
        ({"unit_price": "1.005"}, "unit_price"),
        ({"unit_price": "abc"}, "unit_price"),
        ({"unit_price": "1.00", "quantity": 0}, "quantity"),
        ({"unit_price": "1.00", "quantity": 1.5}, "quantity"),
        ({"unit_price": "1.00", "description": ""}, "description"),
    ]:
        kwargs.setdefault("description", "Line")
        with pytest.raises(InvalidInput) as err:
            invoice_add_line(actor=ACTOR, invoice_id=draft.pk, **kwargs)
        assert err.value.field == field
    assert not draft.lines.exists()


# -- immutability --------------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("total_minor", 1),
        ("subtotal_minor", 1),
        ("number", "2026-999999"),
        ("due_date", dt.date(2030, 1, 1)),
        ("bill_to", {"name": "Someone else"}),
        ("status", "draft"),
        ("issued_balance_minor", 0),  # what the invoice asked for at issue
        ("issued_balance_minor", None),
    ],
)
def test_the_database_refuses_edits_of_an_issued_invoice(customer, today, column, value):
    invoice = make_invoice(customer)
    assert invoice.issued_balance_minor == 4995
    setattr(invoice, column, value)
    if column in ("total_minor", "subtotal_minor"):
        # keep the CHECK constraints satisfied so only the trigger can object
        invoice.subtotal_minor = invoice.total_minor = invoice.balance_minor = 1
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        invoice.save()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(**{column: value})
    invoice.refresh_from_db()
    assert invoice.total.as_string() == "49.95"
    assert invoice.status == InvoiceStatus.UNPAID


def test_the_database_refuses_line_changes_of_an_issued_invoice(customer, today):
    invoice = make_invoice(customer, [("Hosting", "10.00", make_tax())])
    line = invoice.lines.get()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        InvoiceLine.objects.filter(pk=line.pk).update(amount_minor=1)
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        InvoiceLine.objects.create(
            invoice=invoice,
            position=9,
            description="sneaky",
            unit_price_minor=100,
            amount_minor=100,
        )
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        InvoiceTaxLine.objects.filter(invoice=invoice).update(tax_minor=0)
    with pytest.raises(InvoiceImmutable), transaction.atomic():
        line.delete()
    with pytest.raises(InvoiceImmutable), transaction.atomic():
        invoice.delete()
    assert invoice.lines.count() == 1


def test_drafts_stay_editable(customer, today):
    draft = make_invoice(customer, issue=False)
    InvoiceLine.objects.filter(invoice=draft).update(description="Renamed")
    draft.lines.get().delete()
    assert not draft.lines.exists()


def test_void_keeps_the_number_used(customer, today):
    invoice = make_invoice(customer)
    invoice = invoice_void(actor=ACTOR, invoice_id=invoice.pk, reason="Entered twice")
    assert invoice.status == InvoiceStatus.VOID
    assert invoice.number == "2026-000001"
    assert make_invoice(customer).number == "2026-000002"
