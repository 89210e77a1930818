"""Events for other systems (outbound webhooks), recorded in the business
transaction of the change they describe, so none is lost and none is
announced for a change that rolled back. Nothing is recorded while no
one listens (no active webhook endpoint): the listener registers its
``enabled`` test when its app is ready, and ``jobs`` wakes it after the
commit."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from isocnet.core import clock
from isocnet.core.jobs import jobs_queue
from isocnet.core.models import Event

TYPES = (
    "invoice.issued",
    "invoice.paid",
    "payment.succeeded",
    "payment.failed",
    "payment.refunded",
    "service.suspended",
    "service.resumed",
    "service.cancelled",
    "service.activated",
    "customer.updated",
)
DISPATCH_JOB = "webhooks.deliver"
_listening: list[Callable[[], bool]] = []


def events_listener(enabled: Callable[[], bool]) -> None:
    if enabled not in _listening:
        _listening.append(enabled)


def listening() -> bool:
    return any(enabled() for enabled in _listening)


def events_emit(type: str, items) -> int:
    """Record an event of ``type`` for each (customer id, data), in the
    caller's transaction. ``items``: the list, or a function making it
    (called only when someone listens: payloads cost nothing otherwise).
    Returns how many (0 when no one listens)."""
    if type not in TYPES:
        raise ValueError(f"unknown event type {type}")
    if not items or not listening():
        return 0
    if callable(items):
        items = items()
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events_emit must run inside the transaction of the change")
    now = clock.now()
    Event.objects.bulk_create(
        [
            Event(type=type, customer_id=customer_id, data=data, created_at=now)
            for customer_id, data in items
        ]
    )
    # one delivery job per customer: their events go out in order, and
    # customers' transactions never wait on each other's job row
    jobs_queue(DISPATCH_JOB, [customer_id or 0 for customer_id, _ in items], enabled_known=True)
    return len(items)


def event_emit(type: str, *, customer_id: int | None, data: dict) -> int:
    return events_emit(type, [(customer_id, data)])
