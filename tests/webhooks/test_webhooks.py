"""Signed outbound webhooks against a local receiver that verifies every
signature with standardwebhooks: each event once per endpoint with a
stable id; a receiver down for an hour gets everything after, in order per
customer; a 410 disables the endpoint; a replay from the back office sends
the same id again."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from isocnet.backoffice.workqueue import tasks
from isocnet.core import clock
from isocnet.core.jobs import jobs_run_due
from isocnet.core.models import AuditEvent
from isocnet.customers.services import customer_update
from isocnet.payments.services import payment_record
from isocnet.subscriptions.services import (
    subscriptions_resume_after_payment,
    subscriptions_suspend_for_nonpayment,
)
from isocnet.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from isocnet.webhooks.services import endpoint_create
from tests.factories import ACTOR, make_customer, make_invoice, make_plan
from tests.invoicing.billing_helpers import subscribe

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 20, 15, 0, tzinfo=dt.UTC)


def _at(minutes: float):
    return clock.frozen_at(NOW + dt.timedelta(minutes=minutes))


def _endpoint(receiver, events=("*",)):
    endpoint, secret = endpoint_create(actor=ACTOR, url=receiver.url, events=list(events))
    receiver.secret = secret
    return endpoint


def _a_customers_month(name):
    """Invoice issued, paid by check, service suspended and resumed, contact changed."""
    customer = make_customer(name=name)
    sub = subscribe(customer, make_plan(), clock.today())
    invoice = make_invoice(customer)
    payment_record(actor=ACTOR, amount="49.95", method="check", invoice_number=invoice.number)
    with transaction.atomic():
        subscriptions_suspend_for_nonpayment(actor=ACTOR, customer_id=customer.pk)
    with transaction.atomic():
        subscriptions_resume_after_payment(actor=ACTOR, customer_id=customer.pk)
    customer_update(actor=ACTOR, customer_id=customer.pk, changes={"phone": "+1 217 555 0199"})
    return customer, sub


EXPECTED = [
    "invoice.issued",
    "invoice.paid",
    "payment.succeeded",
    "service.suspended",
    "service.resumed",
    "customer.updated",
]


def test_each_event_once_per_endpoint_with_a_stable_id(receiver, settings):
    from tests.webhooks.receiver import Receiver

    everything = _endpoint(receiver)
    with _at(0):
        customer, _ = _a_customers_month("Ada Lovelace")
        jobs_run_due()
        jobs_run_due()  # a second pass sends nothing again
    assert [r["type"] for r in receiver.accepted] == EXPECTED
    assert len(set(receiver.ids())) == len(receiver.ids())
    assert receiver.refused_signatures == 0
    paid = next(r for r in receiver.accepted if r["type"] == "payment.succeeded")
    assert paid["data"]["amount"] == "49.95" and paid["data"]["customer_id"] == customer.pk
    assert all(d.status == DeliveryStatus.DELIVERED for d in everything.deliveries.all())
    # a receiver checking with the wrong secret refuses it: the signature is real
    receiver.secret = "whsec_" + "A" * 32
    with _at(1):
        customer_update(actor=ACTOR, customer_id=customer.pk, changes={"phone": "+1 217 555 0100"})
        jobs_run_due()
    assert receiver.refused_signatures == 1
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 1
    assert isinstance(receiver, Receiver)


def test_an_endpoint_gets_only_the_events_it_asked_for(receiver):
    _endpoint(receiver, events=["invoice.issued", "service.suspended"])
    with _at(0):
        _a_customers_month("Alan Turing")
        jobs_run_due()
    assert [r["type"] for r in receiver.accepted] == ["invoice.issued", "service.suspended"]


def test_a_receiver_down_for_an_hour_gets_everything_after_in_order(receiver):
    _endpoint(receiver)
    receiver.answer = 503
    with _at(0):
        ada, _ = _a_customers_month("Ada Lovelace")
        bob, _ = _a_customers_month("Bob Bell")
        jobs_run_due()
    # down: only each customer's first event is tried; the rest wait behind it
    assert sorted(t["type"] for t in receiver.tries) == ["invoice.issued", "invoice.issued"]
    for minutes in (0.2, 6, 36, 50, 60):
        with _at(minutes):
            jobs_run_due()
    assert {t["type"] for t in receiver.tries} == {"invoice.issued"}
    assert receiver.accepted == []
    receiver.answer = 200  # back after an hour
    with _at(180):
        jobs_run_due()
    for customer in (ada, bob):
        got = [r["type"] for r in receiver.accepted if r["data"].get("customer_id") == customer.pk]
        assert got == EXPECTED, customer
    assert len(set(receiver.ids())) == len(receiver.ids()) == 12
    delivered = WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED)
    assert delivered.count() == 12
    first = delivered.filter(event__type="invoice.issued").first()
    assert first.attempts == 5 and first.attempt_log.count() == 5  # 0, 12 s, 6, 36 min, 3 h


def test_a_410_disables_the_endpoint_and_staff_are_told(receiver):
    endpoint = _endpoint(receiver)
    receiver.answer = 410
    with _at(0):
        _a_customers_month("Carol Gone")
        jobs_run_due()
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.disabled_reason == "the endpoint answered 410 Gone"
    assert len(receiver.tries) == 1
    assert not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()
    assert AuditEvent.objects.filter(action="webhooks.endpoint_disabled").exists()
    with _at(1):
        shown = {t.label: t.count for t in tasks()}
    assert shown["Webhook endpoints disabled"] == 1
    with _at(2):  # nothing more is recorded for a disabled endpoint
        customer = make_customer()
        customer_update(actor=ACTOR, customer_id=customer.pk, changes={"phone": "+1 555 0100"})
        jobs_run_due()
    assert len(receiver.tries) == 1


def test_a_replay_from_the_back_office_sends_the_same_id(receiver, client):
    _endpoint(receiver, events=["invoice.issued"])
    with _at(0):
        customer = make_customer()
        make_invoice(customer)
        jobs_run_due()
    (first,) = receiver.accepted
    delivery = WebhookDelivery.objects.get()
    manager = get_user_model().objects.create_user("mona", "m@isocnet.example", "pw", is_staff=True)
    manager.groups.add(Group.objects.get(name="Billing manager"))
    client.force_login(manager)
    with _at(30):
        page = client.post(
            "/admin/webhooks/webhookdelivery/",
            {"action": "replay", "_selected_action": [delivery.pk]},
            follow=True,
        )
        assert "sent again with the same webhook-id" in page.content.decode()
        jobs_run_due()
    assert receiver.ids() == [first["id"], first["id"]] == [f"evt_{delivery.event_id}"] * 2
    page = client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert page.count("200") >= 2  # the delivery log: both attempts and their answers
    assert WebhookEndpoint.objects.get().active
