"""Racing payments never charge more than is owed (issue #16, item 1).

One customer opens the pay page in ten browser sessions (ten attempt
keys) and presses Pay with the saved card in all of them at once; a
portal payment races the morning's auto debit; staff press "charge the
card" through the API eight times at once. Under the customer lock each
payment re-reads what is owed and what card charges already in flight
are taking; what is not owed is only charged when the customer chose to
keep the rest as account credit. PostgreSQL: real row locks, real threads."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from isocnet.core import clock
from isocnet.core.errors import Conflict
from isocnet.invoicing.models import Invoice
from isocnet.ledger.sums import available_credit_minor
from isocnet.operations.auto_debit import collect_due
from isocnet.payments import card_payments
from isocnet.payments.cards import card_attach
from isocnet.payments.charges import charge_invoice
from isocnet.payments.models import GatewayCall, Payment, SandboxCharge
from tests.factories import ACTOR, make_customer, make_invoice
from tests.invariants import check_invariants
from tests.invoicing.billing_helpers import RUNNER

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SESSIONS = 10


def charged_minor(customer) -> int:
    return sum(
        SandboxCharge.objects.filter(
            idempotency_key__in=GatewayCall.objects.filter(customer=customer).values(
                "idempotency_key"
            )
        ).values_list("amount_minor", flat=True)
    )


def race(n, work):
    barrier = threading.Barrier(n)
    outcomes = []

    def one(i):
        try:
            barrier.wait()
            outcomes.append(work(i))
        except Conflict as exc:
            outcomes.append(("refused", exc.message))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(n) as pool:
        list(pool.map(one, range(n)))
    return outcomes


def portal_payment(customer, card, invoice, *, add_credit=False, amount=None):
    wanted = card_payments.payment_request_clean(  # the pay form, as each tab showed it
        customer_id=customer.pk,
        amount=amount or str(invoice.balance.amount),
        invoice_number=invoice.number,
        add_credit=add_credit,
        currency="USD",
    )

    def press(i):
        call = card_payments.card_payment_make(
            actor=ACTOR,
            customer_id=customer.pk,
            attempt=uuid.uuid4().hex,  # each tab its own attempt key
            request=wanted,
            card_id=card.pk,
        )
        return call.status

    return press


def test_ten_sessions_pressing_pay_at_once_charge_what_was_owed(today):
    customer = make_customer()
    card = card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")
    invoice = make_invoice(customer, [("Fiber 1 Gbps", "89.95", None)])
    outcomes = race(SESSIONS, portal_payment(customer, card, invoice))
    assert outcomes.count("succeeded") == 1, outcomes
    refused = [o for o in outcomes if o != "succeeded"]
    assert len(refused) == SESSIONS - 1
    assert all("nothing was charged" in message for _, message in refused)
    assert charged_minor(customer) == 8995  # the gateway took exactly what was owed
    assert Payment.objects.filter(customer=customer).count() == 1
    assert available_credit_minor(customer.pk) == 0  # nothing pushed into credit
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    check_invariants(customer)


def test_sessions_that_chose_account_credit_may_pay_more(today):
    customer = make_customer()
    card = card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")
    invoice = make_invoice(customer, [("Fiber 1 Gbps", "89.95", None)])
    outcomes = race(8, portal_payment(customer, card, invoice, add_credit=True))
    assert outcomes.count("succeeded") == 8  # each one asked to keep the rest as credit
    assert charged_minor(customer) == 8 * 8995
    assert available_credit_minor(customer.pk) == 7 * 8995
    check_invariants(customer)


def test_portal_payments_racing_the_morning_auto_debit(today):
    customer = make_customer(payment_method="card")
    card = card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")
    invoice = make_invoice(customer, [("Fiber 1 Gbps", "89.95", None)], due_date=today)
    press = portal_payment(customer, card, invoice)

    def either(i):
        if i == 0:
            with clock.frozen_at(today):
                collect_due(actor=RUNNER, date=today)
            return "auto debit ran"
        return press(i)

    race(9, either)
    assert charged_minor(customer) == 8995, GatewayCall.objects.values_list(
        "status", "amount_minor"
    )
    assert available_credit_minor(customer.pk) == 0
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
    check_invariants(customer)


def test_a_portal_pay_all_in_flight_holds_back_auto_debit(today):
    customer = make_customer(payment_method="card")
    card = card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")
    invoice = make_invoice(customer, [("Fiber", "50.00", None)], due_date=today)
    GatewayCall.objects.create(  # the customer's "pay all" is at the gateway right now
        kind=GatewayCall.Kind.CHARGE,
        gateway="sandbox",
        idempotency_key=f"portal:{customer.pk}:{uuid.uuid4().hex}",
        customer=customer,
        invoice=None,
        card=card,
        amount_minor=5000,
        currency="USD",
        created_at=clock.now(),
        created_by="customer",
    )
    with clock.frozen_at(today):
        collect_due(actor=RUNNER, date=today)
    assert not SandboxCharge.objects.exists()  # auto debit waits for it
    with pytest.raises(Conflict):
        charge_invoice(actor=ACTOR, invoice_id=invoice.pk)  # so does staff's "charge now"
    invoice.refresh_from_db()
    assert invoice.status == "unpaid"


def test_staff_charging_the_card_eight_times_at_once_through_the_api(today):
    customer = make_customer()
    card_attach(actor=ACTOR, customer_id=customer.pk, token="tok_visa")
    invoice = make_invoice(customer, [("Fiber 1 Gbps", "89.95", None)])

    def charge(i):
        call = charge_invoice(actor=ACTOR, invoice_id=invoice.pk)
        return call.status if call else "nothing to charge"

    outcomes = race(8, charge)
    assert outcomes.count("succeeded") == 1, outcomes
    assert charged_minor(customer) == 8995
    check_invariants(customer)
