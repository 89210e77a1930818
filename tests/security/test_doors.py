"""Issue #29: every door keeps the core's guarantees. One test (or more) per
item found when the running instance was tried as an attacker, a hostile
customer and a careless clerk would; each fails on the code before the fix.
Runs on SQLite and PostgreSQL."""

import csv
import datetime as dt
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken

from isocnet.api.tokens import apikey_create, apikey_revoke
from isocnet.collections.policy import policy_update
from isocnet.collections.promises import promise_create
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.errors import Conflict, Forbidden, InvalidInput
from isocnet.core.jobs import jobs_run_due
from isocnet.core.pan import card_number_in
from isocnet.deposits.bank_files import bank_file_import
from isocnet.deposits.models import BankFile, DepositItem
from isocnet.network.drift import network_verify
from isocnet.network.models import ServiceIdentity
from isocnet.network.services import identity_set
from isocnet.payments.services import payment_record
from isocnet.webhooks.models import WebhookAttempt, WebhookEndpoint
from isocnet.webhooks.services import endpoint_create
from tests.deposits.bankfiles import Item, bai2_file
from tests.factories import ACTOR, make_customer, make_invoice, make_plan
from tests.invoicing.billing_helpers import subscribe
from tests.security.test_staff_two_factor import PASSWORD, enrol, signed_in, staff

pytestmark = pytest.mark.django_db


def staff_user(username: str, group: str | None):
    user = get_user_model().objects.create_user(
        username, f"{username}@isocnet.example", PASSWORD, is_staff=True
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def as_staff(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- 1. two-factor sign-in cannot be skipped through the recovery page ------------
@pytest.mark.staff_2fa
def test_new_recovery_codes_need_the_second_factor_first():
    manager = staff("mgr", group="Billing manager")
    _device, codes = enrol(manager)
    before = set(StaticToken.objects.values_list("token", flat=True))
    half = signed_in(manager)  # password given, code not yet
    answer = half.post("/admin/2fa/recovery/")
    assert answer.status_code == 302 and "/admin/2fa/verify/" in answer["Location"]
    assert set(StaticToken.objects.values_list("token", flat=True)) == before  # none renewed
    page = half.get("/admin/2fa/verify/")
    assert page.status_code == 200 and codes[0] not in page.content.decode()
    # the service refuses it too, whatever page calls it
    manager.is_verified = lambda: False
    from isocnet.backoffice.two_factor import recovery_codes_renew

    with pytest.raises(Forbidden):
        recovery_codes_renew(actor=Actor.staff(manager), user=manager)


@pytest.mark.staff_2fa
def test_the_recovery_page_is_never_a_500():
    assert Client().post("/admin/2fa/recovery/").status_code == 302  # no session: sign in
    unenrolled = staff("newmgr", group="Billing manager")
    answer = signed_in(unenrolled).post("/admin/2fa/recovery/")
    assert answer.status_code == 302 and "/admin/2fa/enrol/" in answer["Location"]


# -- 2. RADIUS values FreeRADIUS would expand ------------------------------------
@pytest.mark.parametrize(
    "password",
    ["`%{User-Name}`", '"%{sql:SELECT 1}"', "'quoted'", "pw%{exec:/bin/id}", "back\\slash"],
)
def test_a_pppoe_password_freeradius_would_expand_is_refused_at_every_door(api, password):
    customer = make_customer()
    sub = subscribe(customer, make_plan(), dt.date(2026, 11, 1))
    answer = api._send(
        "put", f"/subscriptions/{sub.pk}/network", {"username": "u1", "password": password}
    )
    assert answer.status_code == 422 and answer.body["field"] == "password"
    assert "expression" in answer.body["message"]
    with pytest.raises(InvalidInput) as refused:
        identity_set(actor=ACTOR, subscription_id=sub.pk, circuit_id=password)
    assert refused.value.field == "circuit_id"
    assert not ServiceIdentity.objects.exists()


def test_usernames_are_one_login_in_any_case(api):
    customer = make_customer()
    one = subscribe(customer, make_plan(), dt.date(2026, 11, 1))
    two = subscribe(customer, make_plan(), dt.date(2026, 11, 1))
    identity_set(actor=ACTOR, subscription_id=one.pk, username="Alice")
    with pytest.raises(Conflict) as clash:
        identity_set(actor=ACTOR, subscription_id=two.pk, username="alice")
    assert clash.value.field == "username"


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("255.255.255.255", "reserved or broadcast"),
        ("224.0.0.1", "multicast"),
        ("169.254.1.1", "link-local"),
        ("::1", "loopback"),
    ],
)
def test_a_static_ip_of_no_usable_class_is_refused(address, why):
    sub = subscribe(make_customer(), make_plan(), dt.date(2026, 11, 1))
    with pytest.raises(InvalidInput) as refused:
        identity_set(actor=ACTOR, subscription_id=sub.pk, static_ip=address)
    assert refused.value.field == "static_ip" and why in refused.value.message


def test_an_ipv4_mapped_address_is_the_ipv4_address_it_maps():
    customer = make_customer()
    one = subscribe(customer, make_plan(), dt.date(2026, 11, 1))
    two = subscribe(customer, make_plan(), dt.date(2026, 11, 1))
    identity_set(actor=ACTOR, subscription_id=one.pk, static_ip="10.0.0.5")
    with pytest.raises(Conflict):
        identity_set(actor=ACTOR, subscription_id=two.pk, static_ip="::ffff:10.0.0.5")
    identity_set(actor=ACTOR, subscription_id=two.pk, static_ip="::ffff:10.0.0.6")
    assert ServiceIdentity.objects.get(subscription=two).static_ip == "10.0.0.6"


# -- 3. bank files keep the API's checks ----------------------------------------
TODAY = dt.date(2026, 11, 20)


def lockbox(*rows: dict) -> str:
    """A lockbox CSV (csv's quoting: a newline in a name stays one)."""
    out = io.StringIO()
    columns = ["deposit_date", "item_reference", "amount", "invoice_number", "payer_name"]
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for n, row in enumerate(rows or ({},)):
        base = {
            "deposit_date": TODAY.isoformat(),
            "item_reference": f"BR-{n}",
            "amount": "49.95",
            "invoice_number": "",
            "payer_name": "Ann Payer",
        }
        writer.writerow({**base, **row})
    return out.getvalue()


@pytest.mark.parametrize(
    ("row", "where"),
    [
        ({"amount": "92233720368547758.07"}, "line 2, amount"),
        ({"amount": "5000000000.00"}, "line 2, amount"),
        ({"amount": "12345678901234567890"}, "line 2, amount"),
        ({"amount": "NaN"}, "line 2, amount"),
        ({"amount": "Infinity"}, "line 2, amount"),
        ({"amount": "sNaN"}, "line 2, amount"),
        ({"amount": "1e999999"}, "line 2, amount"),
        ({"deposit_date": "9999-12-31"}, "line 2, deposit_date"),
        ({"deposit_date": "0001-01-01"}, "line 2, deposit_date"),
        ({"payer_name": "4111 1111 1111 1111"}, "line 2, payer_name"),
        ({"payer_name": "Eve\nBcc"}, "line 2, payer_name"),
        ({"payer_name": "Eve\u202egnp"}, "line 2, payer_name"),
        ({"payer_name": "Eve\u0000"}, "NUL"),
        ({"item_reference": "R" * 81}, "line 2, item_reference"),
    ],
)
def test_a_lockbox_item_the_api_would_refuse_is_refused_naming_line_and_column(
    api, today, row, where
):
    make_invoice(make_customer())
    with pytest.raises(InvalidInput) as refused:  # the domain, whatever the door
        bank_file_import(actor=ACTOR, format="lockbox", filename="d.csv", content=lockbox(row))
    assert where in refused.value.message and not card_number_in(refused.value.message)
    answer = api.post(  # the API (its body guard may refuse a card number first)
        "/bank-files", {"format": "lockbox", "filename": "day.csv", "content": lockbox(row)}
    )
    assert answer.status_code == 422, answer.content
    assert not card_number_in(answer.content.decode())
    assert not BankFile.objects.exists() and not DepositItem.objects.exists()


def test_references_sharing_their_first_80_characters_are_not_cut_into_one(api, today):
    base = "R" * 80
    content = lockbox({"item_reference": base + "1"}, {"item_reference": base + "2"})
    answer = api.post("/bank-files", {"format": "lockbox", "filename": "d.csv", "content": content})
    assert answer.status_code == 422 and "item_reference" in answer.body["message"]


def test_a_bai2_item_beyond_the_limit_is_refused(api, today):
    content = bai2_file([Item("B1", 1_000_000_001)], TODAY)  # $10,000,000.01
    answer = api.post("/bank-files", {"format": "bai2", "filename": "d.bai", "content": content})
    assert answer.status_code == 422 and "16 record 1, amount" in answer.body["message"]
    assert not BankFile.objects.exists()


# -- 4. webhooks never reach inside the network ---------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://localhost/",
        "https://0.0.0.0/",
        "https://[::ffff:127.0.0.1]/",
        "https://10.0.0.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://192.168.1.1/",
        "http://example.org/",
        "ftp://example.org/",
        "https://user:pw@example.org/",
    ],
)
def test_a_webhook_to_an_internal_or_odd_address_is_refused(url):
    with pytest.raises(InvalidInput) as refused:
        endpoint_create(actor=ACTOR, url=url, events=["*"])
    assert refused.value.field == "url"
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_form_says_why_instead_of_a_500():
    manager = as_staff(staff_user("mona", "Billing manager"))
    for url in ("http://example.org/", "ftp://example.org/", "https://127.0.0.1/"):
        answer = manager.post("/admin/webhooks/webhookendpoint/add/", {"url": url, "events": ["*"]})
        assert answer.status_code == 200, url
        assert "errorlist" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


class _Redirecting(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.1:9/")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_redirect_is_never_followed_and_errors_say_no_socket_text(settings, names_resolve):
    settings.WEBHOOK_ALLOW_HTTP = True
    names_resolve("hooks.example")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        endpoint_create(actor=ACTOR, url=f"http://hooks.example:{port}/in", events=["*"])
        closed = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
        closed_port = closed.server_address[1]
        closed.server_close()  # nobody listens there now
        endpoint_create(actor=ACTOR, url=f"http://hooks.example:{closed_port}/in", events=["*"])
        make_invoice(make_customer())  # an invoice.issued event
        jobs_run_due()
    finally:
        server.shutdown()
        server.server_close()
    errors = set(WebhookAttempt.objects.values_list("status_code", "error"))
    assert (302, "HTTP 302: redirects are not followed") in errors
    assert (None, "could not connect") in errors
    assert not any("Errno" in e or "refused" in e.lower() for _, e in errors)


def test_the_address_is_checked_again_when_sending(settings, names_resolve):
    settings.WEBHOOK_ALLOW_HTTP = True
    names_resolve("rebind.example")
    endpoint_create(actor=ACTOR, url="http://rebind.example:9/in", events=["*"])
    settings.OUTBOUND_ALLOW_NETWORKS = []  # the name now leads to loopback, unallowed
    make_invoice(make_customer())
    jobs_run_due()
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and attempt.error.startswith("refused:")


# -- 5. only a billing manager repairs the network ---------------------------------
@pytest.mark.parametrize("group", ["Support agent", "Billing clerk"])
def test_repairing_drift_needs_a_billing_manager(group):
    user = staff_user("someone", group)
    with pytest.raises(Forbidden):
        network_verify(actor=Actor.staff(user), repair=True)
    answer = as_staff(user).post("/admin/network/serviceidentity/drift/")
    assert answer.status_code == 302  # told why, nothing repaired


# -- 6. PPPoE passwords are write-only -------------------------------------------
@pytest.mark.parametrize("group", ["Support agent", "Billing clerk", "Billing manager"])
def test_no_role_reads_a_pppoe_password(group):
    sub = subscribe(make_customer(), make_plan(), dt.date(2026, 11, 1))
    identity = identity_set(
        actor=ACTOR, subscription_id=sub.pk, username="pw-user", password="Sekr1t-pppoe"
    )
    page = as_staff(staff_user("viewer", group)).get(
        f"/admin/network/serviceidentity/{identity.pk}/change/"
    )
    assert page.status_code == 200
    assert "Sekr1t-pppoe" not in page.content.decode()


def test_saving_the_admin_form_without_a_password_keeps_it():
    sub = subscribe(make_customer(), make_plan(), dt.date(2026, 11, 1))
    identity = identity_set(
        actor=ACTOR, subscription_id=sub.pk, username="keep", password="Sekr1t-pppoe"
    )
    manager = as_staff(staff_user("mona", "Billing manager"))
    answer = manager.post(
        f"/admin/network/serviceidentity/{identity.pk}/change/",
        {"subscription": sub.pk, "username": "keep2", "password": "", "mac": "", "circuit_id": ""},
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    identity.refresh_from_db()
    assert identity.username == "keep2" and identity.password == "Sekr1t-pppoe"


# -- 7. promises in the portal have a floor and a limit -----------------------------
def test_a_portal_promise_is_at_least_what_is_overdue_and_limited_per_period():
    customer = make_customer()
    with clock.frozen_at(dt.date(2026, 11, 1)):
        make_invoice(customer)  # $49.95, due Nov 15 or so
    with clock.frozen_at(dt.date(2026, 12, 1)):
        with pytest.raises(InvalidInput) as low:
            promise_create(
                actor=ACTOR,
                customer_id=customer.pk,
                amount="0.01",
                promised_on="2026-12-10",
                source="portal",
            )
        assert low.value.field == "amount" and "overdue" in low.value.message
        for _ in range(2):
            made = promise_create(
                actor=ACTOR,
                customer_id=customer.pk,
                amount="49.95",
                promised_on="2026-12-10",
                source="portal",
            )
            from isocnet.collections.promises import promise_cancel

            promise_cancel(actor=ACTOR, promise_id=made.pk, reason="changed my mind")
        with pytest.raises(Conflict) as limit:
            promise_create(
                actor=ACTOR,
                customer_id=customer.pk,
                amount="49.95",
                promised_on="2026-12-10",
                source="portal",
            )
        assert "at most 2" in limit.value.message


def test_the_policy_refuses_a_minimum_fee_above_the_maximum():
    with pytest.raises(InvalidInput) as refused:
        policy_update(actor=ACTOR, late_fee_min="25.00", late_fee_max="10.00")
    assert refused.value.field == "late_fee_min"


# -- 8. every CSV export escapes formulas -------------------------------------------
def test_the_deposit_report_escapes_a_formula_in_a_batch_reference():
    from isocnet.deposits.batches import batch_item_add, batch_open, batch_post

    with clock.frozen_at(dt.date(2026, 11, 20)):
        invoice = make_invoice(make_customer())
        batch = batch_open(
            actor=ACTOR, reference="=cmd|' /C calc'!A0", expected_count=1, expected_total="49.95"
        )
        batch_item_add(
            actor=ACTOR, batch_id=batch.pk, invoice_number=invoice.number, amount="49.95"
        )
        batch_post(actor=ACTOR, batch_id=batch.pk)
        manager = as_staff(staff_user("mona", "Billing manager"))
        answer = manager.get(
            "/admin/deposits/depositbatch/report/?csv=1&from=2026-11-01&to=2026-11-30"
        )
    text = b"".join(answer.streaming_content).decode()
    assert "'=cmd" in text and ",=cmd" not in text


# -- 9. NUL in a path or a query is a 4xx everywhere -------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers?status=%00",
        "/api/v1/invoices/%00",
        "/api/v1/customers?q=a%00b",
        "/portal/invoices/%00/pdf/",
        "/portal/contact/email/%00/",
        "/portal/?next=%00",
        "/admin/customers/customer/?q=%00",
    ],
)
def test_nul_anywhere_in_a_url_is_refused_not_a_500(api, path):
    client = api.client if path.startswith("/api/") else Client()
    answer = client.get(path, headers=api.headers if path.startswith("/api/") else {})
    assert 400 <= answer.status_code < 500, (path, answer.status_code)


# -- 10. the low ones ---------------------------------------------------------------
def test_signed_in_pages_are_not_stored_and_every_page_has_a_csp(client):
    from tests.portal.conftest import portal_login_for

    customer = make_customer()
    client.force_login(portal_login_for(customer))
    page = client.get("/portal/dashboard/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    policy = dict(d.strip().split(" ", 1) for d in page["Content-Security-Policy"].split(";"))
    assert policy["script-src"].startswith("'self'") and "unsafe" not in policy["script-src"]
    assert "Content-Security-Policy" in Client().get("/portal/login/")


def test_a_webhook_secret_shown_once_never_travels_in_a_cookie(settings, names_resolve):
    names_resolve("crm.example", address="127.0.0.1")
    manager = as_staff(staff_user("mona", "Billing manager"))
    answer = manager.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": "https://crm.example/in", "events": ["*"]},
    )
    assert answer.status_code == 302
    assert "messages" not in answer.cookies  # the message waits in the session, server-side
    import re

    shown = manager.get(answer["Location"]).content.decode()
    secret = re.search(r"whsec_[A-Za-z0-9+/=]{20,}", shown).group(0)
    assert secret not in manager.get(answer["Location"]).content.decode()  # once


def test_a_revoked_key_gets_no_replay_of_a_stored_answer(api):
    _row, token = apikey_create(actor=ACTOR, name="short-lived")
    from tests.apiclient import Api

    client = Api(token)
    client.headers["Idempotency-Key"] = "k-1"
    body = {
        "name": "Replay Test",
        "email": "r@example.com",
        "address": {
            "line1": "1 Main St",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62701",
            "country": "US",
        },
        "payment_method": "check",
    }
    first = client.post("/customers", body)
    assert first.status_code == 201, first.content
    apikey_revoke(actor=ACTOR, name="short-lived")
    again = client.post("/customers", body)
    assert again.status_code == 401 and again.get("Idempotent-Replayed") is None


# -- 11. every preview link on an invoice's page opens ------------------------------
def test_every_preview_link_on_an_invoice_page_opens():
    from isocnet.invoicing.credit_notes import credit_note_create

    customer = make_customer()
    with clock.frozen_at(dt.date(2026, 11, 20)):
        invoice = make_invoice(customer)
        payment_record(actor=ACTOR, amount="10.00", method="check", invoice_number=invoice.number)
        credit_note_create(
            actor=ACTOR, invoice_number=invoice.number, amount="5.00", reason="Outage credit"
        )
    manager = as_staff(staff_user("mona", "Billing manager"))
    page = manager.get(f"/admin/invoicing/invoice/{invoice.pk}/change/").content.decode()
    import re

    links = re.findall(r'href="(/admin/notifications/[^"]*preview/[^"]+)"', page)
    assert any("/credit_note/" in link for link in links)
    assert not any(f"/{k}/" in link for link in links for k in ("welcome", "password_reset"))
    for link in links:
        assert manager.get(link).status_code == 200, link
    # a kind the invoice has nothing for is a 404, not a 500
    refund = manager.get(f"/admin/notifications/outboxmessage/preview/{invoice.pk}/refund/")
    assert refund.status_code == 404
