"""Delivering events to webhook endpoints (job ``webhooks.deliver``, one
per customer, queued in the transaction that records their events).

- Each event goes to each active endpoint that wants its type once: a
  delivery row (unique per endpoint and event), sent with the Standard
  Webhooks headers (``webhook-id: evt_<id>``, ``webhook-timestamp``,
  ``webhook-signature: v1,<HMAC-SHA256>``, PyPI ``standardwebhooks``) and
  the same id on every try and replay: at least once.
- In order per customer: an endpoint gets a customer's next event only
  after the one before it was delivered (or given up).
- Retried with backoff (WEBHOOK_RETRY_SCHEDULE: 5 s, 5 min, 30 min, 2 h,
  5 h, 10 h, 10 h), then *failed* (replayable). An answer of 410 Gone
  disables the endpoint at once; an endpoint failing for
  WEBHOOK_DISABLE_AFTER_HOURS is disabled too. Either way the audit log
  and the back office's work queue tell staff.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from django.conf import settings
from django.db import transaction
from standardwebhooks import Webhook

from isocnet.core import clock, outbound
from isocnet.core.actors import Actor
from isocnet.core.events import DISPATCH_JOB, events_listener
from isocnet.core.jobs import job_handler, job_queue
from isocnet.core.models import Event
from isocnet.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from isocnet.webhooks.services import endpoint_secret, endpoint_switch

SYSTEM = Actor("webhooks")


def listening() -> bool:
    return WebhookEndpoint.objects.filter(active=True).exists()


def _fan_out(customer_id: int | None) -> None:
    """Deliveries for the customer's new events, to every active endpoint
    that wants them."""
    now = clock.now()
    with transaction.atomic():
        events = list(
            Event.objects.select_for_update()
            .filter(customer_id=customer_id, dispatched_at__isnull=True)
            .order_by("id")
        )
        if not events:
            return
        endpoints = list(WebhookEndpoint.objects.filter(active=True))
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    endpoint=endpoint,
                    event=event,
                    customer_id=customer_id,
                    next_attempt_at=now,
                    created_at=now,
                )
                for event in events
                for endpoint in endpoints
                if endpoint.wants(event.type)
            ],
            ignore_conflicts=True,
        )
        Event.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)


def body_of(event: Event) -> str:
    return json.dumps(
        {"type": event.type, "timestamp": event.created_at.isoformat(), "data": event.data},
        separators=(",", ":"),
        sort_keys=True,
    )


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, int]:
    """Send it: (status code or None, error, milliseconds)."""
    payload = body_of(delivery.event)
    # the signature's time is the sending time (receivers reject old ones),
    # not the billing clock's
    sent = dt.datetime.now(dt.UTC)
    signature = Webhook(endpoint_secret(delivery.endpoint)).sign(delivery.webhook_id, sent, payload)
    started = time.monotonic()
    answer = outbound.post(
        delivery.endpoint.url,
        payload.encode(),
        {
            "Content-Type": "application/json",
            "User-Agent": "ISOCNET-Billing-Webhooks/1",
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(int(sent.timestamp())),
            "webhook-signature": signature,
        },
        timeout=settings.WEBHOOK_TIMEOUT,
    )
    code, error = answer.status, answer.error
    return code, error, int((time.monotonic() - started) * 1000)


def _attempt(delivery: WebhookDelivery) -> bool:
    """One try; True when delivered."""
    replay = delivery.delivered_at is not None  # sent again by staff
    code, error, took = _post(delivery)
    now = clock.now()
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=code,
        error=error,
        duration_ms=took,
        replay=replay,
    )
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = code, error
    endpoint = delivery.endpoint
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        delivery.save()
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            endpoint.failing_since = None
        return True
    if code == 410:
        delivery.save()
        _disable(endpoint, "the endpoint answered 410 Gone")
        return False
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if delivery.attempts > len(schedule):
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = now + dt.timedelta(seconds=schedule[delivery.attempts - 1])
    delivery.save()
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=now)
        endpoint.failing_since = now
    elif now - endpoint.failing_since > dt.timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS):
        _disable(
            endpoint, f"no delivery succeeded for {settings.WEBHOOK_DISABLE_AFTER_HOURS} hours"
        )
    return False


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint_switch(locked, active=False, reason=reason, actor=SYSTEM)
    endpoint.active = False


def customer_deliver(subject: str) -> str:
    """The job: fan out the customer's new events, then send what is due,
    in event order per endpoint; queue itself again for the next retry."""
    customer_id = int(subject) or None
    _fan_out(customer_id)
    now = clock.now()
    pending = (
        WebhookDelivery.objects.filter(
            customer_id=customer_id, status=DeliveryStatus.PENDING, endpoint__active=True
        )
        .select_related("event", "endpoint")
        .order_by("endpoint_id", "event_id")
    )
    blocked: set[int] = set()
    sent = delivered = 0
    for delivery in pending:
        if delivery.endpoint_id in blocked:
            continue
        if delivery.next_attempt_at > now or not delivery.endpoint.active:
            blocked.add(delivery.endpoint_id)  # its later events wait behind it
            continue
        sent += 1
        if _attempt(delivery):
            delivered += 1
        else:
            blocked.add(delivery.endpoint_id)
    # the next try: the earliest of each endpoint's first waiting delivery
    # (those behind it wait for it)
    heads: dict[int, dt.datetime] = {}
    for endpoint_id, at in (
        WebhookDelivery.objects.filter(
            customer_id=customer_id, status=DeliveryStatus.PENDING, endpoint__active=True
        )
        .order_by("endpoint_id", "event_id")
        .values_list("endpoint_id", "next_attempt_at")
    ):
        heads.setdefault(endpoint_id, at)
    if heads:
        with transaction.atomic():
            at = max(min(heads.values()), now + dt.timedelta(seconds=1))
            job_queue(DISPATCH_JOB, subject, at=at)
    return f"{sent} sent, {delivered} delivered"


events_listener(listening)
job_handler(DISPATCH_JOB, customer_deliver, enabled=listening)
