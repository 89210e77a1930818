"""Auto debit: the billing run's collection step. The open auto-debit
invoices due are charged a batch at a time (COLLECTION_BATCH): step 1 for
the whole batch in one transaction (payments.calls.start_many), step 2
the calls side by side (AUTO_DEBIT_CONCURRENCY at once, at most
AUTO_DEBIT_RATE a second: operations.call_pool), step 3 for the whole batch in one transaction
(payments.settling.settle_many), each under the locks of the batch's
customers taken in id order. A kill between the steps leaves at most a
batch of pending calls, reconciled as any other."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import transaction

from isocnet.collections.holds import not_held, scoped
from isocnet.collections.plans import installments_to_charge
from isocnet.core import simulation
from isocnet.core.actors import Actor
from isocnet.core.db import resuming
from isocnet.core.errors import Conflict
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.customers.models import PaymentPreference
from isocnet.documents.receipts import receipt_pdfs_render
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.operations.call_pool import CallPool
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notice_queue
from isocnet.payments.calls import STALE_PENDING, call_gateway, charges_start_many
from isocnet.payments.charges import charge_invoice
from isocnet.payments.gateways.base import ChargeResult
from isocnet.payments.models import (
    CUSTOMER_KEY_PREFIX,
    CallStatus,
    GatewayCall,
    PaymentMethod,
)
from isocnet.payments.settling import settle_many

log = logging.getLogger(__name__)


def due_for_collection(date: dt.date, only: list[int] | None = None) -> list[int]:
    """Open auto-debit invoices due on or before ``date`` whose next attempt
    has come: never tried, or softly declined with a retry date reached, and
    nothing in flight. A hard decline waits for a new card. Three queries per
    thousand invoices. ``only``: of these customers alone."""
    ids = []
    invoices = list(
        not_held(  # a promise, a plan or a dispute stands in for the schedule
            scoped(
                Invoice.objects.filter(
                    status__in=OPEN_STATUSES,
                    due_date__lte=date,
                    customer__payment_method=PaymentPreference.CARD,
                ),
                only,
            )
        )
        .order_by("pk")
        .values_list("pk", "customer_id")
    )
    for start in range(0, len(invoices), 1000):
        chunk = invoices[start : start + 1000]
        last_call = {}
        for call in (
            GatewayCall.objects.filter(
                invoice_id__in=[pk for pk, _ in chunk], kind=GatewayCall.Kind.CHARGE
            )
            .exclude(idempotency_key__startswith=CUSTOMER_KEY_PREFIX)
            .only("pk", "invoice_id", "status", "card_id", "next_retry_on")
            .order_by("invoice_id", "-id")
        ):
            last_call.setdefault(call.invoice_id, call)
        card_of = dict(
            PaymentMethod.objects.defaults()
            .filter(customer_id__in={c for _, c in chunk})
            .values_list("customer_id", "pk")
        )
        for invoice_id, customer_id in chunk:
            last = last_call.get(invoice_id)
            card = card_of.get(customer_id)
            if last is None or last.status in (CallStatus.SUCCEEDED, CallStatus.FAILED):
                ids.append(invoice_id)
            elif last.status == CallStatus.DECLINED:
                new_card = card is not None and card != last.card_id
                if new_card or (last.next_retry_on and last.next_retry_on <= date):
                    ids.append(invoice_id)
    return ids


def collection_counts() -> dict:
    """What a collection did: charged, declined, unknown (no answer: left
    for reconciliation), not sent (tried again by the next run) and no card
    on file (the customer was asked for one). The run's collection step
    adds the plan installments it charged ("installments")."""
    return {"charged": 0, "declined": 0, "unknown": 0, "not_sent": 0, "no_card": 0}


def collect_due(*, actor: Actor, date: dt.date, only: list[int] | None = None) -> dict:
    """The billing run's collection step (in one process; with workers the
    ids go to the collection queue in chunks: isocnet.operations.tasks):
    the invoices due, then payment plans' installments due today."""
    counts = collect_invoices(actor=actor, invoice_ids=due_for_collection(date, only))
    counts["installments"] = collect_installments(actor=actor, date=date, only=only)
    return counts


def collect_installments(*, actor: Actor, date: dt.date, only: list[int] | None = None) -> int:
    """Charge card payers' installments due today to the card on file,
    against the plan's open invoices oldest first. Whatever succeeds pays
    the plan in the payment's own transaction, so a run repeated finds
    nothing more due; a decline is told to the customer like any auto
    debit's, and the plan breaks if the installment stays unpaid."""
    charged = 0
    for customer_id, plan_id, amount in installments_to_charge(date, only):
        remaining = amount.minor()
        for invoice in (
            Invoice.objects.filter(payment_plans=plan_id, status__in=OPEN_STATUSES)
            .order_by("due_date", "id")
            .only("pk", "balance_minor", "currency")
        ):
            take = min(remaining, invoice.balance_minor)
            if take <= 0:
                continue
            try:
                call = charge_invoice(
                    actor=actor,
                    invoice_id=invoice.pk,
                    amount=Money.from_minor(take, invoice.currency),
                    customer_id=customer_id,
                )
            except Conflict:  # a charge already in flight: reconciliation settles it
                break
            if call is None or call.status != CallStatus.SUCCEEDED:
                break
            charged += 1
            remaining -= take
            if remaining <= 0:
                break
    return charged


def collect_invoices(*, actor: Actor, invoice_ids) -> dict:
    """Charge each of these invoices (the three steps above, a batch of
    ``settings.COLLECTION_BATCH`` at a time), then render the receipts of
    what was charged, so that their emails go out quickly."""
    require(actor, "card.charge")
    counts = collection_counts()
    paid: list[int] = []
    batch: list[tuple[int, int]] = []
    with CallPool(size=settings.AUTO_DEBIT_CONCURRENCY, rate=settings.AUTO_DEBIT_RATE) as pool:
        for invoice_id, customer_id, has_card in _with_cards(list(invoice_ids)):
            if not has_card:  # a card added since is found by the next run
                with transaction.atomic():
                    created = notice_queue(
                        kind=MessageKind.CARD_NEEDED,
                        key=f"card_needed:{invoice_id}",
                        customer_id=customer_id,
                        invoice_id=invoice_id,
                    )
                counts["no_card"] += int(created)
                continue
            batch.append((invoice_id, customer_id))
            if len(batch) == settings.COLLECTION_BATCH:
                _charge_batch(actor=actor, invoices=batch, counts=counts, paid=paid, pool=pool)
                batch = []
        _charge_batch(actor=actor, invoices=batch, counts=counts, paid=paid, pool=pool)
    if not simulation.active():  # a timeline renders no PDFs
        _render_receipts(paid)
    return counts


# A batch's pending calls must reach the gateway well before reconciliation
# could take them for abandoned (STALE_PENDING): those a slow gateway leaves
# unsent past this are settled as never sent, and the next run tries again.
SEND_WITHIN = STALE_PENDING / 2


NOT_SENT = "not sent: the gateway was too slow for the rest of the batch"


def _charge_batch(*, actor: Actor, invoices, counts: dict, paid: list, pool: CallPool) -> None:
    if not invoices:
        return
    calls = charges_start_many(actor=actor, invoices=invoices)
    started = time.monotonic()

    def send(call: GatewayCall) -> ChargeResult | None:
        if time.monotonic() - started > SEND_WITHIN.total_seconds():
            return ChargeResult(status="failed", message=NOT_SENT)
        return call_gateway(call)

    # Step 2 side by side (operations.call_pool); an unexpected error is
    # raised once every call has ended, leaving the batch's calls pending
    # for reconciliation, as it always did.
    outcomes = list(zip(calls, pool.map(send, calls), strict=True))
    # The gateway has answered: what it took must be recorded now, so a lost
    # connection is retried here (settling is idempotent) rather than left
    # for the next morning's reconciliation.
    settled = resuming(
        lambda: settle_many(actor=actor, outcomes=outcomes),
        what=f"auto debit: settling {len(outcomes)} charges",
    )
    for call in settled:
        key = {CallStatus.SUCCEEDED: "charged", CallStatus.DECLINED: "declined"}.get(
            call.status, "unknown"
        )
        if call.message == NOT_SENT:
            key = "not_sent"
        counts[key] += 1
        if call.payment_id:
            paid.append(call.payment_id)


def _with_cards(invoice_ids: list[int]):
    """(invoice id, customer id, whether the customer has a default card),
    read 200 invoices at a time. Step 1 reads the card again under the lock."""
    for start in range(0, len(invoice_ids), 200):
        chunk = invoice_ids[start : start + 200]
        customer_of = dict(
            Invoice.objects.filter(pk__in=chunk).values_list("pk", "customer_id").order_by()
        )
        with_card = set(
            PaymentMethod.objects.defaults()
            .filter(customer_id__in=set(customer_of.values()))
            .values_list("customer_id", flat=True)
        )
        for invoice_id in chunk:
            if invoice_id in customer_of:
                customer_id = customer_of[invoice_id]
                yield invoice_id, customer_id, customer_id in with_card


def _render_receipts(payment_ids: list[int]) -> None:
    """Ahead of the receipt emails (which render any receipt missing here)."""

    try:
        receipt_pdfs_render(payment_ids=payment_ids)
    except Exception:  # never fails the collection: the email renders it on send
        log.exception("rendering %s receipts ahead of their emails failed", len(payment_ids))
