"""Queueing customer notices in the outbox, inside the business transaction.

Delivery (SMTP, rendering, retries) is the notifications issue; this module
only guarantees that each notice is recorded exactly once, atomically with
the change that causes it.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from isocnet.core import clock
from isocnet.notifications.models import OutboxMessage


def notice_queue(
    *,
    kind: str,
    key: str,
    customer_id: int,
    invoice_id: int | None = None,
    context: dict | None = None,
) -> bool:
    """Record a notice once per ``key``. Returns False when it was already
    recorded (a repeated run, a retry)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notice_queue must run inside the transaction that causes the notice")
    if OutboxMessage.objects.filter(dedupe_key=key).exists():
        return False
    now = clock.now()
    try:
        with transaction.atomic():
            OutboxMessage.objects.create(
                kind=kind,
                dedupe_key=key,
                customer_id=customer_id,
                invoice_id=invoice_id,
                context=context or {},
                created_at=now,
                next_attempt_at=now,
            )
    except IntegrityError:
        return False  # recorded concurrently by another run
    return True
