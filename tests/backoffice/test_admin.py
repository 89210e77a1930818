import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from isocnet.core import clock
from isocnet.core.models import AuditEvent
from isocnet.customers.models import Customer
from isocnet.payments.services import payment_record
from tests.factories import ACTOR, make_customer, make_invoice, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_user(
        "clerk", "clerk@isocnet.example", "pw-for-tests-1", is_staff=True, is_superuser=True
    )
    client.force_login(user)
    return client


def test_every_model_has_a_working_list_search_and_page(staff, today):
    customer = make_customer()
    make_plan()
    invoice = make_invoice(customer)
    payment_record(actor=ACTOR, amount="10.00", method="check", invoice_number=invoice.number)
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert staff.get(url).status_code == 200, url
        assert staff.get(url + "?q=example").status_code == 200, url
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert staff.get(change).status_code == 200, change


def test_money_is_shown_formatted(staff, today):
    invoice = make_invoice(make_customer(), [("Hosting", "1234.50", None)])
    page = staff.get(reverse("admin:invoicing_invoice_changelist")).content.decode()
    assert "$1,234.50" in page
    assert invoice.number in page


def test_staff_create_customers_through_the_service(staff, today):
    form = {
        "name": "Bob Builder",
        "company": "",
        "email": "bob@example.com",
        "phone": "",
        "address_line1": "2 Elm St",
        "address_line2": "",
        "city": "Decatur",
        "region": "IL",
        "postal_code": "62521",
        "country": "US",
        "currency": "USD",
        "payment_method": "check",
        "status": "active",
        "notes": "",
        "subscriptions-TOTAL_FORMS": "0",
        "subscriptions-INITIAL_FORMS": "0",
        "invoices-TOTAL_FORMS": "0",
        "invoices-INITIAL_FORMS": "0",
    }
    bad = staff.post(reverse("admin:customers_customer_add"), {**form, "country": "ZZ"})
    assert bad.status_code == 200
    assert "country code" in bad.content.decode()
    assert not Customer.objects.exists()
    good = staff.post(reverse("admin:customers_customer_add"), form)
    assert good.status_code == 302, good.content.decode()[:2000]
    customer = Customer.objects.get()
    assert customer.account_number.startswith("C")
    assert AuditEvent.objects.get(action="customer.create").actor == "staff:clerk"


def test_issued_invoices_cannot_be_changed_in_the_admin(staff, today):
    invoice = make_invoice(make_customer())
    url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
    response = staff.post(url, {"total_minor": "1"})
    assert response.status_code == 403
    assert (
        staff.post(
            reverse("admin:invoicing_invoice_delete", args=[invoice.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    invoice.refresh_from_db()
    assert invoice.total.as_string() == "49.95"


def test_staff_see_messages_preview_notices_and_resend(staff, settings):
    import datetime as dt

    from isocnet.core import clock
    from isocnet.notifications.delivery import deliver_pending
    from isocnet.outbox.models import OutboxMessage
    from tests.invoicing.billing_helpers import run, subscribe

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    customer = make_customer(name="Alice Example")
    subscribe(customer, make_plan(), dt.date(2026, 12, 1))
    run(dt.date(2026, 11, 20))
    with clock.frozen_at(dt.date(2026, 11, 20)):
        deliver_pending()
    message = OutboxMessage.objects.get()
    page = staff.get(
        reverse("admin:notifications_outboxmessage_change", args=[message.pk])
    ).content.decode()
    assert "Customer Invoice" in page
    assert "an invoice has been generated" in page
    assert f"Invoice-{message.invoice.number}.pdf" in page
    pdf = staff.get(reverse("admin:documents_download", args=[message.document_id]))
    assert pdf.content == bytes(message.document.content)
    preview = staff.get(
        reverse("admin:notifications_preview", args=[message.invoice_id, "overdue_3"])
    )
    assert "Final Notice" in preview.content.decode()
    assert "nothing is stored or sent" in preview.content.decode()
    invoice_page = staff.get(
        reverse("admin:invoicing_invoice_change", args=[message.invoice_id])
    ).content.decode()
    assert "Preview first overdue notice" in invoice_page
    response = staff.post(
        reverse("admin:notifications_outboxmessage_changelist"),
        {"action": "resend", "_selected_action": [message.pk]},
    )
    assert response.status_code == 302
    assert OutboxMessage.objects.filter(resend_of=message).count() == 1


def test_staff_record_a_check_payment_in_the_back_office(staff, today):
    from isocnet.payments.models import Payment

    customer = make_customer()
    invoice = make_invoice(customer)
    url = reverse("admin:customers_record_payment", args=[customer.pk])
    page = staff.get(url).content.decode()
    assert f"#{invoice.number}" in page
    bad = staff.post(
        url, {"invoice": invoice.number, "amount": "20.001", "method": "check", "reference": "1042"}
    )
    assert "at most 2 decimal places" in bad.content.decode()
    assert not Payment.objects.exists()
    good = staff.post(
        url,
        {
            "invoice": invoice.number,
            "amount": "20.00",
            "method": "check",
            "reference": "Check 1042",
        },
    )
    assert good.status_code == 302
    invoice.refresh_from_db()
    assert invoice.balance.as_string() == "29.95"
    assert Payment.objects.get().recorded_by == "staff:clerk"
    customer_page = staff.get(
        reverse("admin:customers_customer_change", args=[customer.pk])
    ).content.decode()
    assert "Record a payment" in customer_page and "$29.95" in customer_page
    response = staff.post(
        reverse("admin:payments_payment_changelist"),
        {"action": "mark_returned", "_selected_action": [Payment.objects.get().pk]},
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.balance.as_string() == "49.95"


def test_money_on_detail_pages_is_formatted_never_raw_cents(staff, today):
    from isocnet.ledger.models import CreditEntry
    from isocnet.payments.models import Payment

    customer = make_customer()
    invoice = make_invoice(customer, [("Hosting", "1234.50", None)])
    payment_record(actor=ACTOR, amount="2000.00", method="check", invoice_number=invoice.number)
    for url in [
        reverse("admin:invoicing_invoice_change", args=[invoice.pk]),
        reverse("admin:payments_payment_change", args=[Payment.objects.get().pk]),
        reverse("admin:payments_creditentry_change", args=[CreditEntry.objects.get().pk]),
    ]:
        page = staff.get(url).content.decode()
        assert "123450" not in page and "200000" not in page and "76550" not in page, url
        assert "$1,234.50" in page or "$2,000.00" in page or "$765.50" in page, url


def test_view_site_keeps_the_staff_signed_in(staff):
    home = staff.get("/admin/").content.decode()
    assert 'href="/portal/"' in home  # "View site" is the client portal
    portal = staff.get("/portal/", follow=True)
    assert portal.status_code == 403 and "You are signed in as staff" in portal.content.decode()
    assert "Back to the back office" in portal.content.decode()
    assert staff.get("/admin/").status_code == 200  # still signed in


def test_invoice_page_bill_to_as_an_address_and_plain_quantities(staff, today):
    customer = make_customer(name="Dana Address", company="Acme Bakery LLC")
    invoice = make_invoice(customer, [("Mailboxes", "15.00", None, 3)])
    page = staff.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk])).content.decode()
    assert "Dana Address<br>Acme Bakery LLC<br>1 Main St<br>Springfield, IL 62701" in page
    assert '"account_number"' not in page  # not the JSON snapshot
    assert ">3<" in page and "3.0000" not in page
    assert "Amount due at issue" in page


def test_admin_home_links_and_the_messages_sent_heading(staff, today):
    home = staff.get("/admin/").content.decode()
    assert 'style="white-space:nowrap;width:1%"><a href="/admin/reports/">Reports</a>' in home
    customer = make_customer()
    make_invoice(customer)
    page = staff.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    html = page.content.decode()
    assert "Messages sent" in html and "Message sents" not in html


def test_customer_history_in_words_below_invoices_and_payments(staff, today):
    customer = make_customer(name="Hana History")
    plan = make_plan(name="Fiber 300")
    from tests.invoicing.billing_helpers import subscribe

    subscribe(customer, plan, today, description="9 Oak Ave")
    invoice = make_invoice(customer, [("Install", "99.00", None)])
    payment_record(
        actor=ACTOR,
        amount="40.00",
        method="check",
        reference="Check 77",
        invoice_number=invoice.number,
    )
    html = staff.get(
        reverse("admin:customers_customer_change", args=[customer.pk])
    ).content.decode()
    assert "Payment of $40.00 recorded: check, Check 77; applied to invoice #" in html
    assert f"Invoice #{invoice.number} issued for $99.00, due November 30, 2026" in html
    assert "Service added: Fiber 300 — 9 Oak Ave, quantity 1" in html
    assert "Account opened for Hana History" in html
    assert "price_override_minor" not in html and "None" not in html.split("customer-history")[1]
    # after the invoices and payments lists
    assert html.index("customer-history") > html.index("Payments") > html.index("Invoices")


def test_a_card_charge_on_the_account_is_not_for_invoice_none():
    """Issue #30, item 6: the history said "Card charge of $29.33 for invoice #None"."""
    from isocnet.backoffice.history import describe
    from isocnet.core.models import AuditEvent

    event = AuditEvent(
        action="card.charge.succeeded", after={"invoice": None, "amount": "2933"}, before={}
    )
    assert describe(event, "USD", {}) == "Card charge of $29.33 for the account: succeeded"
    event.after["invoice"] = "2026-000007"
    assert describe(event, "USD", {}).startswith("Card charge of $29.33 for invoice #2026-000007")


def test_the_customer_list_and_page_show_one_balance(client, today):
    """Issue #30, item 6: the list said $0.00 (open invoices only) while the
    page said -$49.33 (credit counted). Both read the ledger's credit now."""
    from django.contrib.auth import get_user_model

    from isocnet.payments.services import payment_record
    from tests.factories import ACTOR, make_customer

    customer = make_customer(name="Lisa Listed")
    payment_record(actor=ACTOR, customer_id=customer.pk, amount="49.33", method="check")
    staff = get_user_model().objects.create_superuser("boss", "b@isocnet.example", "pw")
    client.force_login(staff)
    listing = client.get("/admin/customers/customer/").content.decode()
    page = client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    assert "-$49.33" in listing and "-$49.33" in page


def test_the_home_page_names_its_sections_in_words(client):
    """Issue #32: the home page listed AXES, OTP_STATIC, OTP_TOTP and CORE."""
    from django.contrib.auth import get_user_model

    boss = get_user_model().objects.create_superuser("root", "r@isocnet.example", "pw")
    client.force_login(boss)
    page = client.get("/admin/").content.decode()
    for raw in (">Axes<", ">Otp_totp<", ">Otp_static<", ">Core<"):
        assert raw not in page
    assert "Sign-in lockouts" in page and "Two-factor sign-in: recovery codes" in page


def test_webhook_endpoints_list_their_events_in_words(client):
    from django.contrib.auth import get_user_model

    from isocnet.webhooks.models import WebhookEndpoint

    WebhookEndpoint.objects.create(
        url="https://crm.example/in",
        events=["*"],
        secret_encrypted="x",
        secret_hint="whsec_…",
        created_at=clock.now(),
        created_by="test",
    )
    client.force_login(get_user_model().objects.create_superuser("root", "r@i.example", "pw"))
    page = client.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert "Every event" in page and '["*"]' not in page


def test_checks_to_deposit_are_the_ones_recorded_by_hand(client, today):
    """Issue #32: "Checks received today (to deposit)" counted every check,
    deposited or not (1 → 8 after posting seven from a batch)."""
    from django.contrib.auth import get_user_model

    from isocnet.backoffice.workqueue import tasks
    from isocnet.deposits.batches import batch_item_add, batch_open, batch_post

    paid_by_hand = make_invoice(make_customer())
    payment_record(actor=ACTOR, invoice_number=paid_by_hand.number, amount="49.95", method="check")
    invoice = make_invoice(make_customer())
    batch = batch_open(actor=ACTOR, reference="DS-1", expected_count=1, expected_total="49.95")
    batch_item_add(actor=ACTOR, batch_id=batch.pk, invoice_number=invoice.number, amount="49.95")
    batch_post(actor=ACTOR, batch_id=batch.pk)
    task = next(t for t in tasks(today) if t.label.startswith("Checks received today"))
    assert task.count == 1
    client.force_login(get_user_model().objects.create_superuser("root", "r@i.example", "pw"))
    listing = client.get(task.url)
    assert listing.status_code == 200
    assert "1 payment" in listing.content.decode()
