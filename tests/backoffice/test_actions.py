"""Staff actions on the customer page, each through its service."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from isocnet.core import clock
from isocnet.invoicing.models import Charge, CreditNote, Invoice
from isocnet.ledger.models import CreditEntry
from isocnet.ledger.sums import available_credit_minor
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.payments.models import Payment, Refund
from isocnet.payments.services import payment_record
from isocnet.subscriptions.models import Subscription
from tests.factories import ACTOR, make_customer, make_invoice, make_plan, make_tax
from tests.invoicing.billing_helpers import run, subscribe
from tests.portal.conftest import with_card


@pytest.fixture
def manager(client, db):
    user = get_user_model().objects.create_user(
        "mona", "m@isocnet.example", "pw-1-x", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Billing manager"))
    client.force_login(user)
    return client


def do(client, customer, action, data):
    url = f"/admin/customers/customer/{customer.pk}/do/{action}/"
    assert client.get(url).status_code == 200
    response = client.post(url, data, follow=True)
    return response.content.decode()


def test_every_action_through_the_back_office(manager, today):
    customer = make_customer()  # pays by check, but has a card on file
    with_card(customer)
    fiber = make_plan(name="Fiber 1G", price="99.00")
    subscribe(customer, fiber, today)
    run(today)
    invoice = Invoice.objects.get(customer=customer)
    third = make_invoice(customer, lines=(("Static IP", "10.00", None),))
    page = manager.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    for label in (
        "Add a one-time charge",
        "Refund a payment",
        "Void an unpaid invoice",
        "Visa",
        "Customer Invoice",
    ):
        assert label in page, label

    assert "Charge added to the next invoice" in do(
        manager,
        customer,
        "charge",
        {"description": "Installation", "unit_price": "75.00", "quantity": 1},
    )
    assert Charge.objects.filter(customer=customer, invoice_line__isnull=True).count() == 1
    out = do(
        manager,
        customer,
        "charge",
        {"description": "Service call", "unit_price": "40.00", "quantity": 1, "invoice_now": "on"},
    )
    second = Invoice.objects.filter(customer=customer).exclude(pk__in=[invoice.pk, third.pk]).get()
    assert f"Invoice #{second.number} issued" in out and second.total_minor == 11500

    out = do(manager, customer, "charge-card", {"invoice": invoice.number, "amount": ""})
    assert "Card charge succeeded" in out
    payment = Payment.objects.get(customer=customer)

    out = do(
        manager,
        customer,
        "refund",
        {"payment": payment.pk, "amount": "10.00", "destination": "credit", "reason": "Outage"},
    )
    assert "Refund of $10.00" in out and Refund.objects.count() == 1

    out = do(
        manager,
        customer,
        "credit-note",
        {"invoice": second.number, "amount": "15.00", "reason": "Install discount"},
    )
    assert "Credit note #" in out and CreditNote.objects.count() == 1

    assert f"Invoice #{third.number} is void" in do(
        manager, customer, "void", {"invoice": third.number, "reason": "Sent in error"}
    )

    before = available_credit_minor(customer.pk)
    assert "Account credit granted: $5.00" in do(
        manager, customer, "credit", {"amount": "5.00", "memo": "Goodwill"}
    )
    assert available_credit_minor(customer.pk) == before + 500
    out = do(manager, customer, "apply-credit", {"invoice": second.number})
    assert "of account credit applied" in out

    OutboxMessage.objects.filter(kind=MessageKind.INVOICE).update(rendered_at=clock.now())
    assert "will be sent again" in do(manager, customer, "resend", {"invoice": invoice.number})

    sub = Subscription.objects.get(customer=customer)
    assert "suspended" in do(
        manager, customer, "service", {"service": sub.pk, "operation": "suspend"}
    )
    assert "active" in do(manager, customer, "service", {"service": sub.pk, "operation": "resume"})
    out = do(
        manager,
        customer,
        "add-service",
        {"plan": fiber.pk, "start_date": "2026-12-01", "quantity": 1, "description": "2nd line"},
    )
    assert "added" in out and Subscription.objects.filter(customer=customer).count() == 2
    assert "Portal invitation queued" in do(manager, customer, "invite", {})
    assert CreditEntry.objects.filter(customer=customer).exists()


def test_a_refused_action_shows_why_and_changes_nothing(client, db, today):
    clerk = get_user_model().objects.create_user(
        "cleo", "c@isocnet.example", "pw-1-x", is_staff=True
    )
    clerk.groups.add(Group.objects.get(name="Billing clerk"))
    client.force_login(clerk)
    customer = make_customer()
    invoice = make_invoice(customer, lines=(("Fiber", "80.00", None),))
    out = do(client, customer, "void", {"invoice": invoice.number, "reason": "Sent in error"})
    assert "a billing clerk may not void invoices" in out
    invoice.refresh_from_db()
    assert invoice.status == "unpaid"


def test_search_by_invoice_or_check_number(manager, today):
    customer = make_customer(name="Findme Person")
    invoice = make_invoice(customer, lines=(("Fiber", "80.00", None),))
    payment_record(
        actor=ACTOR,
        invoice_number=invoice.number,
        amount="10.00",
        method="check",
        reference="CHK-99812",
    )
    for q in (invoice.number, "CHK-99812"):
        page = manager.get(f"/admin/customers/customer/?q={q}").content.decode()
        assert "Findme Person" in page, q


def test_preview_and_run_billing_from_the_back_office(manager, client, today):
    customer = make_customer(name="Billable")
    tax = make_tax("8.25")
    subscribe(customer, make_plan(name="Fiber 2G", price="120.00"), today)
    subscribe(customer, make_plan(name="Hosting", price="20.00", tax_rates=[tax]), today)
    assert "Preview or run billing" in manager.get("/admin/invoicing/billingrun/").content.decode()
    preview = manager.post("/admin/invoicing/billingrun/start/", {"date": today, "preview": "on"})
    page = preview.content.decode()
    assert "Billable" in page and "1 invoice(s)" in page and not Invoice.objects.exists()
    # money as money, with the tax lines and totals the invoice will have
    assert "$141.65 in all" in page
    assert "Fiber 2G" in page and ": $120.00" in page
    assert "Sales tax 8.25% (8.25% of $20.00): $1.65" in page
    assert "Total $141.65" in page and "141.65 USD" not in page
    done = manager.post("/admin/invoicing/billingrun/start/", {"date": today}, follow=True)
    assert "Billing run done: 1 invoices" in done.content.decode()
    invoice = Invoice.objects.get(customer=customer)
    assert (invoice.total.as_string(), invoice.tax.as_string()) == ("141.65", "1.65")
