"""Promises to pay, disputes and suspension's guards, driven by the daily
run on the injectable clock."""

import pytest
from django.db import transaction

from isocnet.collections.models import Promise
from isocnet.collections.promises import (
    dispute_open,
    dispute_resolve,
    promise_cancel,
    promise_create,
)
from isocnet.core import clock
from isocnet.core.errors import Conflict, InvalidInput
from isocnet.ledger.entries import credit_entry_add
from isocnet.ledger.models import CreditKind
from isocnet.payments.services import payment_record
from isocnet.subscriptions.models import Subscription
from tests.collections.helpers import D, check_payer, days, kinds, policy, text_of
from tests.factories import ACTOR

pytestmark = pytest.mark.django_db


def promise(customer, amount, by, *, on, source="staff"):
    with clock.frozen_at(on):
        return promise_create(
            actor=ACTOR, customer_id=customer.pk, amount=amount, promised_on=by, source=source
        )


def status(customer):
    return set(Subscription.objects.filter(customer=customer).values_list("status", flat=True))


def test_a_kept_promise_holds_notices_fees_and_suspension_and_a_payment_closes_it():
    policy(late_fee_flat="5.00", late_fee_grace_days=10)
    customer, december = check_payer()
    days(D(2026, 12, 1), D(2026, 12, 5))
    p = promise(customer, "49.95", D(2026, 12, 20), on=D(2026, 12, 5))
    assert kinds(customer)[-1] == "promise_made"
    subject, _text = text_of(customer, "promise_made")
    assert subject == "Your Promise to Pay: $49.95 by December 20, 2026"
    days(D(2026, 12, 6), D(2026, 12, 19))
    with clock.frozen_at(D(2026, 12, 19)):
        payment_record(actor=ACTOR, customer_id=customer.pk, amount="49.95", method="check")
    p.refresh_from_db()
    assert p.status == "kept" and p.paid_minor == 4995
    days(D(2026, 12, 20), D(2026, 12, 31))
    december_kinds = (
        list(december.messages.values_list("kind", flat=True))
        if hasattr(december, "messages")
        else None
    )
    held_out = {"overdue_2", "overdue_3", "suspension", "promise_broken"}
    assert not held_out & set(kinds(customer)), kinds(customer)
    assert not december.late_fees.exists()
    assert status(customer) == {"active"}
    assert december_kinds is None or "overdue_2" not in december_kinds


def test_a_broken_promise_resumes_the_policy_at_the_step_it_would_have_reached_with_a_notice():
    policy(late_fee_flat="5.00", late_fee_grace_days=10)
    customer, december = check_payer()
    days(D(2026, 12, 1), D(2026, 12, 5))  # overdue_1 on 12/02
    p = promise(customer, "49.95", D(2026, 12, 12), on=D(2026, 12, 5))
    days(D(2026, 12, 6), D(2026, 12, 12))
    assert kinds(customer)[-1] == "promise_made"  # 12/08's second notice held
    days(D(2026, 12, 13), D(2026, 12, 13))
    p.refresh_from_db()
    assert p.status == "broken"
    # the broken-promise notice, then the step the invoice had reached (day 12: the second
    # notice), and the fee that came due while held (12/11)
    assert kinds(customer)[-2:] == ["promise_broken", "overdue_2"]
    assert december.late_fees.count() == 1
    subject, text = text_of(customer, "promise_broken")
    assert subject == f"Missed Promise to Pay: Invoice #{december.number}"
    assert (
        "You promised to pay $49.95 by December 12, 2026, and we have received $0.00 of it." in text
    )
    assert "suspended on December 18, 2026" in text
    days(D(2026, 12, 14), D(2026, 12, 18))
    assert "overdue_3" in kinds(customer) and status(customer) == {"suspended"}


def test_suspended_then_a_promise_brings_the_service_back_at_once():
    customer, _december = check_payer()
    days(D(2026, 12, 1), D(2026, 12, 18))
    assert status(customer) == {"suspended"}
    promise(customer, "20.00", D(2026, 12, 25), on=D(2026, 12, 18))
    assert status(customer) == {"active"}


def test_portal_limits_at_most_n_days_one_at_a_time_and_not_after_a_broken_one():
    policy(promise_max_days=7)
    customer, _december = check_payer()
    days(D(2026, 12, 1), D(2026, 12, 3))
    with pytest.raises(InvalidInput) as e:
        promise(customer, "49.95", D(2026, 12, 11), on=D(2026, 12, 3), source="portal")
    assert e.value.field == "promised_on" and "within 7 days" in str(e.value)
    with pytest.raises(InvalidInput) as e:
        promise(customer, "99.00", D(2026, 12, 9), on=D(2026, 12, 3), source="portal")
    assert e.value.field == "amount"
    first = promise(customer, "49.95", D(2026, 12, 9), on=D(2026, 12, 3), source="portal")
    with pytest.raises(Conflict):
        promise(customer, "10.00", D(2026, 12, 8), on=D(2026, 12, 3), source="portal")
    days(D(2026, 12, 4), D(2026, 12, 10))
    first.refresh_from_db()
    assert first.status == "broken"
    with pytest.raises(Conflict) as e:
        promise(customer, "49.95", D(2026, 12, 12), on=D(2026, 12, 10), source="portal")
    assert "broken recently" in str(e.value)
    promise(customer, "49.95", D(2026, 12, 20), on=D(2026, 12, 10), source="staff")  # staff may


def test_a_cancelled_promise_resumes_without_a_broken_notice():
    customer, _december = check_payer()
    p = promise(customer, "49.95", D(2026, 12, 20), on=D(2026, 12, 2))
    with clock.frozen_at(D(2026, 12, 9)):
        promise_cancel(actor=ACTOR, promise_id=p.pk, reason="Customer called: cannot pay")
    days(D(2026, 12, 9), D(2026, 12, 9))
    assert kinds(customer)[-1] == "overdue_2" and "promise_broken" not in kinds(customer)


def test_nothing_to_promise_on_a_zero_balance():
    customer, _december = check_payer()
    with clock.frozen_at(D(2026, 12, 1)):
        payment_record(actor=ACTOR, customer_id=customer.pk, amount="49.95", method="check")
    with pytest.raises(Conflict):
        promise(customer, "1.00", D(2026, 12, 5), on=D(2026, 12, 1))
    assert not Promise.objects.exists()


def test_suspension_never_on_an_account_whose_credit_covers_it():
    customer, _december = check_payer()
    with clock.frozen_at(D(2026, 12, 2)), transaction.atomic():
        credit_entry_add(
            actor=ACTOR,
            customer_id=customer.pk,
            amount_minor=2 * 4995,  # January (issued 12/18) takes half at issue
            currency="USD",
            kind=CreditKind.ADJUSTMENT,
            memo="goodwill, not yet applied",
        )
    days(D(2026, 12, 2), D(2026, 12, 20))
    assert status(customer) == {"active"}


def test_a_disputed_invoice_is_held_until_resolved():
    customer, december = check_payer()
    days(D(2026, 12, 1), D(2026, 12, 3))
    with clock.frozen_at(D(2026, 12, 3)):
        dispute = dispute_open(
            actor=ACTOR, invoice_number=december.number, reason="Outage Nov 20-24"
        )
    days(D(2026, 12, 4), D(2026, 12, 20))
    assert kinds(customer)[-1] == "overdue_1" or "overdue_2" not in kinds(customer)
    assert status(customer) == {"active"}
    with clock.frozen_at(D(2026, 12, 21)):
        dispute_resolve(actor=ACTOR, dispute_id=dispute.pk, resolution="No outage on record")
    days(D(2026, 12, 21), D(2026, 12, 21))
    assert "overdue_3" in kinds(customer)
