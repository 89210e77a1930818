"""Delivering the outbox over SMTP.

- A message is *claimed* by a conditional UPDATE (it moves its next attempt
  past a lease), so two senders — threads, processes, machines — never send
  the same row at once, on SQLite or PostgreSQL.
- It is rendered once and its Message-ID stored *before* the first send. A
  crash after the server accepted it but before we marked it sent means the
  lease runs out and it is sent again with the same Message-ID: at most a
  duplicate that mail clients recognise, never a loss.
- One SMTP connection serves a whole batch. Connection errors and 4xx replies
  are retried with backoff (30 s doubling to 1 h); a 5xx reply fails the
  message at once, with the reason, and the others go on. 4xx replies fail
  the message after OUTBOX_MAX_ATTEMPTS; a server that is down (no
  connection, or 421 "service closing") never does.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import smtplib
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import close_old_connections, connection, transaction

from isocnet.core import clock
from isocnet.documents.invoices import invoice_pdfs_render
from isocnet.documents.receipts import receipt_pdfs_render
from isocnet.notifications.rendering import RENDERED_FIELDS, render_many_into
from isocnet.outbox.models import MessageKind, MessageStatus, OutboxMessage

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=5)
SERVICE_CLOSING = 421  # RFC 5321: service not available, closing the channel


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retry: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.retry


class _Transient(Exception):
    pass


class _Permanent(Exception):
    pass


class _ServerDown(Exception):
    pass


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _claim(pks: list[int], now: dt.datetime) -> list[int]:
    """Claim what is still pending and due among ``pks``, in one statement:
    UPDATE … RETURNING (PostgreSQL, SQLite >= 3.35) says which rows this
    sender won; a row another sender claimed first no longer matches."""
    if not pks:
        return []
    table = OutboxMessage._meta.db_table
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET next_attempt_at = %s, attempts = attempts + 1"  # noqa: S608
            f" WHERE id IN ({', '.join(['%s'] * len(pks))})"
            " AND status = %s AND next_attempt_at <= %s RETURNING id",
            [
                ops.adapt_datetimefield_value(now + LEASE),
                *pks,
                MessageStatus.PENDING.value,
                ops.adapt_datetimefield_value(now),
            ],
        )
        won = {row[0] for row in cursor.fetchall()}
    return [pk for pk in pks if pk in won]


class _Email(EmailMultiAlternatives):
    """MIME boundaries in hex: Python's default is a 19-digit decimal, which
    card-number (PAN) scanners flag in mail archives."""

    def message(self, *args, **kwargs):
        msg = super().message(*args, **kwargs)
        for part in msg.walk():
            if part.is_multipart():
                part.set_boundary(f"isocnet-{secrets.token_hex(16)}")
        return msg


def _email(message: OutboxMessage, connection) -> EmailMultiAlternatives:
    email = _Email(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        cc=message.cc_emails or None,
        reply_to=[settings.COMPANY_EMAIL],
        headers={
            "Message-ID": message.message_id,
            "X-ISOCNET-Notice": f"{message.kind} {message.dedupe_key}",
        },
        connection=connection,
    )
    email.attach_alternative(message.body_html, "text/html")
    if message.document_id:
        email.attach(message.document.filename, bytes(message.document.content), "application/pdf")
    return email


def _send(email: EmailMultiAlternatives, connection) -> None:
    try:
        connection.open()  # no-op when already open: one connection serves the batch
        sent = connection.send_messages([email])
        if not sent:
            raise _Transient("the SMTP server did not accept the message")
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        reason = "; ".join(
            f"{addr}: {code} {msg.decode(errors='replace')}"
            for addr, (code, msg) in exc.recipients.items()
        )
        if all(c == SERVICE_CLOSING for c in codes):
            _close(connection)
            raise _ServerDown(reason) from None
        raise (_Permanent if all(c >= 500 for c in codes) else _Transient)(reason) from None
    except smtplib.SMTPResponseException as exc:
        reason = f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
        if exc.smtp_code >= 500:
            raise _Permanent(reason) from None
        if exc.smtp_code == SERVICE_CLOSING:  # the server is going away: as if down
            _close(connection)
            raise _ServerDown(reason) from None
        _close(connection)
        raise _Transient(reason) from None
    except (OSError, smtplib.SMTPException) as exc:
        _close(connection)
        raise _ServerDown(f"{type(exc).__name__}: {exc}") from None


def _close(connection) -> None:
    try:
        connection.close()
    except Exception:
        connection.connection = None


def deliver_pending(*, limit: int = 200) -> DeliveryReport:
    """Send what is due; returns what happened. Safe to run anywhere, any
    number of times at once."""
    report = DeliveryReport()
    now = clock.now()
    candidates = list(
        OutboxMessage.objects.filter(status=MessageStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    claimed = [
        pk
        for start in range(0, len(candidates), 200)
        for pk in _claim(candidates[start : start + 200], now)
    ]
    if not claimed:
        return report
    smtp = get_connection()
    server_down = None
    try:
        for message in _claimed_messages(claimed):
            pk = message.pk
            if server_down is not None:
                _retry(message, server_down, report)
                continue
            try:
                _send(_email(message, smtp), smtp)
            except _Permanent as exc:
                _fail(message, str(exc), report)
            except _Transient as exc:
                if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                    _fail(message, f"gave up after {message.attempts} attempts: {exc}", report)
                else:
                    _retry(message, str(exc), report)
            except _ServerDown as exc:
                server_down = str(exc)
                _retry(message, server_down, report)
            else:
                OutboxMessage.objects.filter(pk=pk).update(
                    status=MessageStatus.SENT, sent_at=clock.now(), last_error=""
                )
                report.sent += 1
    finally:
        _close(smtp)
    return report


def _claimed_messages(pks: list[int]):
    """The claimed rows in claim order, read 50 at a time (with their
    invoice, customer and stored PDF); those never sent are rendered and
    stored together first (the Message-ID is kept before the first send)."""
    for start in range(0, len(pks), 50):
        chunk = pks[start : start + 50]
        rows = OutboxMessage.objects.select_related("invoice__customer", "document").in_bulk(chunk)
        _render_fresh([rows[pk] for pk in chunk])
        yield from (rows[pk] for pk in chunk)


def _render_fresh(messages: list[OutboxMessage]) -> None:
    """Render the messages of a batch that have never been rendered, with
    the PDFs they attach, and store them in one transaction."""
    fresh = [m for m in messages if not m.rendered_at]
    if not fresh:
        return
    _prepare_documents(fresh)
    render_many_into(fresh)
    # one prepared UPDATE for all (Django's bulk_update builds a CASE per
    # field and row: 330 ms a batch of 50 under the profiler)
    fields = [OutboxMessage._meta.get_field(name) for name in RENDERED_FIELDS]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    rows = [
        [f.get_db_prep_save(getattr(m, f.attname), connection) for f in fields] + [m.pk]
        for m in fresh
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(OutboxMessage._meta.db_table)} SET {assignments} WHERE id = %s",  # noqa: S608
            rows,
        )


def _prepare_documents(fresh: list[OutboxMessage]) -> None:
    """Render the PDFs these messages will attach and that no step rendered
    yet, on parallel threads, before the messages themselves."""

    invoices = [m.invoice_id for m in fresh if m.kind == MessageKind.INVOICE]
    payments = [
        m.context["payment"]
        for m in fresh
        if m.kind == MessageKind.RECEIPT and isinstance(m.context.get("payment"), int)
    ]
    try:
        if len(invoices) > 1:
            invoice_pdfs_render(invoice_ids=invoices)
        if len(payments) > 1:
            receipt_pdfs_render(payment_ids=payments)
    except Exception:  # each message renders its own PDF on send
        log.exception("rendering %s PDFs ahead of their emails failed", len(fresh))


def _retry(message: OutboxMessage, reason: str, report: DeliveryReport) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=clock.now() + backoff(message.attempts), last_error=reason[:2000]
    )
    report.retry += 1


def _fail(message: OutboxMessage, reason: str, report: DeliveryReport) -> None:
    log.warning("message %s to %s failed: %s", message.pk, message.to_email, reason)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED, last_error=reason[:2000]
    )
    report.failed += 1


# -- the in-process sender of `isocnet serve` -------------------------------------
_wake = threading.Event()
_started = threading.Lock()
_thread: threading.Thread | None = None


def wake() -> None:
    """Ask the background sender (if this process runs one) to look now."""
    _wake.set()


def start_background_delivery() -> threading.Thread:
    """Deliver the outbox from this process: every OUTBOX_POLL_SECONDS, and at
    once when a transaction in this process queues a notice."""
    global _thread
    with _started:
        if _thread is not None and _thread.is_alive():
            return _thread

        def loop() -> None:
            while True:
                _wake.wait(settings.OUTBOX_POLL_SECONDS)
                _wake.clear()
                try:
                    close_old_connections()
                    while deliver_pending().handled:
                        pass
                except Exception:  # the loop must survive anything
                    log.exception("outbox delivery failed; retrying")
                finally:
                    close_old_connections()

        _thread = threading.Thread(target=loop, name="outbox-delivery", daemon=True)
        _thread.start()
        return _thread
