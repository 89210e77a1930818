"""Charging a card, as staff or the API do ("charge the card on file"),
reconciling what is in doubt, and gateway webhooks. A charge takes three
steps, so that a crash or a timeout can never charge twice:

1. in a transaction, under the customer lock: check what is owed (less
   what calls in flight are taking), commit a *pending* GatewayCall with
   its idempotency key (``invoice:<id>:charge:<n>``) — payments.calls;
2. outside any transaction: ask the gateway to charge, with that key —
   payments.calls;
3. in a transaction, under the lock: settle the call — succeeded (a payment
   is recorded and applied, a receipt queued), declined (retry schedule,
   "Payment Failed" email), or *unknown* (a timeout) — payments.settling.

Unknown and stale pending calls are reconciled by asking the gateway about
the key (``isocnet reconcile``, and at the start of every billing run): the
charge is settled once, or found never to have happened. A webhook for the
charge settles it the same way. Nothing is blindly retried. Auto debit in
batches is isocnet.operations.auto_debit.
"""

from __future__ import annotations

import logging

from django.db import transaction

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.payments.calls import NEVER_RECEIVED, STALE_PENDING, call_gateway, charge_start
from isocnet.payments.gateways import get_gateway
from isocnet.payments.gateways.base import ChargeResult
from isocnet.payments.models import (
    CallStatus,
    GatewayCall,
    PaymentMethod,
    WebhookEvent,
)
from isocnet.payments.settling import settle

log = logging.getLogger(__name__)


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
    call = charge_start(
        actor=actor, invoice_id=invoice_id, amount=amount, card=card, customer_id=customer_id
    )
    if call is None:
        return None
    return settle(
        actor=actor, call_id=call.pk, result=call_gateway(call), customer_id=call.customer_id
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
