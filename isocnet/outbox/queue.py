"""Queueing customer notices in the outbox, inside the business
transaction: each notice is recorded exactly once (its dedupe key),
atomically with the change that causes it. Whoever delivers them
(isocnet.notifications) asks to be told after each commit that queued one
(``on_queued``), registered when its app is ready."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from isocnet.core import clock
from isocnet.outbox.models import OutboxMessage

_listeners: list[Callable[[], None]] = []


def on_queued(listener: Callable[[], None]) -> None:
    """Call ``listener`` after the commit of every transaction that queued a
    notice (the sender wakes up). Registered once, at start-up."""
    if listener not in _listeners:
        _listeners.append(listener)


def _notify() -> None:
    for listener in _listeners:
        listener()


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
    (row,) = notices_queue_new(
        kind=kind, notices=[(key, customer_id, invoice_id)], context=context or {}
    )
    return (
        known_new
        or OutboxMessage.objects.filter(dedupe_key=key, created_at=row.created_at).exists()
    )


def notices_queue_new(
    *,
    kind: str,
    notices: list[tuple[str, int, int | None]],
    context: dict | None = None,
    contexts: list[dict] | None = None,
) -> list[OutboxMessage]:
    """Record these notices, (key, customer id, invoice id) each, in one
    INSERT … ON CONFLICT DO NOTHING: should a concurrent run record a key
    first, it wins, and this transaction goes on unharmed. The sender is
    woken after the commit. ``context``: the same for every notice;
    ``contexts``: one for each."""
    now = clock.now()
    if contexts is None:
        contexts = [context or {}] * len(notices)
    rows = [
        OutboxMessage(
            kind=kind,
            dedupe_key=key,
            customer_id=customer_id,
            invoice_id=invoice_id,
            context=notice_context,
            created_at=now,
            next_attempt_at=now,
        )
        for (key, customer_id, invoice_id), notice_context in zip(notices, contexts, strict=True)
    ]
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(_notify)
    return rows


def notices_queue_fresh(*, kind: str, notices: list[tuple[str, int, int | None]]) -> int:
    """Record notices whose keys name rows created in this same transaction
    (a batch's new invoices), so no other writer can hold them: written
    without model instances (core.bulk), the unique key still refusing a
    duplicate. The sender is woken after the commit."""
    from isocnet.core.bulk import rows_write

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notices must be queued inside the transaction that causes them")
    now = clock.now()
    written = rows_write(
        OutboxMessage,
        (
            "kind",
            "dedupe_key",
            "customer_id",
            "invoice_id",
            "context",
            "created_at",
            "next_attempt_at",
        ),
        (
            (kind, key, customer_id, invoice_id, {}, now, now)
            for key, customer_id, invoice_id in notices
        ),
    )
    transaction.on_commit(_notify)
    return written
