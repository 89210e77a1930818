"""Faults between billing and the network: the RADIUS database down
during a suspension (nothing lost, applied once on recovery); a NAS that
refuses or does not answer (retried, then shown in the work queue); and
the drift check finding and repairing each of its four kinds of drift."""

import datetime as dt
import sqlite3

import pytest
from django.db import transaction

from isocnet.backoffice.workqueue import tasks
from isocnet.core import clock
from isocnet.core.jobs import job_retry_now, jobs_run_due
from isocnet.core.models import AuditEvent, Job, JobStatus
from isocnet.network.drift import network_verify
from isocnet.network.models import NasRequest
from isocnet.network.services import identity_set, speed_profile_set
from isocnet.subscriptions.services import (
    subscription_change,
    subscriptions_suspend_for_nonpayment,
)
from tests.factories import ACTOR, make_customer, make_plan
from tests.invoicing.billing_helpers import subscribe

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 20, 12, 0, tzinfo=dt.UTC)


def _service(username, *, plan=None):
    customer = make_customer()
    plan = plan or make_plan(name=f"Fiber {username}", price="49.95")
    speed_profile_set(actor=ACTOR, plan_id=plan.pk, download_kbps=100_000, upload_kbps=20_000)
    sub = subscribe(customer, plan, clock.today())
    identity_set(actor=ACTOR, subscription_id=sub.pk, username=username, password="pw-" + username)
    jobs_run_due()
    return customer, sub


def _suspend(customer):
    with transaction.atomic():
        subscriptions_suspend_for_nonpayment(actor=ACTOR, customer_id=customer.pk)


def _later(minutes):
    return clock.frozen_at(NOW + dt.timedelta(minutes=minutes))


def test_radius_database_down_during_suspension_nothing_lost_applied_once(network, settings):
    radius, nas = network
    with clock.frozen_at(NOW):
        customer, _ = _service("dana@fiber.example")
        radius.session_start("dana@fiber.example", "sess-77")
        settings.RADIUS_DATABASE_URL = "sqlite:////nonexistent/radius.sqlite3"  # down
        _suspend(customer)
        jobs_run_due()
    job = Job.objects.get(kind="network.sync", status=JobStatus.PENDING)
    assert "unreachable" in job.last_error or "does not exist" in job.last_error
    assert job.attempts == 1
    settings.RADIUS_DATABASE_URL = radius.url  # still down for the network: nothing changed yet
    assert radius.login("dana@fiber.example", "pw-dana@fiber.example")[1] == {
        "Mikrotik-Rate-Limit": "20000k/100000k"
    }
    assert nas.received == []
    with _later(0):
        assert jobs_run_due() == 0  # not due before its backoff
    with _later(10):  # the database is back
        jobs_run_due()
        jobs_run_due()  # the NAS request it queued
        jobs_run_due()  # nothing more
    assert radius.login("dana@fiber.example", "pw-dana@fiber.example") == (
        "Access-Accept",
        {"Mikrotik-Address-List": "walled-garden"},
    )
    with sqlite3.connect(radius.db_path) as conn:
        assert conn.execute(
            "SELECT groupname FROM radusergroup WHERE username = ?", ("dana@fiber.example",)
        ).fetchall() == [("suspended",)]
    assert len(nas.of("disconnect")) == 1  # applied once
    assert Job.objects.filter(status=JobStatus.DONE, kind="network.sync").count() >= 1


@pytest.mark.parametrize("answer", ["nak", "silent"])
def test_a_nas_that_refuses_or_is_silent_is_retried_then_shown(answer, network, settings):
    radius, nas = network
    settings.JOB_MAX_ATTEMPTS = 3
    settings.RADIUS_COA_TIMEOUT = 1
    with clock.frozen_at(NOW):
        customer, _ = _service("erin@fiber.example")
        radius.session_start("erin@fiber.example", "sess-88")
        nas.answer = answer
        _suspend(customer)
        jobs_run_due()  # the RADIUS change, then the first try at the NAS
    request = NasRequest.objects.get()
    assert request.status == ("nak" if answer == "nak" else "no_answer")
    for minutes in (5, 30, 90):
        with _later(minutes):
            jobs_run_due()
    request.refresh_from_db()
    assert request.attempts == 3
    assert len(nas.of("disconnect")) == 3  # each try reached the NAS
    job = Job.objects.get(kind="network.nas")
    assert job.status == JobStatus.FAILED
    with _later(120):
        shown = {t.label: t.count for t in tasks()}
    assert shown["NAS requests not acknowledged"] == 1
    assert shown["Network changes not applied (RADIUS, NAS)"] == 1
    # the NAS is fixed; staff try again from the back office
    nas.answer = "ack"
    with _later(121):
        assert job_retry_now(job.pk)
        jobs_run_due()
    request.refresh_from_db()
    assert request.status == "ack"


def test_the_drift_check_finds_and_repairs_each_kind(network):
    radius, nas = network
    with clock.frozen_at(NOW):
        _service("paid@fiber.example")
        unpaid, _ = _service("unpaid@fiber.example")
        _, gone_sub = _service("gone@fiber.example")
        _suspend(unpaid)
        jobs_run_due()
        subscription_change(
            actor=ACTOR,
            subscription_id=gone_sub.pk,
            changes={"status": "cancelled", "immediate": True},
        )
        jobs_run_due()
        # planted: billing and RADIUS disagree four ways
        with sqlite3.connect(radius.db_path) as conn:
            conn.execute(
                "UPDATE radusergroup SET groupname = 'suspended' WHERE username = 'paid@fiber.example'"
            )
            conn.execute(
                "UPDATE radusergroup SET groupname = ? WHERE username = 'unpaid@fiber.example'",
                (f"plan-{unpaid.subscriptions.get().plan.code}",),
            )
            conn.execute(
                "INSERT INTO radcheck (username, attribute, op, value) "
                "VALUES ('ghost@fiber.example', 'Cleartext-Password', ':=', 'x')"
            )
        radius.session_start("gone@fiber.example", "sess-gone")
        found = network_verify(actor=ACTOR)
    assert sorted((d.kind, d.username) for d in found) == [
        ("cancelled_session", "gone@fiber.example"),
        ("paid_but_blocked", "paid@fiber.example"),
        ("unknown_username", "ghost@fiber.example"),
        ("unpaid_but_open", "unpaid@fiber.example"),
    ]
    with clock.frozen_at(NOW):
        assert {t.label: t.count for t in tasks()}["Network drift at the last check"] == 4
        network_verify(actor=ACTOR, repair=True)
        jobs_run_due()
        assert {t.label: t.count for t in tasks()}["Network drift at the last check"] == 0
    assert AuditEvent.objects.filter(action="network.drift_repair").count() == 4
    assert radius.login("paid@fiber.example", "pw-paid@fiber.example")[1] == {
        "Mikrotik-Rate-Limit": "20000k/100000k"
    }
    assert radius.login("unpaid@fiber.example", "pw-unpaid@fiber.example")[1] == {
        "Mikrotik-Address-List": "walled-garden"
    }
    assert radius.login("ghost@fiber.example", "x")[0] == "Access-Reject"
    assert [r["attributes"]["Acct-Session-Id"] for r in nas.of("disconnect")] == [["sess-gone"]]
    with clock.frozen_at(NOW):
        left = network_verify(actor=ACTOR)
    # only the cut session is left until the NAS reports it stopped
    assert [(d.kind, d.username) for d in left] == [("cancelled_session", "gone@fiber.example")]
