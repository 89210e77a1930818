"""Two-factor sign-in for staff (issue #16): required for billing managers
and superusers, optional for clerks and support; an authenticator app set
up from a QR code, recovery codes, throttled verification, and every
enrolment, reset and failure audited. The browser test walks it in
Debian's Chromium; screenshots go to test-artifacts/staff-2fa/."""

import re
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from isocnet.backoffice import two_factor
from isocnet.core.actors import Actor
from isocnet.core.errors import Forbidden, InvalidInput
from isocnet.core.models import AuditEvent
from tests.portal.test_browser import browser, site  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.staff_2fa]
PASSWORD = "correct-horse-battery-9"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "staff-2fa"


def code_for(device, *, fresh=True) -> str:
    """A code the device accepts now: for the current 30 s step, or the
    next one (within django-otp's tolerance of one step) when the current
    step was used already. Polls — never a fixed sleep — when it must."""
    deadline = time.monotonic() + 120
    while True:
        device.refresh_from_db()
        now = time.time()
        step = int((now - device.t0) // device.step)
        wanted = max(step, device.last_t + 1) if fresh else step
        if wanted <= step + device.tolerance:
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            totp.time = device.t0 + wanted * device.step
            return f"{totp.token():06d}"
        assert time.monotonic() < deadline, "no fresh TOTP step within two minutes"
        time.sleep(0.5)


def wrong_code(device) -> str:
    right = set()
    for offset in (-2, -1, 0, 1, 2):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time() + offset * device.step
        right.add(f"{totp.token():06d}")
    return next(c for c in ("000000", "123456", "999999", "424242") if c not in right)


def staff(username, *, superuser=False, group=None):
    user = get_user_model().objects.create_user(
        username, f"{username}@isocnet.example", PASSWORD, is_staff=True, is_superuser=superuser
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def signed_in(user) -> Client:
    client = Client()
    assert (
        client.post(
            "/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD}
        ).status_code
        == 302
    )
    return client


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    device = two_factor.enrolment_start(user=user)
    codes = two_factor.enrolment_confirm(actor=Actor.staff(user), user=user, code=code_for(device))
    device.refresh_from_db()
    return device, codes


def actions(user):
    return list(
        AuditEvent.objects.filter(object_type="User", object_id=str(user.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_managers_and_superusers_must_enrol_clerks_and_support_may():
    boss = staff("boss", superuser=True)
    manager = staff("manager", group="Billing manager")
    clerk = staff("clerk", group="Billing clerk")
    agent = staff("agent", group="Support agent")
    for user in (boss, manager):
        answer = signed_in(user).get("/admin/customers/customer/")
        assert answer.status_code == 302
        assert answer["Location"] == "/admin/2fa/enrol/?next=/admin/customers/customer/"
        assert signed_in(user).get("/admin/reports/")["Location"].startswith("/admin/2fa/enrol/")
    for user in (clerk, agent):
        assert signed_in(user).get("/admin/").status_code == 200
    # a clerk who chose to enrol gives a code like everyone else
    enrol(clerk)
    assert signed_in(clerk).get("/admin/")["Location"] == "/admin/2fa/verify/?next=/admin/"


def test_the_enrolment_page_shows_a_qr_code_and_the_key(settings):
    boss = staff("boss", superuser=True)
    page = signed_in(boss).get("/admin/2fa/enrol/").content.decode()
    assert "<svg" in page and "Scan with your authenticator app" in page
    device = TOTPDevice.objects.get(user=boss, confirmed=False)
    secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', page)[1].replace(" ", "")
    import base64

    assert base64.b32decode(secret) == device.bin_key


def test_enrolment_needs_a_right_code_and_gives_ten_recovery_codes():
    boss = staff("boss", superuser=True)
    device = two_factor.enrolment_start(user=boss)
    with pytest.raises(InvalidInput):
        two_factor.enrolment_confirm(actor=Actor.staff(boss), user=boss, code=wrong_code(device))
    assert not two_factor.enrolled(boss)
    device.refresh_from_db()
    device.throttle_reset()  # the failed try above waits a second otherwise
    codes = two_factor.enrolment_confirm(actor=Actor.staff(boss), user=boss, code=code_for(device))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert two_factor.enrolled(boss)
    assert actions(boss) == ["staff.2fa.failed", "staff.2fa.enrolled"]


def test_wrong_codes_are_throttled_counted_and_audited():
    boss = staff("boss", superuser=True)
    device, _ = enrol(boss)
    with pytest.raises(InvalidInput, match="not right"):
        two_factor.code_verify(actor=Actor.staff(boss), user=boss, code=wrong_code(device))
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # at once again, even with the right code: throttled (1, 2, 4 … seconds)
    with pytest.raises(InvalidInput, match="too many wrong codes: wait"):
        two_factor.code_verify(actor=Actor.staff(boss), user=boss, code=code_for(device))
    assert actions(boss).count("staff.2fa.failed") == 2
    device.refresh_from_db()
    device.throttle_reset()
    assert two_factor.code_verify(actor=Actor.staff(boss), user=boss, code=code_for(device))


def test_a_recovery_code_signs_in_once():
    boss = staff("boss", superuser=True)
    _, codes = enrol(boss)
    client = signed_in(boss)
    answer = client.post("/admin/2fa/verify/", {"code": codes[0].upper(), "next": "/admin/"})
    assert answer.status_code == 302 and answer["Location"] == "/admin/", answer.content
    assert client.get("/admin/").status_code == 200
    assert "staff.2fa.recovery_used" in actions(boss)
    again = signed_in(boss).post("/admin/2fa/verify/", {"code": codes[0], "next": "/admin/"})
    assert again.status_code == 200 and "not right" in again.content.decode()


def test_a_manager_resets_anothers_two_factor_never_their_own(capsys):
    boss = staff("boss", superuser=True)
    other = staff("other", group="Billing manager")
    clerk = staff("clerk", group="Billing clerk")
    enrol(boss)
    enrol(other)
    with pytest.raises(Forbidden):
        two_factor.two_factor_reset(actor=Actor.staff(boss), user=boss, reason="lost phone")
    with pytest.raises(Forbidden):
        two_factor.two_factor_reset(actor=Actor.staff(clerk), user=other, reason="lost phone")
    two_factor.two_factor_reset(actor=Actor.staff(boss), user=other, reason="lost phone")
    assert not two_factor.enrolled(other)
    event = AuditEvent.objects.get(action="staff.2fa.reset")
    assert event.actor == "staff:boss" and event.after["reason"] == "lost phone"
    # the operator's way, when the only manager lost the phone
    from django.core.management import call_command

    call_command("staff_2fa_reset", "boss", "--reason", "only manager lost phone")
    assert not two_factor.enrolled(boss)
    assert AuditEvent.objects.filter(action="staff.2fa.reset", actor="cli").count() == 1


@pytest.mark.browser
def test_staff_enrol_sign_out_and_sign_in_with_a_code_in_the_browser(browser, site):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    boss = staff("boss", superuser=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site + "/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/2fa/enrol/"))
    expect(page.locator("#qr svg")).to_be_visible()
    page.screenshot(path=str(SHOTS / "01-enrol.png"), full_page=True)
    device = TOTPDevice.objects.get(user=boss, confirmed=False)
    page.fill("#code", code_for(device))
    page.click("input[type=submit]")
    assert page.locator("#recovery-codes li").count() == 10
    page.screenshot(path=str(SHOTS / "02-recovery-codes.png"), full_page=True)
    page.get_by_role("link", name="Continue to the back office").click()
    page.wait_for_url(site + "/admin/")
    expect(page.get_by_role("heading", name="Billing").first).to_be_visible()
    # sign out, and in again: now a code is asked for
    page.locator("#logout-form button, #logout-form input[type=submit]").first.click()
    page.goto(site + "/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/2fa/verify/"))
    device.refresh_from_db()
    page.fill("#code", wrong_code(device))
    page.click("input[type=submit]")
    assert page.get_by_role("alert").inner_text() == "that code is not right"
    page.screenshot(path=str(SHOTS / "03-wrong-code.png"), full_page=True)
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # counted
    assert AuditEvent.objects.filter(action="staff.2fa.failed").count() == 1  # and audited
    deadline = time.monotonic() + 120
    while True:  # the throttle asks for a wait after a wrong code: retry until let in
        page.fill("#code", code_for(device))
        page.click("input[type=submit]")
        page.wait_for_load_state()
        if page.url == site + "/admin/":
            break
        assert "wait" in page.get_by_role("alert").inner_text()
        assert time.monotonic() < deadline, "never let in"
        time.sleep(0.5)
    expect(page.get_by_role("heading", name="Billing").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "04-signed-in.png"), full_page=True)
    page.close()
