"""Auto debit through the sandbox gateway."""

import datetime as dt

import pytest

from isocnet.core import clock
from isocnet.invoicing.models import Invoice
from isocnet.outbox.models import OutboxMessage
from isocnet.payments.cards import card_attach
from isocnet.payments.charges import charge_invoice, reconcile
from isocnet.payments.gateways import get_gateway
from isocnet.payments.models import GatewayCall, Payment, SandboxCharge, WebhookEvent
from tests.factories import ACTOR, make_customer, make_plan
from tests.invariants import check_invariants
from tests.invoicing.billing_helpers import run, subscribe

pytestmark = pytest.mark.django_db
D = dt.date


def card_customer(token="tok_visa", price="49.95"):
    customer = make_customer(payment_method="card")
    card_attach(actor=ACTOR, customer_id=customer.pk, token=token)
    subscribe(customer, make_plan(price=price), D(2026, 12, 1))
    return customer


def kinds(customer):
    return list(
        OutboxMessage.objects.filter(customer=customer)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def test_auto_debit_on_the_due_date_pays_the_invoice_and_queues_a_receipt():
    customer = card_customer()
    run(D(2026, 11, 20))  # issued, due 12/01: nothing charged yet
    assert not GatewayCall.objects.exists()
    summary = run(D(2026, 12, 1))
    assert summary.collection["charged"] == 1
    invoice = Invoice.objects.get(customer=customer)
    assert invoice.status == "paid"
    payment = Payment.objects.get(customer=customer)
    assert (payment.method, payment.reference, payment.amount.as_string()) == (
        "card",
        "Visa ending in 4242",
        "49.95",
    )
    assert kinds(customer) == ["invoice", "receipt"]
    assert SandboxCharge.objects.get().amount_minor == 4995  # the gateway's own ledger agrees
    run(D(2026, 12, 1))  # again: nothing more is charged
    assert SandboxCharge.objects.count() == 1
    check_invariants(customer)


def test_an_invoice_issued_after_its_due_date_is_charged_at_once():
    customer = card_customer()
    run(D(2026, 12, 3))  # catch-up: due 12/01, issued 12/03
    assert Invoice.objects.get(customer=customer).status == "paid"


def test_a_declined_card_gets_a_failure_email_and_retries_on_schedule():
    customer = card_customer("tok_chargeDeclinedInsufficientFunds")
    run(D(2026, 12, 1))
    call = GatewayCall.objects.get()
    assert (call.status, call.decline_code, call.next_retry_on) == (
        "declined",
        "insufficient_funds",
        D(2026, 12, 4),
    )
    assert kinds(customer) == ["invoice", "payment_failed"]
    # the call is on record as asked and as answered
    assert (call.request["amount_minor"], call.request["idempotency_key"]) == (
        4995,
        call.idempotency_key,
    )
    assert call.response["decline_code"] == "insufficient_funds"
    tried_on = []
    day = D(2026, 12, 2)
    while day <= D(2026, 12, 31):
        before = GatewayCall.objects.count()
        run(day)
        if GatewayCall.objects.count() > before:
            tried_on.append(day)
        day += dt.timedelta(days=1)
    # +3, then +5, then +7 days after each failure; then no more
    assert tried_on == [D(2026, 12, 4), D(2026, 12, 9), D(2026, 12, 16)]
    assert not Payment.objects.exists()
    assert "receipt" not in kinds(customer)
    assert kinds(customer).count("payment_failed") == 4


def test_a_hard_decline_is_not_retried_until_the_card_changes():
    customer = card_customer("tok_chargeDeclinedExpiredCard")
    run(D(2026, 12, 1))
    assert GatewayCall.objects.get().hard_decline
    run(D(2026, 12, 10))
    assert GatewayCall.objects.count() == 1
    card_attach(
        actor=ACTOR, customer_id=customer.pk, token="tok_visa"
    )  # the customer adds a new card
    run(D(2026, 12, 11))
    assert Invoice.objects.get(customer=customer).status == "paid"


def test_auto_debit_customer_without_card_is_asked_for_one_once():
    customer = make_customer(payment_method="card")
    subscribe(customer, make_plan(), D(2026, 12, 1))
    run(D(2026, 12, 1))
    run(D(2026, 12, 2))
    assert kinds(customer)[:2] == ["invoice", "card_needed"]
    assert kinds(customer).count("card_needed") == 1


def test_a_charge_that_times_out_after_succeeding_is_reconciled_to_one_payment():
    customer = card_customer("tok_timeoutAfterCharge")
    run(D(2026, 11, 20))
    invoice = Invoice.objects.get(customer=customer)
    with clock.frozen_at(D(2026, 12, 1)):
        call = charge_invoice(actor=ACTOR, invoice_id=invoice.pk)
    assert call.status == "unknown"
    assert SandboxCharge.objects.get().status == "succeeded"  # the gateway did charge
    assert not Payment.objects.exists()
    with clock.frozen_at(D(2026, 12, 1)):
        assert reconcile(actor=ACTOR) == 1
        assert reconcile(actor=ACTOR) == 0
    run(D(2026, 12, 2))  # the run reconciles and collects: nothing more to charge
    assert Payment.objects.count() == 1
    assert SandboxCharge.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    check_invariants(customer)


def test_a_replayed_webhook_has_one_effect(client):
    customer = card_customer("tok_timeoutAfterCharge")
    run(D(2026, 11, 20))
    invoice = Invoice.objects.get(customer=customer)
    with clock.frozen_at(D(2026, 12, 1)):
        charge_invoice(actor=ACTOR, invoice_id=invoice.pk)
    payload, signature = get_gateway().event_for(SandboxCharge.objects.get())
    outcomes = []
    for _ in range(10):
        response = client.post(
            "/webhooks/sandbox",
            data=payload,
            content_type="application/json",
            headers={"Sandbox-Signature": signature},
        )
        assert response.status_code == 200
        outcomes.append(response.json()["outcome"])
    assert outcomes[0].endswith("succeeded")
    assert set(outcomes[1:]) == {"duplicate: already processed"}
    assert Payment.objects.count() == 1
    assert WebhookEvent.objects.count() == 1


def test_webhooks_with_a_bad_or_old_signature_are_refused(client):
    payload = b'{"id": "evt_x", "type": "charge.succeeded", "data": {}}'
    gateway = get_gateway()
    for signature in ("", "t=1,v1=deadbeef", gateway.sign(payload, timestamp=1)):
        response = client.post(
            "/webhooks/sandbox",
            data=payload,
            content_type="application/json",
            headers={"Sandbox-Signature": signature},
        )
        assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_staff_recording_a_check_first_means_the_card_is_not_charged():
    customer = card_customer()
    run(D(2026, 11, 20))
    invoice = Invoice.objects.get(customer=customer)
    from isocnet.payments.services import payment_record

    with clock.frozen_at(D(2026, 11, 30)):
        payment_record(actor=ACTOR, amount="49.95", method="check", invoice_number=invoice.number)
    run(D(2026, 12, 1))
    assert not SandboxCharge.objects.exists()


def test_a_charge_the_gateway_completes_after_we_gave_up_on_it_is_still_recorded(client):
    """Pending for 10+ minutes (a crash between committing the attempt and
    calling the gateway), reconciled as never received; then the gateway
    carries it out after all: the money taken is recorded, once."""
    customer = card_customer()
    run(D(2026, 11, 20))
    invoice = Invoice.objects.get(customer=customer)
    from isocnet.payments.calls import charge_start

    with clock.frozen_at(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)):
        call = charge_start(
            actor=ACTOR, invoice_id=invoice.pk, amount=None, card=None
        )  # then the process dies
    with clock.frozen_at(dt.datetime(2026, 12, 1, 12, 11, tzinfo=dt.UTC)):
        assert reconcile(actor=ACTOR) == 1
    call.refresh_from_db()
    assert (call.status, call.message) == ("failed", "the gateway never received this charge")
    # the request reaches the gateway late, and it charges the card
    gateway = get_gateway()
    gateway.charge(
        card_token=call.card.token,
        amount_minor=call.amount_minor,
        currency="USD",
        idempotency_key=call.idempotency_key,
    )
    payload, signature = gateway.event_for(SandboxCharge.objects.get())
    response = client.post(
        "/webhooks/sandbox",
        data=payload,
        content_type="application/json",
        headers={"Sandbox-Signature": signature},
    )
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.status == "succeeded"
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    check_invariants(customer)


def test_a_card_refused_for_good_is_not_charged_on_the_next_invoice_either(client):
    """Issue #30, item 8: an expired card (a hard decline) on December's
    invoice is not charged again on January's: the customer is asked for a
    card instead, the dashboard says so, and the 60-day timeline promises no
    charge to it."""
    from isocnet.operations.timeline import customer_timeline
    from tests.portal.conftest import portal_login_for

    customer = card_customer("tok_chargeDeclinedExpiredCard")
    run(D(2026, 12, 1))
    assert GatewayCall.objects.get().hard_decline
    with clock.frozen_at(D(2026, 12, 2)):
        events = customer_timeline(customer.pk)
    assert not [e for e in events if e.kind == "card_charge"], [e.text for e in events]
    day = D(2026, 12, 2)
    while day <= D(2027, 1, 3):
        run(day)
        day += dt.timedelta(days=1)
    assert Invoice.objects.filter(customer=customer).count() == 2
    assert GatewayCall.objects.count() == 1  # January's invoice was not charged to it
    assert "card_needed" in kinds(customer)
    client.force_login(portal_login_for(customer))
    with clock.frozen_at(D(2027, 1, 3)):
        page = client.get("/portal/dashboard/").content.decode()
    assert 'id="card-refused"' in page and "Visa ending in 0069 was refused" in page
    card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")  # a new card
    with clock.frozen_at(D(2027, 1, 3)):
        page = client.get("/portal/dashboard/").content.decode()
    assert 'id="card-refused"' not in page and "Visa ending in 4242" in page
