"""Queueing customer notices in the outbox, inside the business transaction.

Delivery (SMTP, rendering, retries) is the notifications issue; this module
only guarantees that each notice is recorded exactly once, atomically with
the change that causes it.
"""

from __future__ import annotations

from django.db import transaction

from isocnet.core import clock
from isocnet.core.permissions import require
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
    transaction.on_commit(_wake_sender)
    return rows


_last_dispatch = [0.0]


def _wake_sender() -> None:
    """After commit: have the new notice sent now. With workers, an
    email.deliver task (at most one a second from this process: a task
    sends everything pending); otherwise the in-process sender. Should the
    broker be down, the notice waits in the outbox for the next sweep."""
    from isocnet.celery_app import workers_enabled

    if workers_enabled():
        import time

        now = time.monotonic()
        if now - _last_dispatch[0] < 1.0:
            return
        _last_dispatch[0] = now
        try:
            from isocnet.notifications.tasks import deliver_task

            deliver_task.delay()
        except Exception:  # broker unreachable: the beat sweep sends it later
            import logging

            logging.getLogger(__name__).warning("broker unreachable; the outbox sweep will send")
        return
    from isocnet.notifications.delivery import wake

    wake()


def message_resend(*, actor, message_id: int) -> OutboxMessage:
    """Send a message again, exactly as it was rendered (same text, same
    PDF), as a new outbox row with its own Message-ID."""
    require(actor, "notice.send")
    from isocnet.core.audit import audit_record
    from isocnet.core.errors import Conflict, NotFound

    with transaction.atomic():
        original = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if original is None:
            raise NotFound(f"no message with id {message_id}", field="message")
        if not original.rendered_at:
            raise Conflict(
                "this message has not been rendered yet; it is still waiting to be sent",
                field="message",
            )
        count = original.resends.count() + 1
        now = clock.now()
        copy = OutboxMessage.objects.create(
            kind=original.kind,
            dedupe_key=f"resend:{original.pk}:{count}",
            customer_id=original.customer_id,
            invoice_id=original.invoice_id,
            context=original.context,
            created_at=now,
            next_attempt_at=now,
            to_email=original.to_email,
            cc_emails=original.cc_emails,
            subject=original.subject,
            body_text=original.body_text,
            body_html=original.body_html,
            document_id=original.document_id,
            rendered_at=now,
            resend_of=original,
        )
        from isocnet.notifications.rendering import new_message_id

        copy.message_id = new_message_id(copy)
        copy.save(update_fields=["message_id"])
        audit_record(
            actor=actor,
            action="message.resend",
            obj=copy,
            customer_id=copy.customer_id,
            after={"resend_of": original.pk, "subject": original.subject},
        )
        transaction.on_commit(_wake_sender)
    return copy
