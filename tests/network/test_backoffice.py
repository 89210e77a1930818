"""The network and webhooks in the back office, as a billing manager uses
them (real Chromium): register a webhook endpoint and read its secret once,
set a service's login, read the drift check and repair it. Screenshots go
to test-artifacts/network/."""

import re
import sqlite3

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from isocnet.core import clock
from isocnet.core.jobs import jobs_run_due
from isocnet.network.models import ServiceIdentity
from isocnet.network.services import speed_profile_set
from isocnet.webhooks.models import WebhookEndpoint
from tests.factories import ACTOR, make_customer, make_plan
from tests.invoicing.billing_helpers import subscribe
from tests.portal.test_browser import PASSWORD, SHOTS, browser, site  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_registers_a_webhook_sets_a_login_and_repairs_drift(
    browser,  # noqa: F811
    site,  # noqa: F811
    network,
    settings,
    names_resolve,
):
    radius, _nas = network
    settings.WEBHOOK_ALLOW_HTTP = True
    names_resolve("crm.example")
    shots = SHOTS.parent / "network"
    shots.mkdir(parents=True, exist_ok=True)
    customer = make_customer(name="Ines Network")
    plan = make_plan(name="Fiber 1000", price="99.95")
    speed_profile_set(actor=ACTOR, plan_id=plan.pk, download_kbps=1_000_000, upload_kbps=200_000)
    sub = subscribe(customer, plan, clock.today())
    manager = get_user_model().objects.create_user(
        "mona", "m@isocnet.example", PASSWORD, is_staff=True
    )
    manager.groups.add(Group.objects.get(name="Billing manager"))

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site + "/admin/login/")
    page.fill("#id_username", "mona")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#work-queue")).to_be_visible()

    page.goto(site + "/admin/webhooks/webhookendpoint/add/")
    page.fill("#id_url", "https://crm.example/hooks/isocnet")
    page.get_by_label("service.suspended").check()
    page.get_by_label("payment.succeeded").check()
    page.click("input[name=_save]")
    secret_line = page.locator(".messagelist").inner_text()
    secret = re.search(r"whsec_\S+", secret_line).group(0)
    assert "it is not shown again" in secret_line
    page.screenshot(path=str(shots / "01-webhook-secret-once.png"), full_page=True)
    page.reload()
    assert secret not in page.content()  # shown once only
    assert WebhookEndpoint.objects.get().events == ["payment.succeeded", "service.suspended"]

    page.goto(site + "/admin/network/serviceidentity/add/")
    page.fill("#id_subscription", str(sub.pk))
    page.fill("#id_username", "ines@fiber.example")
    page.fill("#id_password", "pppoe-pw-77")
    page.fill("#id_static_ip", "100.64.9.9")
    page.click("input[name=_save]")
    expect(page.locator("#result_list")).to_contain_text("ines@fiber.example")
    page.screenshot(path=str(shots / "02-service-identities.png"), full_page=True)
    assert ServiceIdentity.objects.get().username == "ines@fiber.example"
    jobs_run_due()
    assert radius.login("ines@fiber.example", "pppoe-pw-77")[0] == "Access-Accept"

    with sqlite3.connect(radius.db_path) as conn:  # someone blocks her on the RADIUS side
        conn.execute("UPDATE radusergroup SET groupname = 'suspended'")
    page.goto(site + "/admin/network/serviceidentity/drift/")
    expect(page.locator("#drift")).to_contain_text("paid_but_blocked")
    page.screenshot(path=str(shots / "03-drift.png"), full_page=True)
    page.get_by_role("button", name=re.compile("Repair all")).click()
    expect(page.locator("#drift")).to_contain_text("No drift")
    assert radius.login("ines@fiber.example", "pppoe-pw-77")[1] == {
        "Mikrotik-Rate-Limit": "200000k/1000000k",
        "Framed-IP-Address": "100.64.9.9",
    }
    page.goto(site + "/admin/")
    page.screenshot(path=str(shots / "04-home.png"), full_page=True)
