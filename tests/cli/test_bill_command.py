"""`isocnet bill --date`: which clock the run's side effects are stamped with."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from isocnet.core import clock
from isocnet.invoicing.models import Invoice
from isocnet.outbox.models import OutboxMessage
from tests.factories import make_customer, make_plan
from tests.invoicing.billing_helpers import subscribe

pytestmark = pytest.mark.django_db
CHICAGO = dt.timezone(dt.timedelta(hours=-6))  # TIME_ZONE's offset in December


def test_todays_date_given_in_the_morning_queues_emails_due_at_once():
    """An operator's 6 a.m. cron passes today's date: the invoice emails
    must be due at 6 a.m., not at noon (the time a past date travels to)."""
    subscribe(make_customer(), make_plan(price="49.95"), dt.date(2026, 12, 1))
    morning = dt.datetime(2026, 12, 1, 6, 0, tzinfo=CHICAGO)
    with clock.frozen_at(morning):
        call_command("bill", "--date", "2026-12-01", stdout=io.StringIO(), stderr=io.StringIO())
    assert Invoice.objects.count() == 1
    message = OutboxMessage.objects.get(kind="invoice")
    assert message.next_attempt_at == morning


def test_a_past_date_bills_that_day():
    subscribe(make_customer(), make_plan(price="49.95"), dt.date(2026, 12, 1))
    with clock.frozen_at(dt.datetime(2026, 12, 3, 6, 0, tzinfo=CHICAGO)):
        call_command("bill", "--date", "2026-12-01", stdout=io.StringIO(), stderr=io.StringIO())
    invoice = Invoice.objects.get()
    assert invoice.issue_date == dt.date(2026, 12, 1)
    assert OutboxMessage.objects.get(kind="invoice").next_attempt_at.date() == dt.date(2026, 12, 1)


def test_the_summary_says_which_auto_debits_wait_for_their_retry_date():
    """A card declined on the due date is retried three days later: the
    next morning's run says it found the invoice and why it did not charge."""
    from tests.payments.test_collection import card_customer

    card_customer(token="tok_chargeDeclined")
    card_customer(token="tok_visa")
    out = io.StringIO()
    with clock.frozen_at(dt.datetime(2026, 12, 1, 6, 0, tzinfo=CHICAGO)):
        call_command("bill", "--date", "2026-12-01", stdout=out, stderr=io.StringIO())
    assert (
        "open auto-debit invoices due by 2026-12-01: 2; this run charged 1, declined 1, "
        "unknown 0, no card on file 0\n" in out.getvalue()
    )
    out = io.StringIO()
    with clock.frozen_at(dt.datetime(2026, 12, 2, 6, 0, tzinfo=CHICAGO)):
        call_command("bill", "--date", "2026-12-02", stdout=out, stderr=io.StringIO())
    assert (
        "open auto-debit invoices due by 2026-12-02: 1; this run charged 0, declined 0, "
        "unknown 0, no card on file 0; not tried (waiting for a retry date or a new card, "
        "or in flight) 1\n" in out.getvalue()
    )
