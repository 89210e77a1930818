"""A customer promises to pay in the portal, and a clerk works the day's
queue in the back office: real Chromium against a live server.
Screenshots go to test-artifacts/collections/."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from isocnet.collections.models import Promise
from isocnet.core import clock
from tests.factories import make_customer, make_plan
from tests.invoicing.billing_helpers import run, subscribe
from tests.portal.conftest import portal_login_for
from tests.portal.test_browser import PASSWORD, SHOTS, browser, shot, site  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def _overdue_customer():
    """A check payer whose invoice fell due 9 days ago, never paid."""
    today = clock.today()
    customer = make_customer(name="Omar Haddad", email="omar@example.com", payment_method="check")
    due = today - dt.timedelta(days=9)
    subscribe(customer, make_plan(name="Fiber 500 Mbps", price="94.95"), due)
    day = due - dt.timedelta(days=14)
    while day < today:
        run(day)
        day += dt.timedelta(days=1)
    return customer


# Portal pages are ours and checked against WCAG 2.1 AA (shot); the back office
# is Django's admin, whose own styles axe flags (breadcrumb links), so its
# pages are screenshots only.


def test_a_customer_promises_in_the_portal_and_a_clerk_sees_it_in_the_queue(browser, site):  # noqa: F811
    shots = SHOTS.parent / "collections"
    shots.mkdir(parents=True, exist_ok=True)
    customer = _overdue_customer()
    user = portal_login_for(customer, PASSWORD)
    today = clock.today()

    page = browser.new_page(viewport=PHONE)
    page.goto(site + "/portal/login/")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in")).click()
    step = page.locator("#next-step")
    expect(step).to_be_visible()
    assert re.search(
        r"Your service will be suspended on .+ unless \$94\.95 is paid\.", step.inner_text()
    )
    shot(page, "../collections/01-dashboard-next-step-phone")
    page.get_by_role("link", name="Can't pay today? Tell us when you will.").click()
    expect(page.get_by_role("heading", name="Tell us when you will pay")).to_be_visible()
    promised = today + dt.timedelta(days=5)
    page.get_by_label("Date you will pay by").fill(promised.isoformat())
    shot(page, "../collections/02-promise-form-phone")
    page.get_by_role("button", name="Promise to pay").click()
    expect(page.get_by_text("Thank you: we have noted your promise to pay $94.95")).to_be_visible()
    expect(page.locator("#promise-note")).to_be_visible()
    shot(page, "../collections/03-promise-noted-phone")
    promise = Promise.objects.get(customer=customer)
    assert (promise.status, promise.source, promise.promised_on) == ("active", "portal", promised)

    clerk = get_user_model().objects.create_user(
        "clerk", "clerk@isocnet.example", PASSWORD, is_staff=True
    )
    clerk.groups.add(Group.objects.get(name="Billing clerk"))
    desk = browser.new_page(viewport={"width": 1280, "height": 900})
    desk.goto(site + "/admin/login/")
    desk.fill("#id_username", "clerk")
    desk.fill("#id_password", PASSWORD)
    desk.click("input[type=submit]")
    queue = desk.locator("#work-queue")
    expect(queue).to_be_visible()
    expect(desk.locator("#overdue-accounts")).to_contain_text(customer.name)
    expect(desk.locator("#overdue-accounts")).to_contain_text(f"by {promised.isoformat()}")
    desk.screenshot(path=str(shots / "04-clerk-work-queue.png"), full_page=True)
    desk.get_by_role("link", name="Overdue accounts").click()
    expect(desk.locator("#result_list")).to_contain_text(customer.name)
    expect(desk.locator("#result_list")).to_contain_text("$94.95")
    desk.screenshot(path=str(shots / "05-overdue-accounts.png"), full_page=True)
    desk.get_by_role("link", name=customer.account_number).click()
    timeline = desk.locator("#customer-timeline")
    expect(timeline).to_be_visible()
    expect(timeline).to_contain_text("Promised payment of $94.95 due")
    desk.screenshot(path=str(shots / "06-customer-timeline.png"), full_page=True)
