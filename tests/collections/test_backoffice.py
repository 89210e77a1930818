"""The collections policy page, the customer page's collections actions,
the work queue and the customer list's overdue filter."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from isocnet.collections.models import LateFee, Promise
from isocnet.collections.policy import current
from isocnet.core import clock
from isocnet.core.models import AuditEvent
from tests.collections.helpers import D, check_payer, days, policy
from tests.factories import make_tax

pytestmark = pytest.mark.django_db
PASSWORD = "Clerk-and-manager-99"


def signed_in(name: str, group: str) -> Client:
    user = get_user_model().objects.create_user(
        name, f"{name}@isocnet.example", PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    assert (
        client.post(
            "/admin/login/?next=/admin/", {"username": name, "password": PASSWORD}
        ).status_code
        == 302
    )
    return client


def form_of(policy_now) -> dict:
    return {
        "reminder_days_before_due": policy_now.reminder_days_before_due,
        "notice_days": "1, 7, 14",
        "suspend_after_days": policy_now.suspend_after_days,
        "suspension_warning_days": policy_now.suspension_warning_days,
        "card_retry_days": "3, 5, 7",
        "late_fee_flat": "0",
        "late_fee_percent": "0",
        "late_fee_min": "0",
        "late_fee_max": "0",
        "late_fee_cap_percent": "0",
        "late_fee_grace_days": 10,
        "late_fee_repeat": "once",
        "late_fee_on": "next_invoice",
        "late_fee_tax_rate": "",
        "promise_max_days": 14,
        "portal_promises_max": 2,
        "portal_promises_days": 90,
    }


def test_a_billing_manager_changes_the_policy_a_clerk_may_not():
    manager = signed_in("boss", "Billing manager")
    page = manager.get("/admin/collections-policy/")
    assert page.status_code == 200 and "Suspension for non-payment" in page.content.decode()
    data = {**form_of(current()), "late_fee_flat": "7.50", "notice_days": "2, 9, 16"}
    saved = manager.post("/admin/collections-policy/", data)
    assert saved.status_code == 302
    assert current().late_fee_flat == 7.5 and current().notice_days == (2, 9, 16)
    event = AuditEvent.objects.get(action="collections_policy.update")
    assert event.actor == "staff:boss" and event.after["late_fee_flat"] == "7.50"
    # a tax rate on the fee is saved too (the page once dropped it as "unchanged")
    tax = make_tax("7")
    assert (
        manager.post(
            "/admin/collections-policy/", {**data, "late_fee_tax_rate": tax.pk}
        ).status_code
        == 302
    )
    assert current().late_fee_tax_rate_id == tax.pk
    audits = AuditEvent.objects.filter(action="collections_policy.update").count()
    manager.post("/admin/collections-policy/", {**data, "late_fee_tax_rate": tax.pk})  # nothing new
    assert AuditEvent.objects.filter(action="collections_policy.update").count() == audits
    bad = manager.post("/admin/collections-policy/", {**data, "notice_days": "9, 2, 16"})
    assert bad.status_code == 200 and "three increasing numbers of days" in bad.content.decode()
    clerk = signed_in("kim", "Billing clerk")
    refused = clerk.post("/admin/collections-policy/", {**data, "late_fee_flat": "99.00"})
    assert "may not change the collections policy" in refused.content.decode()
    assert current().late_fee_flat == 7.5


def test_a_clerk_records_a_promise_the_queue_and_list_show_it_a_manager_waives_a_fee():
    policy(late_fee_flat="5.00", late_fee_grace_days=10)
    customer, _december = check_payer()
    days(D(2026, 11, 18), D(2026, 12, 11))
    clerk = signed_in("kim", "Billing clerk")
    with clock.frozen_at(D(2026, 12, 12)):
        home = clerk.get("/admin/").content.decode()
        assert "Today&#x27;s work" in home or "Today's work" in home
        assert (
            customer.account_number in home and "First overdue notice" in home
        ) or "Second" in home
        overdue = clerk.get("/admin/customers/customer/?overdue=1-30").content.decode()
        assert customer.account_number in overdue and "$54.95" not in overdue
        assert (
            customer.account_number
            not in clerk.get("/admin/customers/customer/?overdue=31-60").content.decode()
        )
        done = clerk.post(
            f"/admin/customers/customer/{customer.pk}/do/promise/",
            {"amount": "49.95", "promised_on": "2026-12-20", "note": "paycheck Friday"},
        )
        assert done.status_code == 302, done.content.decode()[:2000]
        assert Promise.objects.get().created_by == "staff:kim"
        page = clerk.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
        assert "Promise to pay $49.95 by December 20, 2026 (staff): paycheck Friday" in page
        assert "Promised payment of $49.95 due" in page  # the timeline
        refused = clerk.post(
            f"/admin/customers/customer/{customer.pk}/do/waive-fee/",
            {"late_fee": LateFee.objects.get().pk, "reason": "goodwill"},
        )
        assert "may not waive late fees" in refused.content.decode()
        manager = signed_in("boss", "Billing manager")
        waived = manager.post(
            f"/admin/customers/customer/{customer.pk}/do/waive-fee/",
            {"late_fee": LateFee.objects.get().pk, "reason": "goodwill"},
        )
        assert waived.status_code == 302
    assert LateFee.objects.get().waived_by == "staff:boss"
