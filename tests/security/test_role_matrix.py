"""Issue #29's role × action matrix. Every action that changes state is
tried by each staff role, in the service (so every door inherits it) and
through the back office's own page for it; what a role may do follows
core.permissions.ALLOWED and nothing else. The API: a read-only key is
refused every write, a write key is not refused for its scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from isocnet.api.tokens import apikey_create
from isocnet.collections.late_fees import late_fee_waive
from isocnet.collections.policy import policy_update
from isocnet.collections.promises import dispute_open, promise_create
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.errors import BillingError, Forbidden
from isocnet.core.jobs import JobRetry
from isocnet.core.permissions import ALLOWED, CLERK, MANAGER, SUPPORT
from isocnet.deposits.bank_files import bank_file_import
from isocnet.deposits.batches import batch_open
from isocnet.imports.services import run_import
from isocnet.invoicing.credit_notes import credit_note_create
from isocnet.invoicing.services import invoice_void
from isocnet.network.drift import network_verify
from isocnet.network.services import identity_set, speed_profile_set
from isocnet.operations.billing_run import billing_run
from isocnet.payments.refunds import refund_create
from isocnet.payments.services import credit_adjust, payment_record
from isocnet.webhooks.services import endpoint_create
from tests.apiclient import Api
from tests.deposits.bankfiles import Item, lockbox_csv
from tests.factories import ACTOR, make_customer, make_invoice, make_plan
from tests.invoicing.billing_helpers import subscribe

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)
GROUPS = {SUPPORT: "Support agent", CLERK: "Billing clerk", MANAGER: "Billing manager"}


@dataclass
class World:
    customer: object
    invoice: object
    paid: object
    service: object


def world() -> World:
    customer = make_customer()
    invoice = make_invoice(customer, lines=(("Fiber", "80.00", None),))
    other = make_invoice(customer, lines=(("Install", "20.00", None),))
    paid = payment_record(
        actor=ACTOR, invoice_number=invoice.number, amount="30.00", method="check"
    )
    service = subscribe(customer, make_plan(), TODAY)
    return World(customer, other, paid, service)


ACTIONS: dict[str, tuple[str, Callable[[Actor, World], object]]] = {
    "record a payment": (
        "payment.record",
        lambda a, w: payment_record(
            actor=a, customer_id=w.customer.pk, amount="1.00", method="check"
        ),
    ),
    "refund": (
        "refund",
        lambda a, w: refund_create(
            actor=a, payment_id=w.paid.payment.pk, amount="1.00", destination="credit", reason="x"
        ),
    ),
    "void": (
        "invoice.void",
        lambda a, w: invoice_void(actor=a, invoice_id=w.invoice.pk, reason="x"),
    ),
    "credit note": (
        "credit_note",
        lambda a, w: credit_note_create(
            actor=a, invoice_number=w.invoice.number, amount="1.00", reason="x"
        ),
    ),
    "account credit": (
        "credit.adjust",
        lambda a, w: credit_adjust(actor=a, customer_id=w.customer.pk, amount="1.00", memo="x"),
    ),
    "billing run": ("billing.run", lambda a, w: billing_run(date=TODAY, actor=a)),
    "promise to pay": (
        "promise",
        lambda a, w: promise_create(
            actor=a, customer_id=w.customer.pk, amount="10.00", promised_on="2026-11-25"
        ),
    ),
    "dispute": (
        "promise",
        lambda a, w: dispute_open(actor=a, invoice_number=w.invoice.number, reason="x"),
    ),
    "collections policy": (
        "policy.edit",
        lambda a, w: policy_update(actor=a, late_fee_flat="5.00"),
    ),
    "set a network identity": (
        "service.change",
        lambda a, w: identity_set(actor=a, subscription_id=w.service.pk, username="matrix-user"),
    ),
    "plan speed": (
        "catalog.edit",
        lambda a, w: speed_profile_set(
            actor=a, plan_id=w.service.plan_id, download_kbps=100_000, upload_kbps=20_000
        ),
    ),
    "repair network drift": (
        "network.repair",
        lambda a, w: network_verify(actor=a, repair=True),
    ),
    "import customers": (
        "import",
        lambda a, w: run_import(actor=a, kind="customers", text="external_id\n", dry_run=True),
    ),
    "open a deposit batch": (
        "payment.record",
        lambda a, w: batch_open(actor=a, reference="DS-9"),
    ),
    "import a bank file": (
        "payment.record",
        lambda a, w: bank_file_import(
            actor=a,
            format="lockbox",
            filename="d.csv",
            content=lockbox_csv([Item("M-1", 100, invoice_number=w.invoice.number)], TODAY),
        ),
    ),
    "register a webhook": (
        "webhooks.manage",
        lambda a, w: endpoint_create(actor=a, url="https://crm.example/", events=["*"]),
    ),
    "waive a late fee": (
        "late_fee.waive",
        lambda a, w: late_fee_waive(actor=a, late_fee_id=0, reason="x"),
    ),
}


def staff_actor(role: str) -> Actor:
    user = get_user_model().objects.create_user(f"r-{role}", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=GROUPS[role]))
    return Actor.staff(user)


@pytest.mark.parametrize("action", ACTIONS, ids=list(ACTIONS))
@pytest.mark.parametrize("role", [SUPPORT, CLERK, MANAGER])
def test_each_role_may_do_exactly_what_its_permissions_say(role, action, names_resolve):
    names_resolve("crm.example")
    permission, attempt = ACTIONS[action]
    with clock.frozen_at(TODAY):
        w = world()
        actor = staff_actor(role)
        if permission in ALLOWED[role]:
            try:
                attempt(actor, w)
            except Forbidden:
                pytest.fail(f"a {role} was refused {action!r}")
            except (BillingError, JobRetry):
                pass  # allowed, and refused for another reason (no such fee, no RADIUS)
        else:
            with pytest.raises(Forbidden):
                attempt(actor, w)


# -- the back office's pages refuse what the services refuse ----------------------
def page_client(role: str) -> Client:
    user = get_user_model().objects.create_user(f"p-{role}", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=GROUPS[role]))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [SUPPORT, CLERK, MANAGER])
def test_back_office_pages_follow_the_roles(role, today, names_resolve):
    names_resolve("crm.example")
    from isocnet.payments.models import Payment
    from isocnet.webhooks.models import WebhookEndpoint

    w = world()
    client = page_client(role)
    before = Payment.objects.count()
    answer = client.post(
        f"/admin/customers/customer/{w.customer.pk}/record-payment/",
        {"amount": "1.00", "method": "check", "invoice": "", "reference": "", "date": ""},
    )
    assert answer.status_code < 500
    assert (Payment.objects.count() > before) == ("payment.record" in ALLOWED[role])

    voided = client.post(
        f"/admin/customers/customer/{w.customer.pk}/do/void/",
        {"invoice": w.invoice.number, "reason": "matrix"},
    )
    assert voided.status_code < 500
    w.invoice.refresh_from_db()
    assert (w.invoice.status == "void") == ("invoice.void" in ALLOWED[role])

    client.post(
        "/admin/webhooks/webhookendpoint/add/", {"url": "https://crm.example/", "events": ["*"]}
    )
    assert WebhookEndpoint.objects.exists() == ("webhooks.manage" in ALLOWED[role])


# -- the API: scopes -----------------------------------------------------------------
WRITES = [
    ("post", "/payments", {"amount": "1.00", "method": "check"}),
    ("post", "/deposit-batches", {"reference": "DS-API"}),
    ("post", "/billing-runs", {}),
    ("put", "/subscriptions/{service}/network", {"username": "api-user"}),
    ("post", "/network/drift/repair", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[w[1] for w in WRITES])
def test_a_read_only_key_is_refused_every_write(method, path, body, today):
    w = world()
    path = path.format(service=w.service.pk)
    if body is not None and "amount" in body:
        body = {**body, "customer": w.customer.pk}
    _row, read = apikey_create(actor=ACTOR, name="reader", scope="read")
    _row, write = apikey_create(actor=ACTOR, name="writer", scope="write")
    refused = Api(read)._send(method, path, body)
    assert refused.status_code == 403, refused.content
    allowed = Api(write)._send(method, path, body)
    assert allowed.status_code != 403 and allowed.status_code < 500, allowed.content
