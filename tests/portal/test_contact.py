"""Contact information: changes are audited; a new billing email takes
effect only when confirmed from the new mailbox, and the old one is told."""

from isocnet.core.audit import AuditEvent
from isocnet.outbox.models import MessageKind, OutboxMessage
from tests.portal.conftest import PASSWORD, link_in, rendered

FORM = {
    "name": "Dana Member",
    "company": "Member Bakery LLC",
    "email": "dana@example.com",
    "phone": "+1 217 555 0199",
    "line1": "22 Oak Avenue",
    "line2": "Unit 4",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62704",
    "country": "US",
}


def test_an_address_change_is_saved_and_audited(signed_in, member):
    customer, _ = member
    response = signed_in.post("/portal/contact/", FORM, follow=True)
    assert "Your contact information is saved." in response.content.decode()
    customer.refresh_from_db()
    assert (customer.address_line1, customer.postal_code, customer.company) == (
        "22 Oak Avenue",
        "62704",
        "Member Bakery LLC",
    )
    event = (
        AuditEvent.objects.filter(action="customer.update", customer_id=customer.pk)
        .order_by("pk")
        .last()
    )
    assert event.actor == f"customer:{customer.account_number}"
    assert (
        event.before["address_line1"] == "1 Main St"
        and event.after["address_line1"] == "22 Oak Avenue"
    )
    assert not OutboxMessage.objects.filter(kind=MessageKind.EMAIL_CHANGE_CONFIRM).exists()


def test_bad_input_names_the_field_and_saves_nothing(signed_in, member):
    customer, _ = member
    response = signed_in.post("/portal/contact/", {**FORM, "line1": "", "country": "XX"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_line1-error"' in page and 'id="id_country-error"' in page
    customer.refresh_from_db()
    assert customer.address_line1 == "1 Main St"


def test_an_email_change_waits_for_confirmation_from_the_new_address(signed_in, member, client):
    customer, user = member
    response = signed_in.post(
        "/portal/contact/", {**FORM, "email": "dana.new@example.org"}, follow=True
    )
    assert "We sent a confirmation link to dana.new@example.org" in response.content.decode()
    customer.refresh_from_db()
    assert customer.email == "dana@example.com"  # not yet
    confirm = rendered(OutboxMessage.objects.get(kind=MessageKind.EMAIL_CHANGE_CONFIRM))
    assert confirm.to_email.endswith("<dana.new@example.org>") and confirm.cc_emails == []
    link = link_in(confirm.body_text, "http://127.0.0.1:8000/portal/contact/email/")
    path = link.removeprefix("http://127.0.0.1:8000")

    # opening the link (a mail scanner does) changes nothing
    assert "Confirm this email address" in client.get(path).content.decode()
    customer.refresh_from_db()
    assert customer.email == "dana@example.com"

    done = client.post(path)
    assert "Email address confirmed" in done.content.decode()
    customer.refresh_from_db()
    user.refresh_from_db()
    assert customer.email == "dana.new@example.org" and user.username == "dana.new@example.org"
    told = rendered(OutboxMessage.objects.get(kind=MessageKind.EMAIL_CHANGED))
    assert told.to_email.endswith("<dana@example.com>")
    assert "changed from dana@example.com to dana.new@example.org" in told.body_text
    assert AuditEvent.objects.filter(action="customer.email_change_requested").exists()
    changed = (
        AuditEvent.objects.filter(action="customer.update", customer_id=customer.pk)
        .order_by("pk")
        .last()
    )
    assert changed.after == {"email": "dana.new@example.org"}

    # single use, and the new address signs in
    assert "already been used" in client.post(path).content.decode()
    login = client.post(
        "/portal/login/", {"username": "dana.new@example.org", "password": PASSWORD}
    )
    assert login.status_code == 302


def test_a_tampered_confirmation_link_is_refused(client, member):
    response = client.post("/portal/contact/email/eyJjIjoxfQ:1abc:forged/")
    assert response.status_code == 400 and "not valid" in response.content.decode()


def test_an_email_used_by_another_login_is_refused(signed_in, member):
    from tests.factories import make_customer
    from tests.portal.conftest import portal_login_for

    portal_login_for(make_customer(email="taken@example.com"))
    response = signed_in.post(
        "/portal/contact/", {**FORM, "email": "taken@example.com", "line1": "9 Elm"}
    )
    assert 'id="id_email-error"' in response.content.decode()
    customer, _ = member
    customer.refresh_from_db()
    assert customer.address_line1 == "1 Main St"  # all or nothing


def test_staff_see_the_customers_own_changes_and_can_invite_again(signed_in, member, client):
    from django.contrib.auth import get_user_model

    customer, _ = member
    signed_in.post("/portal/contact/", {**FORM, "line1": "5 Portal Way"})
    staff = get_user_model().objects.create_superuser(
        "clerk", "clerk@isocnet.example", "pw-12345-x"
    )
    client.force_login(staff)
    page = client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    assert f"customer:{customer.account_number}" in page
    assert "Account changed: company — → Member Bakery LLC" in page
    assert "address 1 Main St → 5 Portal Way" in page
    client.post(
        "/admin/customers/customer/",
        {"action": "send_portal_invitation", "_selected_action": [customer.pk]},
    )
    assert OutboxMessage.objects.filter(customer=customer, kind=MessageKind.WELCOME).count() == 2
    assert AuditEvent.objects.filter(action="portal.invite", actor="staff:clerk").exists()


def test_a_confirmation_link_expires_after_email_change_link_days(
    signed_in, member, client, monkeypatch
):
    import time

    from django.core import signing

    customer, _user = member
    signed_in.post("/portal/contact/", {**FORM, "email": "dana.new@example.org"})
    confirm = rendered(OutboxMessage.objects.get(kind=MessageKind.EMAIL_CHANGE_CONFIRM))
    path = link_in(confirm.body_text, "http://127.0.0.1:8000/portal/contact/email/").removeprefix(
        "http://127.0.0.1:8000"
    )
    three_days_later = time.time() + 3 * 86400  # EMAIL_CHANGE_LINK_DAYS is 2
    monkeypatch.setattr(signing.time, "time", lambda: three_days_later)
    response = client.post(path)
    assert response.status_code == 400
    assert "this confirmation link has expired; ask again" in response.content.decode()
    customer.refresh_from_db()
    assert customer.email == "dana@example.com"
