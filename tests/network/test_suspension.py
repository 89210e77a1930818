"""Suspension reaches the network (done-when of issue #20): a customer's
service authenticates with its plan's rate; the invoice goes unpaid
through the collections steps on the injectable clock; on the suspension
day FreeRADIUS answers with the walled garden and the NAS receives one
Disconnect-Request for the live session; the customer pays in the portal
and, with no billing run, FreeRADIUS answers with the plan again and the
NAS receives a CoA-Request."""

import datetime as dt
import re

import pytest

from isocnet.core import clock
from isocnet.core.jobs import JobRunner, jobs_run_due
from isocnet.network.models import NasRequest
from isocnet.network.services import identity_set, speed_profile_set
from isocnet.subscriptions.models import SubscriptionStatus
from tests.collections.helpers import D, check_payer
from tests.factories import ACTOR
from tests.invoicing.billing_helpers import run
from tests.portal.conftest import portal_login_for, with_card
from tests.subproc import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
USER, PASSWORD = "omar@fiber.example", "pppoe-Pw-1"


def _customer_on_the_network(radius):
    customer, invoice = check_payer(price="94.95")
    sub = customer.subscriptions.get()
    speed_profile_set(actor=ACTOR, plan_id=sub.plan_id, download_kbps=500_000, upload_kbps=100_000)
    with clock.frozen_at(D(2026, 11, 17)):
        identity_set(actor=ACTOR, subscription_id=sub.pk, username=USER, password=PASSWORD)
    day = D(2026, 11, 18)
    while day <= D(2026, 12, 1):  # the service starts on 12/01
        run(day)
        day += dt.timedelta(days=1)
    with clock.frozen_at(D(2026, 12, 1)):
        jobs_run_due()
    return customer, invoice, sub


def test_suspension_reaches_freeradius_and_the_nas_and_payment_undoes_it(network, client, settings):
    radius, nas = network
    customer, invoice, sub = _customer_on_the_network(radius)
    assert radius.login(USER, PASSWORD) == (
        "Access-Accept",
        {"Mikrotik-Rate-Limit": "100000k/500000k"},
    )
    radius.session_start(USER, "sess-0001")

    day = D(2026, 12, 2)
    sub.refresh_from_db()
    while sub.status != SubscriptionStatus.SUSPENDED:
        assert day < D(2027, 1, 15), "never suspended"
        run(day)
        with clock.frozen_at(day):
            jobs_run_due()
        sub.refresh_from_db()
        if sub.status != SubscriptionStatus.SUSPENDED:
            assert radius.login(USER, PASSWORD)[1] == {"Mikrotik-Rate-Limit": "100000k/500000k"}
            assert nas.received == []
        day += dt.timedelta(days=1)
    suspended_on = day - dt.timedelta(days=1)

    assert radius.login(USER, PASSWORD) == (
        "Access-Accept",
        {"Mikrotik-Address-List": "walled-garden"},
    )
    (disconnect,) = nas.of("disconnect")
    assert disconnect["attributes"]["User-Name"] == [USER]
    assert disconnect["attributes"]["Acct-Session-Id"] == ["sess-0001"]
    assert NasRequest.objects.get().status == "ack"

    # the customer pays in the portal; only the commit's wake-up can run the
    # jobs (the runner's own poll is an hour), no billing run is involved
    settings.JOB_POLL_SECONDS = 3600
    runner = JobRunner().start()
    try:
        with clock.frozen_at(suspended_on + dt.timedelta(days=1)):
            card = with_card(customer)
            client.force_login(portal_login_for(customer))
            page = client.get(f"/portal/pay/?invoice={invoice.number}").content.decode()
            attempt = re.search(r'name="attempt" value="([0-9a-f]{32})"', page).group(1)
            paid = client.post(
                "/portal/pay/",
                {
                    "attempt": attempt,
                    "invoice": invoice.number,
                    "amount": "94.95",
                    "card": str(card.pk),
                    "confirm": "True",
                },
            )
            assert paid.status_code in (200, 302)
            sub.refresh_from_db()
            assert sub.status == SubscriptionStatus.ACTIVE
            wait_for(lambda: len(nas.of("coa")) == 1, what="a CoA-Request at the NAS")
        assert radius.login(USER, PASSWORD) == (
            "Access-Accept",
            {"Mikrotik-Rate-Limit": "100000k/500000k"},
        )
        (coa,) = nas.of("coa")
        assert coa["attributes"]["Acct-Session-Id"] == ["sess-0001"]
        assert coa["attributes"]["Mikrotik-Rate-Limit"] == ["100000k/500000k"]
        assert len(nas.of("disconnect")) == 1
    finally:
        runner.stop()
