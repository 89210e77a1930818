import pytest

from isocnet.core.errors import Conflict, InvalidInput
from isocnet.invoicing.models import Invoice
from isocnet.notifications.delivery import deliver_pending
from isocnet.payments.cards import card_attach
from isocnet.payments.charges import charge_invoice
from isocnet.payments.models import SandboxCharge
from isocnet.payments.refunds import refund_create
from isocnet.payments.selectors import account_summary
from isocnet.payments.services import payment_record
from tests.factories import ACTOR, make_customer, make_invoice
from tests.invariants import check_invariants
from tests.notifications.helpers import pdf_attachments, plain_and_html

pytestmark = pytest.mark.django_db


@pytest.fixture
def card_paid(today):
    customer = make_customer(payment_method="card")
    card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")
    invoice = make_invoice(customer)
    call = charge_invoice(actor=ACTOR, invoice_id=invoice.pk)
    return customer, invoice, call.payment


def test_partial_refund_to_the_card_goes_through_the_gateway(card_paid, smtp):
    customer, invoice, payment = card_paid
    refund = refund_create(
        actor=ACTOR,
        payment_id=payment.pk,
        amount="10.00",
        destination="card",
        reason="Outage on 11/12",
    )
    assert refund.status == "succeeded"
    assert SandboxCharge.objects.get().refunded_minor == 1000  # the gateway's ledger agrees
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance.as_string()) == ("partially_paid", "10.00")
    check_invariants(customer)
    deliver_pending()
    (message,) = [m for m in smtp.messages if m["Subject"] == "Refund Issued"]
    assert (
        "refunded $10.00 to your Visa ending in 4242: Outage on 11/12" in plain_and_html(message)[0]
    )
    pdf = pdf_attachments(message)
    (name,) = pdf
    assert name.startswith("Refund-RF-")  # RF: a refund, not a receipt (R-)
    assert "REFUND" in pdf[name] and "$10.00" in pdf[name] and "Outage on 11/12" in pdf[name]


def test_full_refund_and_no_more_than_the_payment(card_paid):
    customer, _invoice, payment = card_paid
    refund_create(
        actor=ACTOR, payment_id=payment.pk, amount="49.95", destination="card", reason="Cancelled"
    )
    with pytest.raises(InvalidInput) as err:
        refund_create(
            actor=ACTOR, payment_id=payment.pk, amount="0.01", destination="card", reason="again"
        )
    assert err.value.field == "amount"
    assert SandboxCharge.objects.get().refunded_minor == 4995
    check_invariants(customer)


def test_refund_to_account_credit_moves_the_payment_to_credit(card_paid):
    customer, invoice, payment = card_paid
    refund_create(
        actor=ACTOR, payment_id=payment.pk, amount="20.00", destination="credit", reason="Move"
    )
    invoice.refresh_from_db()
    assert invoice.balance.as_string() == "20.00"
    assert account_summary(customer).credit.as_string() == "20.00"
    assert SandboxCharge.objects.get().refunded_minor == 0  # nothing left the account
    check_invariants(customer)


def test_a_card_refund_does_not_spend_another_payments_credit(today):
    customer = make_customer(payment_method="card")
    card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")
    invoice = make_invoice(customer)
    from isocnet.core.money import Money

    call = charge_invoice(actor=ACTOR, invoice_id=invoice.pk, amount=Money.parse("49.95", "USD"))
    payment_record(
        actor=ACTOR, customer_id=customer.pk, amount="30.00", method="check"
    )  # credit 30.00
    refund_create(
        actor=ACTOR, payment_id=call.payment_id, amount="10.00", destination="card", reason="x"
    )
    invoice.refresh_from_db()
    assert (
        invoice.status == "partially_paid"
    )  # the card payment's own credit was nil: the invoice reopens
    check_invariants(customer)


def test_check_payments_cannot_be_refunded_to_a_card(customer, today):
    invoice = make_invoice(customer)
    result = payment_record(
        actor=ACTOR, amount="49.95", method="check", invoice_number=invoice.number
    )
    with pytest.raises(Conflict):
        refund_create(
            actor=ACTOR, payment_id=result.payment.pk, amount="5.00", destination="card", reason="x"
        )
    refund_create(
        actor=ACTOR, payment_id=result.payment.pk, amount="5.00", destination="credit", reason="x"
    )
    check_invariants(customer)


def test_api_refund(api, card_paid):
    _customer, _invoice, payment = card_paid
    response = api.post(
        f"/payments/{payment.pk}/refunds", {"amount": "5.00", "destination": "card", "reason": "x"}
    )
    assert response.status_code == 201, response.body
    assert (response.body["status"], response.body["amount"]) == ("succeeded", "5.00")
    assert (
        api.post(
            f"/payments/{payment.pk}/refunds",
            {"amount": "99.00", "destination": "card", "reason": "x"},
        ).status_code
        == 422
    )
    assert Invoice.objects.get().balance.as_string() == "5.00"
