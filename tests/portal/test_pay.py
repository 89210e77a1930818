"""Paying in the portal: saved card, new card through the hosted form,
partial payments, credit, declines, and pressing Pay twice."""

import re
import threading
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection

from isocnet.customers.models import Customer
from isocnet.invoicing.models import Invoice
from isocnet.ledger.sums import available_credit_minor
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.payments import card_payments
from isocnet.payments.models import CallStatus, GatewayCall, Payment, PaymentMethod
from isocnet.payments.sandbox_models import SandboxCharge
from tests.factories import make_invoice
from tests.invariants import check_invariants
from tests.portal.conftest import with_card


@pytest.fixture
def invoice(member):
    return make_invoice(member[0], lines=(("Fiber 300", "80.00", None),))


def pay_form(client, invoice=None):
    url = "/portal/pay/" + (f"?invoice={invoice.number}" if invoice else "")
    page = client.get(url)
    assert page.status_code == 200
    return page.content.decode(), re.search(
        r'name="attempt" value="([0-9a-f]{32})"', page.content.decode()
    ).group(1)


def post_pay(client, attempt, invoice, amount, card, confirm=True, **extra):
    """Post the pay form; ``confirm``: as if the customer then pressed
    "Pay … now" on the confirmation page (a saved card needs it)."""
    data = {
        "attempt": attempt,
        "invoice": invoice.number if invoice else "",
        "amount": amount,
        "card": card,
    }
    if confirm:
        data["confirm"] = "True"
    data.update({k: "on" for k, v in extra.items() if v})
    return client.post("/portal/pay/", data)


def test_a_saved_card_is_charged_only_after_the_customer_confirms_the_amount(
    signed_in, member, invoice
):
    card = with_card(member[0])
    _, attempt = pay_form(signed_in, invoice)
    page = post_pay(signed_in, attempt, invoice, "30.00", str(card.pk), confirm=False)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Confirm your payment" in html and "$30.00" in html
    assert "Visa ending in 4242" in html and f"Invoice #{invoice.number}" in html
    assert "Pay $30.00 now" in html and 'name="confirm" value="True"' in html
    assert not GatewayCall.objects.exists() and not SandboxCharge.objects.exists()
    # the confirmation posts the same attempt: pressing it charges once
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    assert fields["attempt"] == attempt and fields["amount"] == "30.00"
    done = signed_in.post("/portal/pay/", fields)
    assert done["Location"] == f"/portal/pay/{attempt}/"
    assert SandboxCharge.objects.get().amount_minor == 3000


def test_a_check_customer_pays_part_of_an_invoice_with_a_saved_card(signed_in, member, invoice):
    customer, _ = member
    card = with_card(customer)
    html, attempt = pay_form(signed_in, invoice)
    assert "Pay invoice #" in html and "$80.00" in html and "Visa ending in 4242" in html
    response = post_pay(signed_in, attempt, invoice, "30.00", str(card.pk))
    assert response["Location"] == f"/portal/pay/{attempt}/"
    receipt = signed_in.get(response["Location"], follow=True)
    page = receipt.content.decode()
    assert "Payment received: $30.00" in page and "$50.00" in page  # balance now
    invoice.refresh_from_db()
    assert invoice.status == "partially_paid" and invoice.balance_minor == 5000
    payment = Payment.objects.get(customer=customer)
    assert payment.method == "card" and payment.reference == "Visa ending in 4242"
    receipt_mail = OutboxMessage.objects.get(kind=MessageKind.RECEIPT)
    assert receipt_mail.invoice_id == invoice.pk and receipt_mail.context["payment"] == payment.pk
    customer.refresh_from_db()
    assert customer.payment_method == "check"  # paying by card does not switch to auto debit
    check_invariants(customer)


def test_pressing_pay_twice_charges_once(signed_in, member, invoice):
    card = with_card(member[0])
    _, attempt = pay_form(signed_in, invoice)
    first = post_pay(signed_in, attempt, invoice, "80.00", str(card.pk))
    second = post_pay(signed_in, attempt, invoice, "80.00", str(card.pk))
    assert first["Location"] == second["Location"]
    assert GatewayCall.objects.count() == 1 and Payment.objects.count() == 1
    assert SandboxCharge.objects.count() == 1
    assert OutboxMessage.objects.filter(kind=MessageKind.RECEIPT).count() == 1
    # a fresh form is a fresh attempt: now nothing is owed, so it is refused
    _, attempt2 = pay_form(signed_in, None)
    refused = post_pay(signed_in, attempt2, None, "80.00", str(card.pk))
    assert (
        refused.status_code == 400
        and "ust not be more than the $0.00 owed" in refused.content.decode()
    )


def test_paying_more_than_owed_needs_the_customer_to_choose_credit(signed_in, member, invoice):
    customer, _ = member
    card = with_card(customer)
    _, attempt = pay_form(signed_in, invoice)
    refused = post_pay(signed_in, attempt, invoice, "100.00", str(card.pk))
    assert refused.status_code == 400
    assert "ust not be more than the $80.00 owed" in refused.content.decode()
    assert GatewayCall.objects.count() == 0
    ok = post_pay(signed_in, attempt, invoice, "100.00", str(card.pk), add_credit=True)
    assert ok.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "paid" and available_credit_minor(customer.pk) == 2000
    check_invariants(customer)


def test_bad_amounts_are_named(signed_in, member, invoice):
    card = with_card(member[0])
    _, attempt = pay_form(signed_in, invoice)
    for amount in ("-5", "abc", "0", "1.234"):
        response = post_pay(signed_in, attempt, invoice, amount, str(card.pk))
        assert response.status_code == 400, amount
        assert 'id="id_amount-error"' in response.content.decode(), amount
    assert GatewayCall.objects.count() == 0


def test_pay_all_open_invoices_oldest_first(signed_in, member):
    customer, _ = member
    older = make_invoice(customer, lines=(("May", "40.00", None),))
    newer = make_invoice(customer, lines=(("June", "60.00", None),))
    card = with_card(customer)
    html, attempt = pay_form(signed_in)
    assert "$100.00" in html
    post_pay(signed_in, attempt, None, "70.00", str(card.pk))
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.balance_minor, newer.balance_minor) == (0, 3000)
    assert OutboxMessage.objects.filter(kind=MessageKind.RECEIPT).count() == 2


def test_a_new_card_through_the_hosted_form_saved_with_auto_debit(signed_in, member, invoice):
    customer, _ = member
    _, attempt = pay_form(signed_in, invoice)
    to_form = post_pay(signed_in, attempt, invoice, "80.00", "new", save_card=True, auto_debit=True)
    assert to_form.status_code == 302 and to_form["Location"].startswith("/sandbox/card-form?")
    back = signed_in.post(
        to_form["Location"],
        {"number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2030", "cvc": "123"},
    )
    assert back.status_code == 302 and back["Location"].startswith("/portal/pay/card/?")
    assert "4242424242424242" not in back["Location"]
    done = signed_in.get(back["Location"], follow=True)
    assert "Payment received: $80.00" in done.content.decode()
    card = PaymentMethod.objects.get(customer=customer)
    assert card.is_default and card.removed_at is None
    customer.refresh_from_db()
    assert customer.payment_method == "card"
    # the return address cannot be replayed
    again = signed_in.get(back["Location"])
    assert again["Location"] == "/portal/pay/" and GatewayCall.objects.count() == 1


def test_a_return_with_someone_elses_state_charges_nothing(signed_in, member, invoice):
    _, attempt = pay_form(signed_in, invoice)
    post_pay(signed_in, attempt, invoice, "80.00", "new")
    response = signed_in.get("/portal/pay/card/?token=tok_visa&state=forged")
    assert response["Location"] == "/portal/pay/"
    assert GatewayCall.objects.count() == 0


def test_a_declined_new_card_is_not_kept_and_no_failure_email_is_sent(signed_in, member, invoice):
    customer, _ = member
    _, attempt = pay_form(signed_in, invoice)
    to_form = post_pay(signed_in, attempt, invoice, "80.00", "new", save_card=True, auto_debit=True)
    back = signed_in.post(
        to_form["Location"],
        {"number": "4000000000000002", "exp_month": "12", "exp_year": "2030", "cvc": "123"},
    )
    result = signed_in.get(back["Location"], follow=True)
    page = result.content.decode()
    assert "Your payment did not go through" in page and "Your card was declined." in page
    assert not PaymentMethod.objects.filter(customer=customer, removed_at__isnull=True).exists()
    assert not OutboxMessage.objects.filter(kind=MessageKind.PAYMENT_FAILED).exists()
    customer.refresh_from_db()
    assert customer.payment_method == "check" and Payment.objects.count() == 0
    call = GatewayCall.objects.get()
    assert call.status == CallStatus.DECLINED and call.next_retry_on is None


def test_a_portal_decline_does_not_stop_auto_debit_retries(member, invoice, today):
    """The auto-debit schedule counts its own attempts only."""
    from isocnet.operations.auto_debit import due_for_collection

    customer, _ = member
    Customer.objects.filter(pk=customer.pk).update(payment_method="card")
    with_card(customer, "tok_chargeDeclined")
    wanted = card_payments.payment_request_clean(
        customer_id=customer.pk,
        amount="80.00",
        invoice_number=invoice.number,
        add_credit=False,
        currency="USD",
    )
    card_payments.card_payment_make(
        actor=__import__("tests.factories", fromlist=["ACTOR"]).ACTOR,
        customer_id=customer.pk,
        attempt=uuid.uuid4().hex,
        request=wanted,
        card_id=PaymentMethod.objects.get().pk,
    )
    assert invoice.pk in due_for_collection(invoice.due_date)


def test_cards_and_auto_debit(signed_in, member):
    customer, _ = member
    first = with_card(customer)
    second = with_card(customer, "tok_mastercard", default=False)
    assert "Mastercard ending in 4444" in signed_in.get("/portal/cards/").content.decode()
    signed_in.post(f"/portal/cards/{second.pk}/default/")
    assert PaymentMethod.objects.get(is_default=True, removed_at__isnull=True).pk == second.pk
    signed_in.post("/portal/auto-debit/", {"enabled": "1"})
    customer.refresh_from_db()
    assert customer.payment_method == "card"
    signed_in.post(f"/portal/cards/{second.pk}/remove/")
    signed_in.post(f"/portal/cards/{first.pk}/remove/")
    customer.refresh_from_db()
    assert customer.payment_method == "check"  # no card left, so no auto debit
    page = signed_in.get("/portal/cards/").content.decode()
    assert "Auto debit is off" in page and "No card on file" in page


def test_adding_a_card_through_the_hosted_form(signed_in, member):
    to_form = signed_in.post("/portal/cards/add/")
    back = signed_in.post(
        to_form["Location"],
        {"number": "5555 5555 5555 4444", "exp_month": "1", "exp_year": "2031", "cvc": "999"},
    )
    page = signed_in.get(back["Location"], follow=True).content.decode()
    assert "Mastercard ending in 4444 is saved" in page
    query = parse_qs(urlsplit(back["Location"]).query)
    assert query["token"][0].startswith("tok_sbx_")


def test_the_hosted_form_refuses_bad_cards_and_foreign_return_addresses(client):
    bad = client.post(
        "/sandbox/card-form?return=/portal/cards/added/&state=abc",
        {"number": "1234 5678", "exp_month": "1", "exp_year": "2031", "cvc": "999"},
    )
    assert bad.status_code == 422 and "Not a valid card number" in bad.content.decode()
    evil = client.post(
        "/sandbox/card-form?return=https://evil.example/&state=abc",
        {"number": "4242424242424242", "exp_month": "1", "exp_year": "2031", "cvc": "999"},
    )
    assert evil.status_code == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_racing_presses_of_pay_charge_once():
    from tests.factories import ACTOR, make_customer

    customer = make_customer()
    invoice = make_invoice(customer, lines=(("Fiber", "80.00", None),))
    card = with_card(customer)
    wanted = card_payments.payment_request_clean(
        customer_id=customer.pk,
        amount="80.00",
        invoice_number=invoice.number,
        add_credit=False,
        currency="USD",
    )
    attempt = uuid.uuid4().hex
    barrier = threading.Barrier(4)
    results, errors = [], []

    def press():
        try:
            barrier.wait()
            results.append(
                card_payments.card_payment_make(
                    actor=ACTOR,
                    customer_id=customer.pk,
                    attempt=attempt,
                    request=wanted,
                    card_id=card.pk,
                ).pk
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=press) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1
    assert SandboxCharge.objects.count() == 1 and Payment.objects.count() == 1
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
