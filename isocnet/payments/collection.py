"""Charging cards: auto debit of due invoices, and staff or customer card
payments. Three steps, so that a crash or a timeout can never charge twice:

1. in a transaction, under the customer lock: check what is owed, commit a
   *pending* GatewayCall with its idempotency key
   (``invoice:<id>:charge:<n>``);
2. outside any transaction: ask the gateway to charge, with that key;
3. in a transaction, under the lock: settle the call — succeeded (a payment
   is recorded and applied, a receipt queued), declined (retry schedule,
   "Payment Failed" email), or *unknown* (a timeout).

Unknown and stale pending calls are reconciled by asking the gateway about
the key (``isocnet reconcile``, and at the start of every billing run): the
charge is settled once, or found never to have happened. A webhook for the
charge settles it the same way. Nothing is blindly retried.

Auto debit takes these steps a batch at a time (``COLLECTION_BATCH``
invoices): step 1 for the whole batch in one transaction, step 2 call by
call, step 3 for the whole batch in one transaction, each under the locks
of the batch's customers taken in id order. A kill between the steps leaves
at most a batch of pending calls, reconciled as above.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_event, audit_record
from isocnet.core.db import resuming
from isocnet.core.errors import Conflict, InvalidInput
from isocnet.core.models import AuditEvent
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.customers.models import PaymentPreference
from isocnet.customers.services import customer_lock, customers_lock
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notice_queue
from isocnet.payments.gateways import get_gateway
from isocnet.payments.gateways.base import ChargeResult, GatewayError, GatewayTimeout
from isocnet.payments.models import (
    CUSTOMER_KEY_PREFIX,
    CallStatus,
    GatewayCall,
    PaymentKind,
    PaymentMethod,
    WebhookEvent,
)
from isocnet.payments.services import CardCharge, apply_payment_locked, card_payments_apply_locked

log = logging.getLogger(__name__)
IN_FLIGHT = (CallStatus.PENDING, CallStatus.UNKNOWN)
# Well past any gateway client's own timeout (Stripe's is 80 s): a call still
# pending after this was abandoned by a crash, not merely slow.
STALE_PENDING = dt.timedelta(minutes=10)
NEVER_RECEIVED = "the gateway never received this charge"


def in_flight_minor(customer_id: int, invoice_id: int | None = None) -> int:
    """What card charges already sent (pending) or unanswered (unknown) are
    taking from what the customer owes: those on ``invoice_id`` and those on
    the whole account (a portal "pay all", which pays the oldest invoices
    first); with no invoice, all of the customer's. Read under the customer
    lock, so a second payment sees the first before it charges again."""
    calls = GatewayCall.objects.filter(
        customer_id=customer_id, kind=GatewayCall.Kind.CHARGE, status__in=IN_FLIGHT
    )
    if invoice_id is not None:
        calls = calls.filter(Q(invoice_id=invoice_id) | Q(invoice__isnull=True))
    return sum(calls.values_list("amount_minor", flat=True))


def _start(
    *,
    actor: Actor,
    invoice_id: int,
    amount: Money | None,
    card: PaymentMethod | None,
    customer_id: int | None = None,
) -> GatewayCall | None:
    """Step 1. Returns the committed pending call, or None if nothing to do.
    ``customer_id``: the invoice's customer, when the caller knows it (an
    invoice never changes customer)."""
    with transaction.atomic():
        if customer_id is None:
            customer_id = Invoice.objects.values_list("customer_id", flat=True).get(pk=invoice_id)
        customer = customer_lock(customer_id)
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        if invoice.customer_id != customer.pk:
            raise InvalidInput("the invoice belongs to another customer", field="invoice")
        if invoice.status not in OPEN_STATUSES or invoice.balance_minor <= 0:
            return None
        earlier = list(
            GatewayCall.objects.filter(invoice=invoice, kind=GatewayCall.Kind.CHARGE).values_list(
                "status", flat=True
            )
        )
        if in_flight_minor(customer.pk, invoice.pk):
            raise Conflict(
                "a card payment for this invoice is already in progress", field="invoice"
            )
        card = card or PaymentMethod.objects.default_of(customer.pk)
        if card is None:
            return None
        charge = invoice.balance if amount is None else amount
        if charge.minor() > invoice.balance_minor:
            raise InvalidInput(
                f"must not exceed the balance of {invoice.balance.as_string()}", field="amount"
            )
        call = _new_call(
            actor=actor,
            customer=customer,
            invoice=invoice,
            card=card,
            charge=charge,
            earlier=earlier,
        )
        call.save(force_insert=True)
        return call


def _new_call(*, actor, customer, invoice, card, charge: Money, earlier: list) -> GatewayCall:
    """The pending call (unsaved) for charging ``charge`` of ``invoice`` to
    ``card``; ``earlier``: the statuses of the invoice's earlier charges."""
    attempt = len(earlier) + 1
    key = f"invoice:{invoice.pk}:charge:{attempt}"
    return GatewayCall(
        kind=GatewayCall.Kind.CHARGE,
        gateway=card.gateway,
        idempotency_key=key,
        customer=customer,
        invoice=invoice,
        card=card,
        amount_minor=charge.minor(),
        currency=invoice.currency,
        attempt=attempt,
        created_at=clock.now(),
        created_by=actor.label,
        request={
            "operation": "charge",
            "card": card.token,
            "amount_minor": charge.minor(),
            "currency": invoice.currency,
            "idempotency_key": key,
            "description": f"Invoice #{invoice.number}",
            "source": "auto_debit" if actor.label == "system" else "staff",
        },
    )


def _start_many(*, actor: Actor, invoices: list[tuple[int, int]]) -> list[GatewayCall]:
    """Step 1 for a batch of auto debits, (invoice id, customer id) each, in
    one transaction: the customers locked in id order, then their invoices;
    each invoice still open, with nothing in flight and a default card, gets
    its pending call for the whole balance. Returns the committed calls."""
    with transaction.atomic():
        customers = customers_lock(customer_id for _, customer_id in invoices)
        locked = {
            invoice.pk: invoice
            for invoice in Invoice.objects.select_for_update()
            .filter(pk__in=[invoice_id for invoice_id, _ in invoices])
            .order_by("pk")
        }
        earlier = defaultdict(list)
        for invoice_id, status in GatewayCall.objects.filter(
            invoice_id__in=list(locked), kind=GatewayCall.Kind.CHARGE
        ).values_list("invoice_id", "status"):
            earlier[invoice_id].append(status)
        card_of = {
            card.customer_id: card
            for card in PaymentMethod.objects.defaults().filter(customer_id__in=list(customers))
        }
        # a customer's own "pay all" in the portal, still at the gateway, may be paying these
        paying_all = set(
            GatewayCall.objects.filter(
                customer_id__in=list(customers),
                invoice__isnull=True,
                kind=GatewayCall.Kind.CHARGE,
                status__in=IN_FLIGHT,
            ).values_list("customer_id", flat=True)
        )
        calls = []
        for invoice_id, customer_id in invoices:
            invoice = locked.get(invoice_id)
            card = card_of.get(customer_id)
            if (
                invoice is None
                or invoice.customer_id != customer_id
                or invoice.status not in OPEN_STATUSES
                or invoice.balance_minor <= 0
                or any(status in IN_FLIGHT for status in earlier[invoice_id])
                or customer_id in paying_all
                or card is None
            ):
                continue  # paid, voided or in flight since it was found due; or no card
            calls.append(
                _new_call(
                    actor=actor,
                    customer=customers[customer_id],
                    invoice=invoice,
                    card=card,
                    charge=invoice.balance,
                    earlier=earlier[invoice_id],
                )
            )
        GatewayCall.objects.bulk_create(calls)
        return calls


def _call_gateway(call: GatewayCall) -> ChargeResult | None:
    """Step 2. None means: no answer (unknown)."""
    try:
        return get_gateway().charge(
            card_token=call.card.token,
            amount_minor=call.amount_minor,
            currency=call.currency,
            idempotency_key=call.idempotency_key,
            description=call.request.get("description", ""),
        )
    except GatewayTimeout as exc:
        log.warning(
            "charge %s: no answer from the gateway (%s); left for reconciliation",
            call.idempotency_key,
            exc,
        )
        return None
    except GatewayError as exc:
        return ChargeResult(status="failed", message=str(exc)[:300])


def settle(
    *, actor: Actor, call_id: int, result: ChargeResult | None, customer_id: int | None = None
) -> GatewayCall:
    """Step 3 (also used by reconciliation and webhooks): idempotent.
    ``customer_id``: the call's customer, when the caller knows it."""
    with transaction.atomic():
        if customer_id is None:
            customer_id = GatewayCall.objects.values_list("customer_id", flat=True).get(pk=call_id)
        customer = customer_lock(customer_id)
        call = (
            GatewayCall.objects.select_for_update(of=("self",))
            .select_related("card", "invoice")
            .get(pk=call_id)
        )
        return _settle_locked(actor=actor, customer=customer, call=call, result=result)


def _settle_many(
    *, actor: Actor, outcomes: list[tuple[GatewayCall, ChargeResult | None]]
) -> list[GatewayCall]:
    """Step 3 for a batch: every call settled in one transaction (the
    customers locked in id order, then the calls). Should any of them fail,
    the batch is rolled back and each is settled on its own, as ``settle``
    does, so one bad call never holds back the others; the first error is
    raised after the rest are settled (the bad call stays pending, for
    reconciliation)."""
    if not outcomes:
        return []
    try:
        with transaction.atomic():
            customers = customers_lock(call.customer_id for call, _ in outcomes)
            locked = {
                call.pk: call
                for call in GatewayCall.objects.select_for_update(of=("self",))
                .select_related("card", "invoice")
                .filter(pk__in=[call.pk for call, _ in outcomes])
                .order_by("pk")
            }
            return _settle_locked_many(
                actor=actor,
                customers=customers,
                outcomes=[(locked[call.pk], result) for call, result in outcomes],
            )
    except (OperationalError, InterfaceError):
        raise  # a lost connection, a deadlock: the caller's retry starts over
    except Exception as exc:  # a fault of one call: settled alone, it shows which
        log.warning(
            "settling %s charges together failed (%s); settling each on its own",
            len(outcomes),
            exc,
        )
    settled, errors = [], []
    for call, result in outcomes:
        try:
            settled.append(
                settle(actor=actor, call_id=call.pk, result=result, customer_id=call.customer_id)
            )
        except Exception as exc:  # left pending: reconciliation settles it from the gateway
            log.exception("settling charge %s failed", call.idempotency_key)
            errors.append(exc)
    if errors:
        raise errors[0]
    return settled


def _settle_locked(
    *, actor: Actor, customer, call: GatewayCall, result: ChargeResult | None
) -> GatewayCall:
    """Step 3 with the customer and the call locked by the caller."""
    late_success = (
        call.status == CallStatus.FAILED
        and call.message == NEVER_RECEIVED
        and result is not None
        and result.succeeded
    )
    if call.status not in IN_FLIGHT and not late_success:
        return call  # settled already (by the run, a webhook or reconciliation)
    # A success from the gateway always wins over our own guess that a
    # charge never arrived: the money was taken, so it is recorded.
    now = clock.now()
    if result is None:
        call.status = CallStatus.UNKNOWN
        call.response = {"status": "no answer (timeout)"}
        call.save(update_fields=["status", "response"])
        return call
    _record_answer(call, result, now)
    if result.succeeded:
        call.status = CallStatus.SUCCEEDED
        paid = apply_payment_locked(
            actor=actor,
            customer=customer,
            money=Money.from_minor(call.amount_minor, call.currency),
            method=PaymentKind.CARD,
            reference=str(call.card),
            received=clock.today(),
            invoice_id=call.invoice_id,
            card=call.card,
            allow_closed_invoice=True,
        )
        call.payment = paid.payment
    elif result.status == "declined":
        call.status = CallStatus.DECLINED
        call.decline_code = result.decline_code
        call.hard_decline = result.hard_decline
        call.message = result.message[:300]
        if not call.customer_initiated:
            # Auto debit: retry on schedule and tell the customer. A payment
            # the customer makes in the portal is answered on screen instead.
            schedule = settings.COLLECTION_RETRY_DAYS
            if not result.hard_decline and call.attempt <= len(schedule):
                call.next_retry_on = clock.today() + dt.timedelta(days=schedule[call.attempt - 1])
            notice_queue(
                kind=MessageKind.PAYMENT_FAILED,
                key=f"payment_failed:{call.pk}",
                customer_id=customer.pk,
                invoice_id=call.invoice_id,
                context={
                    "reason": call.message,
                    "card": str(call.card),
                    "next_retry_on": call.next_retry_on.isoformat() if call.next_retry_on else None,
                },
            )
    else:
        call.status = CallStatus.FAILED
        call.message = result.message[:300]
    call.save()
    audit_record(actor=actor, **_charge_audit(call))
    return call


def _record_answer(call: GatewayCall, result: ChargeResult, now) -> None:
    call.completed_at = now
    call.charge_id = result.charge_id
    call.response = {
        "status": result.status,
        "charge_id": result.charge_id,
        "decline_code": result.decline_code,
        "message": result.message,
        "hard_decline": result.hard_decline,
    }


def _charge_audit(call: GatewayCall) -> dict:
    """What the audit row of a settled call says (for ``audit_record``, or
    ``audit_event`` when a batch writes its rows together)."""
    return dict(
        action=f"card.charge.{call.status}",
        obj=call,
        customer_id=call.customer_id,
        after={
            "invoice": call.invoice.number if call.invoice else None,
            "amount": str(call.amount_minor),
            "key": call.idempotency_key,
            "decline": call.decline_code,
            "charge_id": call.charge_id,
        },
    )


def _settle_locked_many(
    *, actor: Actor, customers: dict, outcomes: list[tuple[GatewayCall, ChargeResult | None]]
) -> list[GatewayCall]:
    """Step 3 for calls the caller has locked, with their customers: the
    charges that succeeded recorded together (``card_payments_apply_locked``,
    the same rows as one by one), every other outcome by ``_settle_locked``."""
    succeeded = [
        (call, result)
        for call, result in outcomes
        if call.status in IN_FLIGHT
        and call.invoice_id is not None
        and result is not None
        and result.succeeded
    ]
    paid = card_payments_apply_locked(
        actor=actor,
        charges=[
            CardCharge(
                customer=customers[call.customer_id],
                invoice_id=call.invoice_id,
                money=Money.from_minor(call.amount_minor, call.currency),
                card=call.card,
            )
            for call, _ in succeeded
        ],
    )
    now = clock.now()
    for (call, result), payment in zip(succeeded, paid, strict=True):
        _record_answer(call, result, now)
        call.status = CallStatus.SUCCEEDED
        call.payment = payment.payment
    GatewayCall.objects.bulk_update(
        [call for call, _ in succeeded],
        ["status", "completed_at", "charge_id", "response", "payment"],
    )
    AuditEvent.objects.bulk_create(
        [audit_event(actor=actor, **_charge_audit(call)) for call, _ in succeeded]
    )
    recorded = {call.pk for call, _ in succeeded}
    return [
        call
        if call.pk in recorded
        else _settle_locked(
            actor=actor, customer=customers[call.customer_id], call=call, result=result
        )
        for call, result in outcomes
    ]


def charge_invoice(
    *,
    actor: Actor,
    invoice_id: int,
    amount: Money | None = None,
    card: PaymentMethod | None = None,
    customer_id: int | None = None,
) -> GatewayCall | None:
    """Charge (part of) an invoice's balance to a card (the default card
    unless one is given). Returns the settled call, or None if nothing was
    owed or there is no card. ``customer_id``: the invoice's, if known."""
    require(actor, "card.charge")
    call = _start(
        actor=actor, invoice_id=invoice_id, amount=amount, card=card, customer_id=customer_id
    )
    if call is None:
        return None
    return settle(
        actor=actor, call_id=call.pk, result=_call_gateway(call), customer_id=call.customer_id
    )


def reconcile(*, actor: Actor) -> int:
    """Settle every unknown call, and every pending call old enough to have
    been abandoned by a crash, from what the gateway says about its key."""
    gateway = get_gateway()
    cutoff = clock.now() - STALE_PENDING
    calls = GatewayCall.objects.filter(kind=GatewayCall.Kind.CHARGE).filter(
        status=CallStatus.UNKNOWN
    ) | GatewayCall.objects.filter(
        kind=GatewayCall.Kind.CHARGE, status=CallStatus.PENDING, created_at__lt=cutoff
    )
    settled = 0
    for call in calls.order_by("id"):
        result = gateway.charge_status(idempotency_key=call.idempotency_key)
        if result.status == "not_found":
            result = ChargeResult(status="failed", message=NEVER_RECEIVED)
        settle(actor=actor, call_id=call.pk, result=result)
        settled += 1
    return settled


def due_for_collection(date: dt.date) -> list[int]:
    """Open auto-debit invoices due on or before ``date`` whose next attempt
    has come: never tried, or softly declined with a retry date reached, and
    nothing in flight. A hard decline waits for a new card. Three queries per
    thousand invoices."""
    ids = []
    invoices = list(
        Invoice.objects.filter(
            status__in=OPEN_STATUSES,
            due_date__lte=date,
            customer__payment_method=PaymentPreference.CARD,
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
    on file (the customer was asked for one)."""
    return {"charged": 0, "declined": 0, "unknown": 0, "not_sent": 0, "no_card": 0}


def collect_due(*, actor: Actor, date: dt.date) -> dict:
    """The billing run's collection step (in one process; with workers the
    ids go to the collection queue in chunks: isocnet.payments.tasks)."""
    return collect_invoices(actor=actor, invoice_ids=due_for_collection(date))


def collect_invoices(*, actor: Actor, invoice_ids) -> dict:
    """Charge each of these invoices (the three steps above, a batch of
    ``settings.COLLECTION_BATCH`` at a time), then render the receipts of
    what was charged, so that their emails go out quickly."""
    require(actor, "card.charge")
    counts = collection_counts()
    paid: list[int] = []
    batch: list[tuple[int, int]] = []
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
            _charge_batch(actor=actor, invoices=batch, counts=counts, paid=paid)
            batch = []
    _charge_batch(actor=actor, invoices=batch, counts=counts, paid=paid)
    _render_receipts(paid)
    return counts


# A batch's pending calls must reach the gateway well before reconciliation
# could take them for abandoned (STALE_PENDING): those a slow gateway leaves
# unsent past this are settled as never sent, and the next run tries again.
SEND_WITHIN = STALE_PENDING / 2
NOT_SENT = "not sent: the gateway was too slow for the rest of the batch"


def _charge_batch(*, actor: Actor, invoices, counts: dict, paid: list) -> None:
    if not invoices:
        return
    calls = _start_many(actor=actor, invoices=invoices)
    started = time.monotonic()
    outcomes = []
    for call in calls:
        if time.monotonic() - started > SEND_WITHIN.total_seconds():
            outcomes.append((call, ChargeResult(status="failed", message=NOT_SENT)))
        else:
            outcomes.append((call, _call_gateway(call)))
    # The gateway has answered: what it took must be recorded now, so a lost
    # connection is retried here (settling is idempotent) rather than left
    # for the next morning's reconciliation.
    settled = resuming(
        lambda: _settle_many(actor=actor, outcomes=outcomes),
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
    from isocnet.documents.receipts import receipt_pdfs_render

    try:
        receipt_pdfs_render(payment_ids=payment_ids)
    except Exception:  # never fails the collection: the email renders it on send
        log.exception("rendering %s receipts ahead of their emails failed", len(payment_ids))


def process_webhook(*, gateway_name: str, event) -> str:
    """Apply a verified gateway event once, however often it arrives."""
    from django.db import IntegrityError

    actor = Actor(f"webhook:{gateway_name}")
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                gateway=gateway_name,
                event_id=event.id,
                type=event.type,
                payload=event.data,
                received_at=clock.now(),
            )
    except IntegrityError:
        return "duplicate: already processed"
    outcome = "ignored"
    key = event.data.get("idempotency_key", "")
    call = GatewayCall.objects.filter(idempotency_key=key).first()
    if call is not None and event.type in {"charge.succeeded", "charge.failed"}:
        result = get_gateway().charge_status(
            idempotency_key=key
        )  # trust the gateway, not the payload
        settled = settle(actor=actor, call_id=call.pk, result=result)
        outcome = f"call {call.pk}: {settled.status}"
    WebhookEvent.objects.filter(pk=row.pk).update(outcome=outcome)
    return outcome
