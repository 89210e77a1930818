"""The customer's path through the portal in a real browser: Playwright
driving Debian's Chromium (/usr/bin/chromium, never a downloaded browser)
against a live server, with email over a real SMTP server.

Screenshots of every page go to test-artifacts/portal/ (kept by CI)."""

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from isocnet.core import clock
from isocnet.customers.models import Customer
from isocnet.invoicing.models import Invoice
from isocnet.notifications.delivery import deliver_pending
from isocnet.operations.billing_run import billing_run
from isocnet.payments.models import Payment
from tests.factories import make_customer, make_invoice, make_plan
from tests.invoicing.billing_helpers import RUNNER, subscribe
from tests.notifications.helpers import pdf_attachments, plain_and_html
from tests.portal.conftest import portal_login_for, with_card

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"
PASSWORD = "Tr0ub4dor-and-3-more"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the test makes between page steps are ordinary synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SHOTS.mkdir(parents=True, exist_ok=True)
    # expect() assertions wait as long as the pages do (their default is 5 s).
    expect.set_options(timeout=120_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield _Patient(browser)
        browser.close()


class _Patient:
    """The browser, whose pages wait up to two minutes for what they expect
    (Playwright's 30 s default is short on a busy 2-core CI machine)."""

    def __init__(self, browser):
        self._browser = browser

    def new_page(self, **kwargs):
        page = self._browser.new_page(**kwargs)
        page.set_default_timeout(120_000)
        page.set_default_navigation_timeout(120_000)
        return page

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture
def site(live_server, smtp, settings):
    settings.PORTAL_URL = live_server.url + "/portal"
    return live_server.url


WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def shot(page, name: str) -> None:
    """Save a screenshot, and check the page against WCAG 2.1 A and AA
    with axe-core (Deque's engine, bundled in axe-playwright-python)."""
    from axe_playwright_python.sync_playwright import Axe

    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    violations = Axe().run(page, options=WCAG_AA).response["violations"]
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    ]
    assert not found, f"{name}: " + "; ".join(found)


def mail(smtp, subject: str, to: str):
    deliver_pending()
    found = [m for m in smtp.messages if m["Subject"] == subject and to in m["To"]]
    assert found, f"no {subject!r} to {to} in {[m['Subject'] for m in smtp.messages]}"
    return found[-1]


def link(text: str, prefix: str) -> str:
    match = re.search(re.escape(prefix) + r"\S+", text)
    assert match, f"no link {prefix} in {text}"
    return match.group(0)


@pytest.mark.welcome_emails
def test_invited_customer_signs_in_pays_an_invoice_by_card_and_updates_the_address(
    browser, site, smtp
):
    customer = make_customer(name="Rosa Díaz", email="rosa@example.com", company="Díaz Bakery")
    today = clock.today()
    subscribe(customer, make_plan(name="Fiber 300 Mbps", price="79.95"), today)
    subscribe(customer, make_plan(name="Static IP", price="10.00"), today)
    # Today's run on the real clock (run() would travel to noon, and an email
    # queued at noon is not due yet when the suite runs in the morning).
    billing_run(date=today, actor=RUNNER)  # issues the invoice and queues its email
    invoice = Invoice.objects.get(customer=customer)
    invoice_mail = mail(smtp, "Customer Invoice", "rosa@example.com")
    invoice_link = link(plain_and_html(invoice_mail)[0], site + "/portal/invoices/")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    # 1. the invitation email's link -> set a password
    welcome = mail(smtp, "Welcome to the ISOCNET client portal", "rosa@example.com")
    page.goto(link(plain_and_html(welcome)[0], site + "/portal/password/welcome/"))
    expect(page.get_by_role("heading", name="Welcome! Set your password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password confirmation").fill(PASSWORD)
    shot(page, "01-set-password")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_text("Your password is set. Please sign in.")).to_be_visible()

    # 2. the invoice email's link -> sign in -> the invoice
    page.goto(invoice_link)
    expect(page.get_by_role("heading", name="Sign in to your account")).to_be_visible()
    page.get_by_label("Email").fill("Rosa@Example.com")
    page.get_by_label("Password").fill(PASSWORD)
    shot(page, "02-login")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(invoice_link)
    expect(
        page.get_by_role("heading", name=re.compile(f"Invoice #{invoice.number}"))
    ).to_be_visible()
    expect(page.get_by_text("$89.95").first).to_be_visible()
    shot(page, "03-invoice")

    # 3. pay it with a new sandbox card, saved, auto debit on
    page.get_by_role("link", name="Pay now").click()
    assert page.get_by_label("Amount to pay").input_value() == "89.95"
    page.get_by_label("A new card").check()
    page.get_by_label("Save the new card for next time").check()
    page.get_by_label("Pay my invoices automatically").check()
    shot(page, "04-pay")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r"/sandbox/card-form"))
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill("2030")
    page.get_by_label("Security code").fill("123")
    shot(page, "05-hosted-card-form")
    page.get_by_role("button", name="Continue").click()

    # 4. the receipt page
    page.wait_for_url(re.compile(r"/portal/payments/\d+/"))
    expect(page.get_by_role("heading", name="Payment received: $89.95")).to_be_visible()
    expect(page.get_by_text("Thank you: your payment was received")).to_be_visible()
    expect(page.get_by_text("(paid in full)")).to_be_visible()
    shot(page, "06-receipt")
    payment = Payment.objects.get(customer=customer)
    assert payment.reference == "Visa ending in 4242"
    customer.refresh_from_db()
    assert customer.payment_method == "card"

    # 5. the receipt email arrives over SMTP, with its PDF
    receipt = mail(smtp, "Invoice Payment Confirmation", "rosa@example.com")
    text, _ = plain_and_html(receipt)
    assert "Total paid: $89.95" in text and "is paid in full" in text
    pdfs = pdf_attachments(receipt)
    assert any("PAID IN FULL" in body for body in pdfs.values())

    # 6. the dashboard, and on a phone
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_text("Nothing to pay. Thank you!")).to_be_visible()
    shot(page, "07-dashboard")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_cookies(page.context.cookies())
    mobile = phone.new_page()
    mobile.goto(site + "/portal/invoices/")
    shot(mobile, "08-invoices-phone")
    phone.close()

    # 7. update the address
    page.get_by_role("link", name="Contact information").click()
    page.get_by_label("Street address").fill("742 Evergreen Terrace")
    page.get_by_label("ZIP / postal code").fill("62704")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Your contact information is saved.")).to_be_visible()
    shot(page, "09-contact")
    customer.refresh_from_db()
    assert (customer.address_line1, customer.postal_code) == ("742 Evergreen Terrace", "62704")

    # 8. sign out
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(site + "/portal/dashboard/")
    expect(page.get_by_role("heading", name="Sign in to your account")).to_be_visible()
    shot(page, "10-signed-out")
    page.close()


def test_a_check_customer_pays_part_of_an_invoice_by_card(browser, site, smtp):
    customer = make_customer(name="Omar Check", email="omar@example.com")
    portal_login_for(customer, PASSWORD)
    with_card(customer)
    invoice = make_invoice(customer, lines=(("Web hosting", "120.00", None),))
    page = browser.new_page()
    page.goto(site + "/portal/login/")
    # keyboard only: the email field has the focus, Tab to the password, Enter
    assert page.evaluate("document.activeElement.name") == "username"
    page.keyboard.type("omar@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(site + "/portal/dashboard/")
    page.keyboard.press("Tab")  # the first stop on every page is the skip link
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.get_by_role("link", name=f"Pay now invoice {invoice.number}").click()
    page.get_by_label("Amount to pay").fill("45.50")
    page.get_by_label("Visa ending in 4242").check()
    page.get_by_role("button", name="Pay", exact=True).click()
    # a saved card is charged only once the customer confirms amount and card
    expect(page.get_by_role("heading", name="Confirm your payment")).to_be_visible()
    expect(page.get_by_text("Visa ending in 4242")).to_be_visible()
    shot(page, "11a-confirm-payment")
    page.get_by_role("button", name="Pay $45.50 now").click()
    page.wait_for_url(re.compile(r"/portal/payments/\d+/"))
    expect(page.get_by_role("heading", name="Payment received: $45.50")).to_be_visible()
    expect(page.get_by_text("$74.50")).to_be_visible()
    shot(page, "11-partial-payment")
    receipt = mail(smtp, "Invoice Payment Confirmation", "omar@example.com")
    text, _ = plain_and_html(receipt)
    assert "$45.50" in text and "$74.50" in text
    # paying by card once does not switch a check payer to auto debit
    assert Customer.objects.get(pk=customer.pk).payment_method == "check"
    page.goto(site + f"/portal/invoices/{invoice.number}/")
    expect(page.get_by_text("Partially paid")).to_be_visible()
    page.close()
