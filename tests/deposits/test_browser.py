"""A clerk keys a deposit of ten slips by keyboard alone in real Chromium:
scans each slip's line, is stopped by a misread one, fixes a check keyed
to a wrong account, and posts the batch. Screenshots go to
test-artifacts/deposits/."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from isocnet.deposits.models import BatchStatus, DepositBatch
from isocnet.invoicing.models import InvoiceStatus
from isocnet.outbox.models import MessageKind, OutboxMessage
from tests.deposits.helpers import check_payer, slip_of
from tests.portal.test_browser import PASSWORD, SHOTS, browser, site  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _focused(page) -> str:
    return page.evaluate(
        "document.activeElement && (document.activeElement.name || document.activeElement.textContent)"
    )


def test_a_clerk_keys_ten_slips_fixes_one_and_posts_by_keyboard(browser, site):  # noqa: F811
    shots = SHOTS.parent / "deposits"
    shots.mkdir(parents=True, exist_ok=True)
    payers = [check_payer(price=f"{45 + n}.95") for n in range(10)]
    total = sum(invoice.balance_minor for _, invoice in payers)
    clerk = get_user_model().objects.create_user(
        "clerk", "clerk@isocnet.example", PASSWORD, is_staff=True
    )
    clerk.groups.add(Group.objects.get(name="Billing clerk"))

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    kb = page.keyboard
    page.goto(site + "/admin/login/")
    page.locator("#id_username").focus()
    kb.type("clerk")
    kb.press("Tab")
    kb.type(PASSWORD)
    kb.press("Enter")
    expect(page.locator("#work-queue")).to_be_visible()
    page.goto(site + "/admin/deposits/depositbatch/add/")
    expect(page.locator("#id_reference")).to_be_focused()
    kb.type("DS-2026-1120")
    kb.press("Tab")  # the deposit date is today's
    kb.press("Tab")
    kb.type("10")
    kb.press("Tab")
    kb.type(f"{total // 100}.{total % 100:02d}")
    kb.press("Enter")
    scan = page.locator("#keying [name=scan_line]")
    expect(scan).to_be_focused()

    for n, (_, invoice) in enumerate(payers[:9], start=1):
        line = slip_of(invoice)
        if n == 4:  # the scanner misreads one digit of the amount
            misread = line[:-4] + str((int(line[-4]) + 3) % 10) + line[-3:]
            kb.type(misread)
            kb.press("Enter")
            expect(page.get_by_role("alert")).to_contain_text("check character does not match")
            expect(scan).to_be_focused()
            page.screenshot(path=str(shots / "01-misread-scan-line.png"), full_page=True)
            kb.press("Control+A")
        kb.type(line)
        kb.press("Tab")  # amount: the slip's amount due
        kb.press("Tab")
        kb.type(str(2000 + n))
        kb.press("Enter")
        expect(page.locator("#count")).to_have_text(str(n))
        expect(page.locator(f"#item-{n}")).to_contain_text(invoice.customer.name)
        expect(scan).to_be_focused()
    # the tenth check has no slip: keyed by account number, mistyped
    customer, invoice = payers[9]
    wrong = customer.account_number[:-1] + ("9" if customer.account_number[-1] != "9" else "8")
    kb.press("Tab")
    kb.type(invoice.balance.as_string())
    kb.press("Tab")
    kb.type("2010")
    kb.press("Tab")
    kb.type(wrong)
    kb.press("Enter")
    expect(page.locator("#count")).to_have_text("10")
    expect(page.locator("#to-fix")).to_contain_text("1 check to fix before posting")
    expect(page.locator("#totals")).to_contain_text("✓ agrees")
    page.screenshot(path=str(shots / "02-ten-keyed-one-to-fix.png"), full_page=True)

    kb.press("Shift+Tab")  # from the scan field back to the "Fix check 10" link
    assert "Fix check 10" in _focused(page)
    kb.press("Enter")
    account = page.locator("#keying [name=account_number]")
    expect(account).to_be_focused()
    page.screenshot(path=str(shots / "03-fixing-check-10.png"), full_page=True)
    kb.type(customer.account_number)  # the field's text is selected: typing replaces it
    kb.press("Enter")
    expect(page.locator("#to-fix")).to_have_count(0)
    expect(page.locator("#item-10")).to_contain_text(customer.name)

    for _ in range(20):
        if (_focused(page) or "").strip().startswith("Post the batch"):
            break
        kb.press("Tab")
    assert re.match(r"\s*Post the batch: 10 checks", _focused(page))
    kb.press("Enter")
    expect(page.locator("#status")).to_have_text("Posted")
    expect(page.locator(".messagelist")).to_contain_text("Deposit DS-2026-1120 posted: 10 payments")
    page.screenshot(path=str(shots / "04-posted.png"), full_page=True)

    batch = DepositBatch.objects.get(reference="DS-2026-1120")
    assert batch.status == BatchStatus.POSTED
    for _, invoice in payers:
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
    assert OutboxMessage.objects.filter(kind=MessageKind.RECEIPT).count() == 10

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.context.add_cookies(page.context.cookies())
    phone.goto(site + f"/admin/deposits/depositbatch/{batch.pk}/entry/")
    expect(phone.locator("#status")).to_have_text("Posted")
    phone.screenshot(path=str(shots / "05-posted-phone.png"), full_page=True)
