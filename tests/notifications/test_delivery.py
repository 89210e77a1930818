import datetime as dt
from collections import Counter

import pytest
from django.test import override_settings

from isocnet.core import clock
from isocnet.notifications import delivery
from isocnet.notifications.delivery import deliver_pending
from isocnet.notifications.rendering import render
from isocnet.notifications.services import message_resend
from isocnet.outbox.models import OutboxMessage
from tests.factories import ACTOR, make_customer, make_plan
from tests.invoicing.billing_helpers import run, subscribe
from tests.notifications.helpers import non_blank_lines, plain_and_html

pytestmark = pytest.mark.django_db
D = dt.date
T0 = dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.UTC)


def drain(until: dt.datetime):
    """Run the sender as time goes by, as the background thread would."""
    moment = T0
    while moment <= until:
        with clock.frozen_at(moment):
            deliver_pending()
        moment += dt.timedelta(minutes=1)


def customers(n, **kw):
    plan = make_plan(price="49.95")
    made = []
    for i in range(n):
        c = make_customer(email=f"c{i}@example.com", **kw)
        subscribe(c, plan, D(2026, 12, 1))
        made.append(c)
    return made


def test_smtp_down_during_a_run_of_200_loses_nothing_and_sends_each_once(smtp):
    customers(200)
    smtp.stop()  # the mail server is down for the whole billing run
    run(D(2026, 11, 20))
    with clock.frozen_at(T0):
        report = deliver_pending()
    assert report.sent == 0
    assert OutboxMessage.objects.filter(status="pending").count() == 200
    assert OutboxMessage.objects.filter(attempts__gte=1).exists()
    smtp.start()  # back up on the same port
    drain(T0 + dt.timedelta(minutes=10))
    assert OutboxMessage.objects.filter(status="sent").count() == 200
    received = Counter(m["To"].addresses[0].addr_spec for m in smtp.messages)
    assert len(received) == 200
    assert set(received.values()) == {1}
    assert len({m["Message-ID"] for m in smtp.messages}) == 200


def test_a_550_fails_one_message_and_the_others_go_on(smtp):
    customers(3)
    smtp.recorder.refuse.add("c1@example.com")
    run(D(2026, 11, 20))
    with clock.frozen_at(T0):
        report = deliver_pending()
    assert (report.sent, report.failed) == (2, 1)
    failed = OutboxMessage.objects.get(status="failed")
    assert "c1@example.com" in failed.to_email
    assert "550" in failed.last_error
    drain(T0 + dt.timedelta(hours=3))
    assert len(smtp.messages) == 2  # a permanent failure is not retried


def test_a_4xx_is_retried_with_backoff(smtp):
    customers(1)
    smtp.recorder.defer.add("c0@example.com")
    run(D(2026, 11, 20))
    with clock.frozen_at(T0):
        assert deliver_pending().retry == 1
    message = OutboxMessage.objects.get()
    assert "450" in message.last_error
    assert message.next_attempt_at == T0 + dt.timedelta(seconds=30)
    smtp.recorder.defer.clear()
    with clock.frozen_at(T0 + dt.timedelta(seconds=31)):
        assert deliver_pending().sent == 1


def test_a_server_that_hangs_up_after_each_250_gets_each_message_once(smtp):
    """The server accepts a message, then drops the connection: that message
    is sent (marked so), the next one finds the line dead and waits."""
    customers(5)
    smtp.recorder.drop_after_accept = True
    run(D(2026, 11, 20))
    with clock.frozen_at(T0):
        report = deliver_pending()
    assert (report.sent, report.retry) == (1, 4)
    assert OutboxMessage.objects.filter(status="sent").count() == 1
    drain(T0 + dt.timedelta(minutes=30))
    assert OutboxMessage.objects.filter(status="sent").count() == 5
    received = Counter(m["Message-ID"] for m in smtp.messages)
    assert len(received) == 5 and set(received.values()) == {1}  # none lost, none twice


def test_a_421_service_closing_is_a_server_down_never_given_up(smtp, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2  # a 4xx to one message would fail it by now
    customers(3)
    smtp.recorder.closing = True
    run(D(2026, 11, 20))
    with clock.frozen_at(T0):
        report = deliver_pending()
    assert report.sent == 0 and report.failed == 0
    assert OutboxMessage.objects.filter(status="pending").count() == 3
    assert "421" in OutboxMessage.objects.order_by("id").first().last_error
    drain(T0 + dt.timedelta(minutes=30))  # still closing: nothing is given up
    assert OutboxMessage.objects.filter(status="pending").count() == 3
    assert smtp.messages == []
    smtp.recorder.closing = False
    drain(T0 + dt.timedelta(hours=2))
    assert OutboxMessage.objects.filter(status="sent").count() == 3
    assert len({m["Message-ID"] for m in smtp.messages}) == len(smtp.messages) == 3


def test_a_crash_after_sending_resends_with_the_same_message_id(smtp, monkeypatch):
    customers(1)
    run(D(2026, 11, 20))
    real_update = delivery.OutboxMessage.objects.filter

    class Crash(Exception):
        pass

    def crash_on_mark_sent(*args, **kwargs):
        qs = real_update(*args, **kwargs)
        original = qs.update

        def update(**fields):
            if fields.get("status") == "sent":
                raise Crash("power cut between SMTP 250 and our commit")
            return original(**fields)

        qs.update = update
        return qs

    monkeypatch.setattr(delivery.OutboxMessage.objects, "filter", crash_on_mark_sent)
    with clock.frozen_at(T0), pytest.raises(Crash):
        deliver_pending()
    monkeypatch.undo()
    assert len(smtp.messages) == 1
    assert OutboxMessage.objects.get().status == "pending"
    drain(T0 + dt.timedelta(minutes=6))  # the lease runs out, it is sent again
    assert OutboxMessage.objects.get().status == "sent"
    assert len(smtp.messages) == 2
    assert smtp.messages[0]["Message-ID"] == smtp.messages[1]["Message-ID"]


def test_two_senders_never_send_the_same_message(smtp):
    customers(5)
    run(D(2026, 11, 20))
    with clock.frozen_at(T0):
        first, second = deliver_pending(), deliver_pending()
    assert (first.sent, second.sent) == (5, 0)
    assert len(smtp.messages) == 5


def test_overdue_notices_and_suspension_are_emailed_once_each(smtp):
    customers(1, payment_method="check")
    day = D(2026, 11, 20)
    while day <= D(2026, 12, 19):
        run(day)
        run(day)
        with clock.frozen_at(day):
            deliver_pending()
        day += dt.timedelta(days=1)
    subjects = [m["Subject"] for m in smtp.messages]
    number = OutboxMessage.objects.filter(kind="invoice").order_by("id").first().invoice.number
    assert subjects == [
        "Customer Invoice",
        f"Payment Reminder: Invoice #{number} is due on December 1, 2026",
        f"Overdue Notice: Invoice #{number}",
        f"Second Overdue Notice: Invoice #{number}",
        "Final Notice: Services will be suspended on December 18, 2026",
        "Customer Invoice",
        f"Services Suspended: Invoice #{number}",
    ]
    final = non_blank_lines(plain_and_html(smtp.messages[4])[0])
    assert any("your services will be suspended on December 18, 2026" in line for line in final)


def test_resend_sends_the_same_content_again(smtp):
    customers(1)
    run(D(2026, 11, 20))
    with clock.frozen_at(T0):
        deliver_pending()
        copy = message_resend(actor=ACTOR, message_id=OutboxMessage.objects.get().pk)
        deliver_pending()
    first, second = smtp.messages
    assert (
        first.get_body(preferencelist=("plain",)).get_content()
        == second.get_body(preferencelist=("plain",)).get_content()
    )
    assert first["Message-ID"] != second["Message-ID"]
    pdf = [p.get_content() for m in (first, second) for p in m.iter_attachments()]
    assert pdf[0] == pdf[1]
    assert copy.resend_of_id is not None


def test_preview_stores_nothing(smtp):
    customers(1)
    run(D(2026, 11, 20))
    from isocnet.documents.models import StoredDocument
    from isocnet.invoicing.models import Invoice

    invoice = Invoice.objects.get()
    with clock.frozen_at(T0):
        for kind in ("invoice", "reminder", "overdue_1", "overdue_2", "overdue_3", "suspension"):
            rendered = render(kind, invoice, store_pdf=False)
            assert invoice.number in rendered.text
    assert not StoredDocument.objects.exists()
    assert smtp.messages == []


def test_customer_text_is_escaped_in_html_and_cannot_add_headers(smtp):
    (customer,) = customers(1)
    from isocnet.customers.services import customer_update

    customer_update(
        actor=ACTOR,
        customer_id=customer.pk,
        changes={"name": '<script>alert("x")</script> O\'Hara'},
    )
    run(D(2026, 11, 20))
    with clock.frozen_at(T0):
        deliver_pending()
    (message,) = smtp.messages
    text, html_body = plain_and_html(message)
    assert "<script>" not in html_body
    assert "&lt;script&gt;" in html_body
    assert 'Dear <script>alert("x")</script> O\'Hara,' in text  # plain text is plain
    assert message["To"].addresses[0].display_name == '<script>alert("x")</script> O\'Hara'


def test_templates_can_be_overridden_by_configuration(smtp, tmp_path, settings):
    override = tmp_path / "notifications"
    override.mkdir()
    (override / "invoice.txt").write_text(
        "Dear {{ name }},\nan invoice has been generated (custom wording).\n"
    )
    customers(1)
    run(D(2026, 11, 20))
    templates = [dict(settings.TEMPLATES[0])]
    templates[0]["DIRS"] = [str(tmp_path), *settings.TEMPLATES[0]["DIRS"]]
    with override_settings(TEMPLATES=templates), clock.frozen_at(T0):
        deliver_pending()
    text, _ = plain_and_html(smtp.messages[0])
    assert "custom wording" in text
