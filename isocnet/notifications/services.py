"""Queueing customer notices in the outbox, inside the business transaction.

Delivery (SMTP, rendering, retries) is the notifications issue; this module
only guarantees that each notice is recorded exactly once, atomically with
the change that causes it.
"""

from __future__ import annotations

from django.db import transaction

from isocnet.core import clock
from isocnet.notifications.models import OutboxMessage


def notice_queue(
    *,
    kind: str,
    key: str,
    customer_id: int,
    invoice_id: int | None = None,
    context: dict | None = None,
    known_new: bool = False,
) -> bool:
    """Record a notice once per ``key``. Returns False when it was already
    recorded (a repeated run, a retry). ``known_new``: the key names a row
    created in this same transaction (a new invoice), so no look-up is
    needed; the unique key still refuses a duplicate."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notice_queue must run inside the transaction that causes the notice")
    if not known_new and OutboxMessage.objects.filter(dedupe_key=key).exists():
        return False
    now = clock.now()
    row = OutboxMessage(
        kind=kind,
        dedupe_key=key,
        customer_id=customer_id,
        invoice_id=invoice_id,
        context=context or {},
        created_at=now,
        next_attempt_at=now,
    )
    # INSERT ... ON CONFLICT DO NOTHING: should a concurrent run record the
    # same key first, it wins, and this transaction goes on unharmed.
    created = OutboxMessage.objects.bulk_create([row], ignore_conflicts=True)
    return bool(created) and (
        known_new or OutboxMessage.objects.filter(dedupe_key=key, created_at=now).exists()
    )
