"""Random sequences of what happens to an account — invoices, check and card
payments (partial and over), returned checks, refunds to the card or to
credit, credit notes, credit granted and removed — keep every invariant
after every step, and the statement's closing balance is what the account
owes. Expected refusals (a refund larger than the payment, a credit note
on a void invoice …) must leave nothing half-written."""

import datetime as dt
import os
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isocnet.core import clock
from isocnet.core.errors import BillingError
from isocnet.invoicing.credit_notes import credit_note_create
from isocnet.invoicing.models import Invoice
from isocnet.payments import card_payments
from isocnet.payments.models import Payment
from isocnet.payments.refunds import refund_create
from isocnet.payments.returns import payment_return
from isocnet.payments.selectors import account_summary
from isocnet.payments.services import credit_adjust, payment_record
from isocnet.portal.selectors import statement
from tests.factories import ACTOR, make_customer, make_invoice
from tests.invariants import check_invariants
from tests.portal.conftest import with_card

cents = st.integers(min_value=1, max_value=30000)
OPS = st.one_of(
    st.tuples(st.just("invoice"), cents),
    st.tuples(st.just("check"), cents, st.booleans()),
    st.tuples(st.just("card"), cents, st.booleans()),
    st.tuples(st.just("return"), st.integers(0, 20)),
    st.tuples(st.just("refund"), st.integers(0, 20), cents, st.sampled_from(["card", "credit"])),
    st.tuples(st.just("credit_note"), st.integers(0, 20), cents),
    st.tuples(st.just("credit"), st.integers(-20000, 20000).filter(bool)),
)


def money(minor: int) -> str:
    return f"{'-' if minor < 0 else ''}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def apply(op, customer, card) -> None:
    kind = op[0]
    invoices = list(Invoice.objects.filter(customer=customer).order_by("id"))
    payments = list(Payment.objects.filter(customer=customer).order_by("id"))
    if kind == "invoice":
        make_invoice(customer, lines=(("Service", money(op[1]), None),))
    elif kind == "check":
        open_ = [i for i in invoices if i.status in ("unpaid", "partially_paid")]
        payment_record(
            actor=ACTOR,
            customer_id=customer.pk,
            amount=money(op[1]),
            method="check",
            invoice_number=open_[0].number if (op[2] and open_) else None,
        )
    elif kind == "card":
        owed = card_payments.open_balance(customer.pk, "USD")
        amount = min(op[1], owed.minor()) if not op[2] else op[1]
        if amount <= 0:
            return
        wanted = card_payments.payment_request_clean(
            customer_id=customer.pk,
            amount=money(amount),
            invoice_number=None,
            add_credit=op[2],
            currency="USD",
        )
        card_payments.card_payment_make(
            actor=ACTOR,
            customer_id=customer.pk,
            attempt=uuid.uuid4().hex,
            request=wanted,
            card_id=card.pk,
        )
    elif kind == "return" and payments:
        payment_return(actor=ACTOR, payment_id=payments[op[1] % len(payments)].pk)
    elif kind == "refund" and payments:
        refund_create(
            actor=ACTOR,
            payment_id=payments[op[1] % len(payments)].pk,
            amount=money(op[2]),
            destination=op[3],
            reason="Test",
        )
    elif kind == "credit_note" and invoices:
        credit_note_create(
            actor=ACTOR,
            invoice_number=invoices[op[1] % len(invoices)].number,
            amount=money(op[2]),
            reason="Test",
        )
    elif kind == "credit":
        credit_adjust(actor=ACTOR, customer_id=customer.pk, amount=money(op[1]), memo="Test")


@settings(
    max_examples=int(os.environ.get("SEQ_EXAMPLES", "60")),
    deadline=None,
    derandomize=not os.environ.get("SEQ_RANDOM"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, min_size=1, max_size=14))
def test_random_money_sequences_keep_every_invariant(db, ops):
    with clock.frozen_at(dt.date(2026, 11, 20)):
        customer = make_customer()
        card = with_card(customer)
        refused = 0
        for op in ops:
            try:
                apply(op, customer, card)
            except BillingError:
                refused += 1  # an expected refusal: nothing may be half-written
            try:
                check_invariants(customer)
            except AssertionError:
                print("FAILED AFTER", ops[: ops.index(op) + 1])
                raise
        closing = statement(customer, dt.date(2000, 1, 1), dt.date(2026, 11, 20)).closing
        assert closing == account_summary(customer).balance, ops
