"""What a customer reads on a 390 × 844 phone, in Debian's Chromium: the
"Customer Invoice" email's HTML, the invoice page and the error pages.
Screenshots go to test-artifacts/phone/ (kept by CI, and looked at)."""

import re
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from isocnet.core import clock
from isocnet.invoicing.models import Invoice
from isocnet.notifications.rendering import render_into
from isocnet.outbox.models import MessageKind, OutboxMessage
from isocnet.payments.services import payment_record
from tests.factories import ACTOR, make_customer, make_plan, make_tax
from tests.invoicing.billing_helpers import RUNNER, subscribe
from tests.portal.conftest import portal_login_for
from tests.portal.test_browser import PASSWORD, browser, shot, site  # noqa: F401 - fixtures

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "phone"
PHONE = {"width": 390, "height": 844}
pytestmark = pytest.mark.browser


def phone_shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


@pytest.fixture
def billed(db):
    from isocnet.operations.billing_run import billing_run

    customer = make_customer(
        name="Priya Castillo-Zieliński", email="priya@example.com", company="Riverside Dental"
    )
    today = clock.today()
    tax = make_tax("8.25")
    subscribe(
        customer,
        make_plan(name="Fiber 1 Gbps", price="89.95"),
        today,
        description="4311 Washington Blvd",
    )
    subscribe(
        customer,
        make_plan(name="Web Hosting Business", price="239.40", cycle="annual", tax_rates=[tax]),
        today,
        description="riverside-dental.example",
    )
    subscribe(
        customer,
        make_plan(name="Business Email", price="15.00", cycle="quarterly", tax_rates=[tax]),
        today,
        quantity=4,
    )
    billing_run(date=today, actor=RUNNER)
    return customer, Invoice.objects.get(customer=customer)


def test_the_invoice_email_reads_on_a_phone(browser, billed):  # noqa: F811
    _customer, invoice = billed
    message = OutboxMessage.objects.get(kind=MessageKind.INVOICE, invoice=invoice)
    render_into(message)
    page = browser.new_page(viewport=PHONE)
    page.set_content(message.body_html)
    no_sideways_scroll(page)
    # the same lines in the same order as the text part, the greeting first
    first = page.locator("p").first.inner_text()
    assert first == "Dear Priya Castillo-Zieliński,", first
    text = page.inner_text("body")
    lines = [
        "an invoice has been generated",
        "Payment method: Check or mail-in payment",
        f"Invoice #{invoice.number} · Amount due:",
        "client portal",
    ]
    positions = [text.index(line) for line in lines]
    assert positions == sorted(positions)
    assert page.locator("meta[name=viewport]").count() == 1
    phone_shot(page, "invoice-email-390")
    page.close()


def test_the_invoice_page_stacks_its_lines_on_a_phone(browser, site, billed):  # noqa: F811
    customer, invoice = billed
    portal_login_for(customer, PASSWORD)
    with clock.frozen_at(clock.now()):
        payment_record(
            actor=ACTOR,
            invoice_number=invoice.number,
            amount="100.00",
            method="check",
            reference="Check 2041",
        )
    page = browser.new_page(viewport=PHONE)
    page.goto(site + "/portal/login/")
    page.get_by_label("Email").fill("priya@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/portal/dashboard/"))
    page.goto(site + f"/portal/invoices/{invoice.number}/")
    no_sideways_scroll(page)
    rows = page.locator("table.lines tbody tr")
    assert rows.count() == 3
    for i in range(3):
        row = rows.nth(i)
        desc, amount = row.locator("td.desc"), row.locator("td.amount")
        d, a = desc.bounding_box(), amount.bounding_box()
        # description on the left, amount on the right of the same block, inside the screen
        assert d["x"] < a["x"] and a["x"] + a["width"] <= PHONE["width"]
        assert row.locator("td.qty").is_hidden() and row.locator(".each").is_visible()
    expect(page.get_by_text("Service period").first).to_be_visible()
    expect(page.get_by_text("4 × $15.00")).to_be_visible()
    expect(page.get_by_role("heading", name="How to pay")).to_be_visible()
    expect(page.get_by_text("receipt #R-")).to_be_visible()
    phone_shot(page, "invoice-page-390")
    shot(page, "phone-invoice")  # and WCAG 2.1 AA
    page.goto(site + "/portal/invoices/2099-999999/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="Back to your account")).to_be_visible()
    no_sideways_scroll(page)
    phone_shot(page, "404-signed-in-390")
    page.close()


def test_branded_error_pages_with_a_way_back(browser, site, client, monkeypatch):  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    response = page.goto(site + "/no/such/page/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the client portal")).to_be_visible()
    phone_shot(page, "404-390")
    page.close()
    # our own failure: the branded 500 page, rendered without the database
    from isocnet.portal import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(selectors, "invoices", broken)
    customer = make_customer()
    client.force_login(portal_login_for(customer))
    client.raise_request_exception = False
    failed = client.get("/portal/invoices/")
    assert failed.status_code == 500
    body = failed.content.decode()
    assert "Something went wrong on our side" in body and 'href="/portal/"' in body
    assert "the database is on fire" not in body
    # a form posted without its security token: a branded 403 with a way back
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(portal_login_for(make_customer()))
    forbidden = strict.post("/portal/contact/", {"name": "x"})
    assert forbidden.status_code == 403
    assert "Please try again" in forbidden.content.decode()
    assert "Go to the client portal" in forbidden.content.decode()
