"""Signing in, throttling, sessions, invitation and reset links."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from isocnet.core import clock
from isocnet.outbox.models import MessageKind, OutboxMessage
from tests.factories import make_customer
from tests.portal.conftest import PASSWORD, link_in, rendered

PORTAL = "https://portal.isocnet.example"


@pytest.fixture(autouse=True)
def _portal_url(settings):
    settings.PORTAL_URL = PORTAL + "/portal"


def login(client, email, password, ip="203.0.113.7"):
    return client.post("/portal/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.welcome_emails
def test_a_new_customer_is_invited_and_sets_a_password_with_a_single_use_link(client, db):
    customer = make_customer(name="Nina New", email="Nina.New@example.com")
    welcome = OutboxMessage.objects.get(customer=customer, kind=MessageKind.WELCOME)
    rendered(welcome)
    assert welcome.subject == "Welcome to the ISOCNET client portal"
    assert welcome.to_email == "Nina New <Nina.New@example.com>" and welcome.cc_emails == []
    link = link_in(welcome.body_text, PORTAL + "/portal/password/welcome/")
    path = link.removeprefix(PORTAL)

    page = client.get(path, follow=True)
    assert "Welcome! Set your password" in page.content.decode()
    set_url = page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": PASSWORD, "new_password2": PASSWORD}, follow=True)
    assert "Your password is set" in done.content.decode()
    # the login is the email, in any case
    assert login(client, "nina.new@EXAMPLE.com", PASSWORD).status_code == 302
    # the link is spent
    again = Client().get(path, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_wrong_password_and_unknown_account_get_the_same_answer(client, member):
    wrong = login(client, "dana@example.com", "not-the-password").content.decode()
    unknown = login(client, "nobody@example.com", "not-the-password").content.decode()
    message = "That email and password do not match our records."
    assert message in wrong and message in unknown


def test_staff_cannot_use_the_portal_and_customers_cannot_use_the_admin(client, member):
    User = get_user_model()
    User.objects.create_user("clerk@example.com", "clerk@example.com", PASSWORD, is_staff=True)
    assert login(client, "clerk@example.com", PASSWORD).status_code == 200  # refused
    admin = client.post(
        "/admin/login/?next=/admin/", {"username": "dana@example.com", "password": PASSWORD}
    )
    assert admin.status_code == 200 and "/admin/" not in admin.get("Location", "")


def test_failed_logins_lock_the_account_for_an_hour_from_any_address(client, member, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit):
        answer = login(client, "dana@example.com", f"guess-{i}", ip=f"198.51.100.{i}")
        assert answer.status_code == (429 if i == limit - 1 else 200)  # locked at the limit
    locked = login(client, "dana@example.com", PASSWORD, ip="192.0.2.99")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # an hour later the right password works again
    an_hour_passes()
    assert login(Client(), "dana@example.com", PASSWORD, ip="192.0.2.99").status_code == 302


def test_failed_logins_from_one_address_are_throttled_whatever_the_account(
    client, member, settings
):
    for i in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"someone{i}@example.com", "guess", ip="203.0.113.50")
    assert login(client, "dana@example.com", PASSWORD, ip="203.0.113.50").status_code == 429
    assert login(Client(), "dana@example.com", PASSWORD, ip="203.0.113.51").status_code == 302


def test_the_limit_is_well_under_100_failures_an_hour(settings):
    # ASVS 2.2.1: no more than 100 failed attempts per hour on one account
    assert settings.AXES_FAILURE_LIMIT <= 100 and settings.AXES_COOLOFF_TIME >= 1


def test_every_form_needs_its_csrf_token(member):
    client = Client(enforce_csrf_checks=True)
    assert login(client, "dana@example.com", PASSWORD).status_code == 403
    client.force_login(member[1])
    for path in ("/portal/pay/", "/portal/contact/", "/portal/cards/add/", "/portal/logout/"):
        assert client.post(path, {}).status_code == 403, path
    # with the token from the page it goes through
    page = client.get("/portal/contact/")
    token = page.cookies["csrftoken"].value
    ok = client.post("/portal/logout/", {"csrfmiddlewaretoken": token})
    assert ok.status_code == 302


def test_the_session_key_changes_at_login_and_the_cookie_is_locked_down(client, member):
    client.get("/portal/login/")
    client.session.save()
    before = client.session.session_key
    response = login(client, "dana@example.com", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/portal/dashboard/"
    after = client.session.session_key
    assert before and after and before != after
    assert not Session.objects.filter(session_key=before).exists()
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_an_idle_session_ends(signed_in, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert signed_in.get("/portal/dashboard/").status_code == 200
    key = signed_in.session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=clock.now() - __import__("datetime").timedelta(seconds=1)
    )
    assert signed_in.get("/portal/dashboard/")["Location"].startswith("/portal/login/")


def test_activity_renews_the_session_at_most_once_a_minute(signed_in, monkeypatch):
    """Each page view within a minute costs no session write; after a
    minute, the next one pushes the expiry 30 minutes on again."""
    import time as real_time

    from isocnet.core import sessions

    assert signed_in.get("/portal/dashboard/").status_code == 200
    key = signed_in.session.session_key
    first = Session.objects.get(session_key=key).expire_date
    now = real_time.time()
    monkeypatch.setattr(sessions.time, "time", lambda: now + 30)
    signed_in.get("/portal/invoices/")
    assert Session.objects.get(session_key=key).expire_date == first  # not written
    monkeypatch.setattr(sessions.time, "time", lambda: now + 90)
    signed_in.get("/portal/invoices/")
    assert Session.objects.get(session_key=key).expire_date > first  # renewed


def test_cookies_are_secure_when_the_portal_is_served_over_https(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import django; from django.conf import settings; django.setup();"
        "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)"
    )

    def secure(url):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "isocnet.settings",
            "VAR_DIR": str(tmp_path),
            "PORTAL_URL": url,
        }
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        return out.stdout.split()

    assert secure("https://portal.isocnet.example/portal") == ["True", "True"]
    assert secure("http://127.0.0.1:8000/portal") == ["False", "False"]


def test_a_notice_link_leads_to_its_page_after_login(client, member):
    path = "/portal/invoices/2026-000123/"
    first = client.get(path)
    assert first.status_code == 302 and first["Location"] == f"/portal/login/?next={path}"
    page = client.get(first["Location"])
    assert f'value="{path}"' in page.content.decode()
    done = client.post(
        first["Location"],
        {"username": "dana@example.com", "password": PASSWORD, "next": path},
        REMOTE_ADDR="203.0.113.7",
    )
    assert done["Location"] == path


def test_password_reset_link_works_once_and_ends_every_session(member):
    customer, user = member
    other_device = Client()
    other_device.force_login(user)
    assert other_device.get("/portal/dashboard/").status_code == 200

    client = Client()
    sent = client.post("/portal/password/forgot/", {"email": "DANA@example.com"})
    unknown = client.post("/portal/password/forgot/", {"email": "ghost@example.com"})
    assert "Check your email" in sent.content.decode()
    assert sent.content.decode().replace(
        "DANA@example.com", "X"
    ) == unknown.content.decode().replace("ghost@example.com", "X")
    reset = OutboxMessage.objects.get(kind=MessageKind.PASSWORD_RESET)
    assert reset.customer_id == customer.pk
    rendered(reset)
    path = link_in(reset.body_text, PORTAL + "/portal/password/reset/").removeprefix(PORTAL)
    page = client.get(path, follow=True)
    new = "another-long-passphrase-7"
    client.post(page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})

    assert Client().get(path, follow=True).content.decode().count("This link no longer works") == 1
    assert other_device.get("/portal/dashboard/")["Location"].startswith("/portal/login/")
    assert login(Client(), "dana@example.com", new).status_code == 302
    assert login(Client(), "dana@example.com", PASSWORD).status_code == 200


def test_reset_emails_are_capped_per_hour(client, member, settings):
    for _ in range(settings.PORTAL_RESET_EMAILS_PER_HOUR + 3):
        client.post("/portal/password/forgot/", {"email": "dana@example.com"})
    assert (
        OutboxMessage.objects.filter(kind=MessageKind.PASSWORD_RESET).count()
        == settings.PORTAL_RESET_EMAILS_PER_HOUR
    )


def an_hour_passes():
    """Age the recorded failures by an hour and a minute."""
    import datetime as dt

    from axes.models import AccessAttempt
    from django.db.models import F

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=61))


def test_a_reset_link_expires_after_portal_link_days(member, monkeypatch, settings):
    """A link still works on its last day and no longer the minute after."""
    import datetime as dt

    from django.contrib.auth.tokens import PasswordResetTokenGenerator

    client = Client()
    client.post("/portal/password/forgot/", {"email": "dana@example.com"})
    reset = rendered(OutboxMessage.objects.get(kind=MessageKind.PASSWORD_RESET))
    path = link_in(reset.body_text, PORTAL + "/portal/password/reset/").removeprefix(PORTAL)
    issued = dt.datetime.now()
    lifetime = dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    assert lifetime == dt.timedelta(days=3)  # PORTAL_LINK_DAYS

    monkeypatch.setattr(
        PasswordResetTokenGenerator, "_now", lambda self: issued + lifetime - dt.timedelta(hours=1)
    )
    assert "This link no longer works" not in Client().get(path, follow=True).content.decode()
    monkeypatch.setattr(
        PasswordResetTokenGenerator, "_now", lambda self: issued + lifetime + dt.timedelta(hours=1)
    )
    late = Client().get(path, follow=True).content.decode()
    assert "This link no longer works" in late
