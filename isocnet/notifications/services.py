"""Waking the sender when notices are queued (isocnet.outbox.queue tells
us, see apps.py), and staff's "send again"."""

from __future__ import annotations

from django.db import transaction

from isocnet.celery_app import workers_enabled
from isocnet.core import clock
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, NotFound
from isocnet.core.permissions import require
from isocnet.notifications.delivery import wake
from isocnet.notifications.rendering import new_message_id
from isocnet.notifications.tasks import deliver_task
from isocnet.outbox.models import OutboxMessage

_last_dispatch = [0.0]


def wake_sender() -> None:
    """After commit: have the new notice sent now. With workers, an
    email.deliver task (at most one a second from this process: a task
    sends everything pending); otherwise the in-process sender. Should the
    broker be down, the notice waits in the outbox for the next sweep."""

    if workers_enabled():
        import time

        now = time.monotonic()
        if now - _last_dispatch[0] < 1.0:
            return
        _last_dispatch[0] = now
        try:
            deliver_task.delay()
        except Exception:  # broker unreachable: the beat sweep sends it later
            import logging

            logging.getLogger(__name__).warning("broker unreachable; the outbox sweep will send")
        return

    wake()


def message_resend(*, actor, message_id: int) -> OutboxMessage:
    """Send a message again, exactly as it was rendered (same text, same
    PDF), as a new outbox row with its own Message-ID."""
    require(actor, "notice.send")

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

        copy.message_id = new_message_id(copy)
        copy.save(update_fields=["message_id"])
        audit_record(
            actor=actor,
            action="message.resend",
            obj=copy,
            customer_id=copy.customer_id,
            after={"resend_of": original.pk, "subject": original.subject},
        )
        transaction.on_commit(wake_sender)
    return copy
