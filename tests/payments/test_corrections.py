"""Credit notes and returned (bounced) payments."""

import datetime as dt

import pytest
from django.test import override_settings

from isocnet.core import clock
from isocnet.core.errors import Conflict, InvalidInput
from isocnet.invoicing.credit_notes import credit_note_create
from isocnet.invoicing.models import Charge, Invoice
from isocnet.notifications.delivery import deliver_pending
from isocnet.payments.returns import payment_return
from isocnet.payments.selectors import account_summary
from isocnet.payments.services import payment_record
from tests.factories import ACTOR, make_customer, make_invoice
from tests.invariants import check_invariants
from tests.notifications.helpers import non_blank_lines, pdf_attachments, plain_and_html

pytestmark = pytest.mark.django_db


def test_credit_note_on_an_open_invoice_reduces_the_balance_without_editing_it(customer, today):
    invoice = make_invoice(customer, [("Fiber 100 Mbps", "49.95", None)])
    note = credit_note_create(
        actor=ACTOR, invoice_number=invoice.number, amount="10.00", reason="Outage on 11/12"
    )
    invoice.refresh_from_db()
    assert note.number == "CN-2026-000001"
    assert (invoice.total.as_string(), invoice.balance.as_string()) == ("49.95", "39.95")
    assert invoice.status == "partially_paid"
    assert (
        credit_note_create(
            actor=ACTOR, invoice_number=invoice.number, amount="5.00", reason="x"
        ).number
        == "CN-2026-000002"
    )
    check_invariants(customer)


def test_credit_note_on_a_paid_invoice_becomes_account_credit(customer, today):
    invoice = make_invoice(customer)
    payment_record(actor=ACTOR, amount="49.95", method="check", invoice_number=invoice.number)
    note = credit_note_create(
        actor=ACTOR, invoice_number=invoice.number, amount="20.00", reason="Goodwill"
    )
    assert (note.applied_minor, note.to_credit_minor) == (0, 2000)
    assert account_summary(customer).credit.as_string() == "20.00"
    check_invariants(customer)


def test_a_credit_note_cannot_exceed_the_invoice(customer, today):
    invoice = make_invoice(customer)
    credit_note_create(actor=ACTOR, invoice_number=invoice.number, amount="40.00", reason="a")
    with pytest.raises(InvalidInput) as err:
        credit_note_create(actor=ACTOR, invoice_number=invoice.number, amount="10.00", reason="b")
    assert err.value.field == "amount"
    assert "9.95" in err.value.message


def test_credit_note_email_and_pdf(smtp, today):
    customer = make_customer(name="Alice Example")
    invoice = make_invoice(customer)
    credit_note_create(
        actor=ACTOR, invoice_number=invoice.number, amount="10.00", reason="Outage on 11/12"
    )
    deliver_pending()
    (message,) = smtp.messages
    assert message["Subject"] == f"Credit Note for Invoice #{invoice.number}"
    text = plain_and_html(message)[0]
    assert "credit note #CN-2026-000001 for $10.00" in text
    assert "is now $39.95" in text
    assert "disregard" not in text
    pdf = pdf_attachments(message)["CreditNote-CN-2026-000001.pdf"]
    assert "CREDIT NOTE" in pdf and "Outage on 11/12" in pdf and "$39.95" in pdf


def test_a_bounced_check_reopens_the_invoice_and_the_customer_is_told(smtp, today):
    customer = make_customer(name="Bob Builder")
    invoice = make_invoice(customer)
    result = payment_record(
        actor=ACTOR,
        amount="49.95",
        method="check",
        reference="Check 1042",
        invoice_number=invoice.number,
    )
    with override_settings(RETURNED_PAYMENT_FEE="25.00"):
        payment_return(actor=ACTOR, payment_id=result.payment.pk, reason="NSF")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance.as_string()) == ("unpaid", "49.95")
    fee = Charge.objects.get(customer=customer)
    assert (fee.description, fee.amount.as_string()) == (
        "Returned payment fee (Check 1042)",
        "25.00",
    )
    deliver_pending()
    returned = [m for m in smtp.messages if m["Subject"].startswith("Returned Payment")]
    (message,) = returned
    lines = non_blank_lines(plain_and_html(message)[0])
    assert any("returned unpaid by the bank" in line for line in lines)
    assert any("open again with a balance of $49.95" in line and "$25.00" in line for line in lines)
    with pytest.raises(Conflict):
        payment_return(actor=ACTOR, payment_id=result.payment.pk)
    check_invariants(customer)


def test_a_bounced_overpayment_takes_back_credit_already_spent(customer, today):
    first = make_invoice(customer)
    result = payment_record(
        actor=ACTOR, amount="100.00", method="check", invoice_number=first.number
    )
    second = make_invoice(customer)  # paid from the 50.05 credit
    assert second.status == "paid"
    payment_return(actor=ACTOR, payment_id=result.payment.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.balance.as_string()) == ("unpaid", "49.95")
    assert (second.status, second.balance.as_string()) == ("unpaid", "49.95")
    assert account_summary(customer).credit.as_string() == "0.00"
    assert account_summary(customer).balance.as_string() == "99.90"
    check_invariants(customer)


def test_card_payments_are_refunded_not_returned(customer, today):
    from isocnet.payments.cards import card_attach
    from isocnet.payments.charges import charge_invoice

    card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")
    invoice = make_invoice(customer)
    call = charge_invoice(actor=ACTOR, invoice_id=invoice.pk)
    with pytest.raises(Conflict, match="refund"):
        payment_return(actor=ACTOR, payment_id=call.payment_id)


def test_api_credit_note_and_return(api, customer, today):
    invoice = make_invoice(customer)
    response = api.post(
        f"/invoices/{invoice.number}/credit-notes", {"amount": "9.95", "reason": "Outage"}
    )
    assert response.status_code == 201, response.body
    assert (response.body["number"], response.body["invoice_balance"]) == (
        "CN-2026-000001",
        "40.00",
    )
    paid = api.post(
        "/payments", {"invoice": invoice.number, "amount": "40.00", "method": "check"}
    ).body
    returned = api.post(f"/payments/{paid['id']}/return", {"reason": "NSF"})
    assert returned.status_code == 200, returned.body
    assert returned.body["status"] == "voided"
    assert Invoice.objects.get().balance.as_string() == "40.00"
    assert (
        api.post(
            f"/invoices/{invoice.number}/credit-notes", {"amount": "41.00", "reason": "x"}
        ).status_code
        == 422
    )
    with clock.frozen_at(dt.date(2026, 11, 21)):
        assert api.post("/payments/999999/return", {}).status_code == 404


def test_a_returned_check_whose_credit_was_removed_by_hand_becomes_a_charge(customer, today):
    """Found by tests/reliability/test_money_sequences.py: credit never goes
    below zero; what cannot be taken back is owed on the next invoice."""
    from isocnet.invoicing.models import Charge
    from isocnet.ledger.sums import available_credit_minor
    from isocnet.payments.returns import payment_return
    from isocnet.payments.services import credit_adjust

    paid = payment_record(actor=ACTOR, customer_id=customer.pk, amount="20.00", method="check")
    credit_adjust(actor=ACTOR, customer_id=customer.pk, amount="-5.00", memo="Correction")
    payment_return(actor=ACTOR, payment_id=paid.payment.pk)
    assert available_credit_minor(customer.pk) == 0
    charge = Charge.objects.get(customer=customer)
    assert charge.amount_minor == 500 and charge.invoice_line_id is None
    from isocnet.core.models import AuditEvent

    audit = AuditEvent.objects.get(action="payment.return")
    assert audit.after["credit_taken_back"] == "1500"
    assert audit.after["credit_already_used_charged"] == "500"
    check_invariants(customer)


def test_a_returned_check_refunded_to_credit_takes_that_credit_back(customer, today):
    """Found by the same test: the credit a refund moved there came from the
    check, so it goes when the check bounces."""
    from isocnet.ledger.sums import available_credit_minor
    from isocnet.payments.refunds import refund_create
    from isocnet.payments.returns import payment_return

    invoice = make_invoice(customer, lines=(("Fiber", "30.00", None),))
    paid = payment_record(
        actor=ACTOR, invoice_number=invoice.number, amount="30.00", method="check"
    )
    refund_create(
        actor=ACTOR,
        payment_id=paid.payment.pk,
        amount="30.00",
        destination="credit",
        reason="Moved",
    )
    payment_return(actor=ACTOR, payment_id=paid.payment.pk)
    invoice.refresh_from_db()
    assert available_credit_minor(customer.pk) == 0 and invoice.balance_minor == 3000
    check_invariants(customer)
