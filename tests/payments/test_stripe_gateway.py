"""The Stripe adapter against a local fake of Stripe's HTTP API."""

import hashlib
import hmac
import json
import time

import pytest

from isocnet.core.money import Money
from isocnet.invoicing.models import Invoice
from isocnet.payments.cards import card_attach
from isocnet.payments.charges import charge_invoice, reconcile
from isocnet.payments.models import Payment, PaymentMethod
from isocnet.payments.refunds import refund_create
from tests.factories import ACTOR, make_customer, make_invoice
from tests.fake_stripe import FakeStripe
from tests.invariants import check_invariants

pytestmark = pytest.mark.django_db
WHSEC = "whsec_test_secret"


@pytest.fixture
def stripe_api(settings):
    fake = FakeStripe()
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WHSEC
    settings.STRIPE_API_BASE = fake.url
    yield fake
    fake.stop()


def customer_with(pm: str):
    customer = make_customer(payment_method="card")
    card_attach(actor=ACTOR, customer_id=customer.pk, token=pm)
    return customer


def test_card_is_attached_to_a_stripe_customer_and_charged_off_session(stripe_api, today):
    customer = customer_with("pm_card_visa")
    card = PaymentMethod.objects.get()
    assert (card.brand, card.last4, card.gateway) == ("Visa", "4242", "stripe")
    assert card.token.startswith("cus_") and card.token.endswith(":pm_card_visa")
    invoice = make_invoice(customer)
    call = charge_invoice(actor=ACTOR, invoice_id=invoice.pk)
    assert call.status == "succeeded"
    (intent,) = stripe_api.intents.values()
    assert (intent["amount"], intent["currency"], intent["metadata"]["isocnet_key"]) == (
        4995,
        "usd",
        call.idempotency_key,
    )
    assert Invoice.objects.get().status == "paid"
    check_invariants(customer)


def test_a_decline_is_a_declined_call_not_an_error(stripe_api, today):
    customer = customer_with("pm_card_chargeDeclinedExpiredCard")
    call = charge_invoice(actor=ACTOR, invoice_id=make_invoice(customer).pk)
    assert (call.status, call.decline_code, call.hard_decline) == ("declined", "expired_card", True)
    assert not Payment.objects.exists()


def test_a_lost_answer_is_reconciled_through_the_search_api(stripe_api, today):
    customer = customer_with("pm_card_timeoutAfterCharge")
    call = charge_invoice(actor=ACTOR, invoice_id=make_invoice(customer).pk)
    assert call.status == "unknown"
    assert len(stripe_api.intents) == 1  # Stripe did charge
    assert reconcile(actor=ACTOR) == 1
    assert Payment.objects.count() == 1
    assert len(stripe_api.intents) == 1  # and was not asked again
    check_invariants(customer)


def test_refund_through_stripe(stripe_api, today):
    customer = customer_with("pm_card_visa")
    call = charge_invoice(actor=ACTOR, invoice_id=make_invoice(customer).pk)
    refund = refund_create(
        actor=ACTOR,
        payment_id=call.payment_id,
        amount=Money.parse("10.00", "USD").as_string(),
        destination="card",
        reason="Outage",
    )
    assert refund.status == "succeeded"
    assert next(iter(stripe_api.intents.values()))["amount_refunded"] == 1000
    check_invariants(customer)


def _signed(payload: bytes, secret: str = WHSEC, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def test_stripe_webhook_settles_once_and_checks_the_signature(stripe_api, client, today):
    customer = customer_with("pm_card_timeoutAfterCharge")
    call = charge_invoice(actor=ACTOR, invoice_id=make_invoice(customer).pk)
    intent = next(iter(stripe_api.intents.values()))
    payload = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {"object": intent},
        }
    ).encode()
    for _ in range(10):
        response = client.post(
            "/webhooks/stripe",
            data=payload,
            content_type="application/json",
            headers={"Stripe-Signature": _signed(payload)},
        )
        assert response.status_code == 200, response.content
    call.refresh_from_db()
    assert call.status == "succeeded"
    assert Payment.objects.count() == 1
    bad = client.post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": _signed(payload, secret="whsec_wrong")},
    )
    assert bad.status_code == 400
    old = client.post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": _signed(payload, at=int(time.time()) - 3600)},
    )
    assert old.status_code == 400
