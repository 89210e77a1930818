"""Scripts can do what staff do: tax rates, manual invoices, charges,
voids, card charges, credit, refunds, credit notes, messages."""

from isocnet.invoicing.models import Invoice
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.payments.services import payment_record
from tests.factories import ACTOR, make_customer, make_invoice
from tests.portal.conftest import with_card


def test_tax_rates_and_a_manual_invoice(api, today):
    rate = api.post("/tax-rates", {"name": "Sales tax", "percent": "8.25"})
    assert rate.status_code == 201, rate.body
    assert api.get("/tax-rates").body[0]["percent"] == "8.25"
    customer = make_customer()
    created = api.post(
        "/invoices",
        {
            "customer": customer.pk,
            "lines": [
                {
                    "description": "Web hosting setup",
                    "unit_price": "100.00",
                    "tax_rates": [rate.body["id"]],
                },
                {"description": "Cabling", "unit_price": "12.50", "quantity": 2},
            ],
        },
    )
    assert created.status_code == 201, created.body
    assert created.body["total"] == "133.25" and created.body["number"]
    assert OutboxMessage.objects.filter(kind=MessageKind.INVOICE).count() == 1
    bad = api.post(
        "/invoices",
        {
            "customer": customer.pk,
            "lines": [
                {"description": "ok", "unit_price": "1.00"},
                {"description": "bad", "unit_price": "x"},
            ],
        },
    )
    assert bad.status_code == 422 and Invoice.objects.count() == 1  # all or nothing
    void = api.post(f"/invoices/{created.body['number']}/void", {"reason": "Sent in error"})
    assert void.status_code == 200 and void.body["status"] == "void"


def test_charges_credit_and_card_charge(api, today):
    customer = make_customer()
    with_card(customer)
    charge = api.post(
        f"/customers/{customer.pk}/charges",
        {"description": "Installation", "unit_price": "75.00", "invoice_now": True},
    )
    assert charge.status_code == 201 and charge.body["invoice"]
    number = charge.body["invoice"]
    part = api.post(f"/invoices/{number}/charge", {"amount": "25.00"})
    assert part.status_code == 200 and part.body["invoice_balance"] == "50.00"
    credit = api.post(f"/customers/{customer.pk}/credit", {"amount": "5.00", "memo": "Goodwill"})
    assert credit.status_code == 201 and credit.body["available_credit"] == "5.00"
    declined_customer = make_customer()
    with_card(declined_customer, "tok_chargeDeclined")
    invoice = make_invoice(declined_customer, lines=(("Fiber", "10.00", None),))
    assert api.post(f"/invoices/{invoice.number}/charge", {}).status_code == 402


def test_refunds_credit_notes_and_messages(api, today):
    customer = make_customer()
    invoice = make_invoice(customer, lines=(("Fiber", "80.00", None),))
    paid = payment_record(
        actor=ACTOR, invoice_number=invoice.number, amount="80.00", method="check"
    )
    refund = api.post(
        f"/payments/{paid.payment.pk}/refunds",
        {"amount": "10.00", "destination": "credit", "reason": "Outage"},
    )
    assert refund.status_code == 201, refund.body
    listed = api.get(f"/refunds?customer={customer.pk}").body
    assert listed["count"] == 1 and listed["items"][0]["amount"] == "10.00"
    assert api.get(f"/refunds/{listed['items'][0]['id']}").status_code == 200
    api.post(f"/invoices/{invoice.number}/credit-notes", {"amount": "5.00", "reason": "Outage"})
    notes = api.get(f"/credit-notes?customer={customer.pk}").body
    assert notes["count"] == 1 and notes["items"][0]["reason"] == "Outage"
    messages = api.get(f"/messages?customer={customer.pk}&kind=receipt").body
    assert messages["count"] == 1
    first = messages["items"][0]
    assert api.post(f"/messages/{first['id']}/resend").status_code == 409  # not sent yet
