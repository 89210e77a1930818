"""Step 3 of a card charge: recording what the gateway answered, once,
whoever reports it (the charge itself, reconciliation, a webhook):
succeeded (a payment recorded and applied, a receipt queued), declined
(the retry schedule, a Payment Failed email), failed, or unknown (to
reconcile). This module is the one writer of a charge call's status."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import InterfaceError, OperationalError, transaction

from isocnet.collections.policy import current as collections_policy
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_event, audit_record
from isocnet.core.events import event_emit
from isocnet.core.models import AuditEvent
from isocnet.core.money import Money
from isocnet.core.states import transition
from isocnet.customers.services import customer_lock, customers_lock
from isocnet.outbox.models import MessageKind
from isocnet.outbox.queue import notice_queue
from isocnet.payments.calls import IN_FLIGHT, NEVER_RECEIVED
from isocnet.payments.gateways.base import ChargeResult
from isocnet.payments.models import (
    CALL_TRANSITIONS,
    CallStatus,
    GatewayCall,
    PaymentKind,
    PaymentMethod,
)
from isocnet.payments.services import CardCharge, apply_payment_locked, card_payments_apply_locked

log = logging.getLogger(__name__)


def call_status_move(call: GatewayCall, new: str) -> None:
    """The one way a gateway call's status moves (CALL_TRANSITIONS)."""
    call.status = transition(call.status, new, CALL_TRANSITIONS, what="a gateway call")


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


def settle_many(
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
        call_status_move(call, CallStatus.UNKNOWN)
        call.response = {"status": "no answer (timeout)"}
        call.save(update_fields=["status", "response"])
        return call
    _record_answer(call, result, now)
    if result.succeeded:
        call_status_move(call, CallStatus.SUCCEEDED)
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
        call_status_move(call, CallStatus.DECLINED)
        call.decline_code = result.decline_code
        call.hard_decline = result.hard_decline
        call.message = result.message[:300]
        if result.hard_decline and call.card_id:
            # never charged again: auto debit waits for a new card
            PaymentMethod.objects.filter(pk=call.card_id, refused_at__isnull=True).update(
                refused_at=now, refused_reason=call.message
            )
        if not call.customer_initiated:
            # Auto debit: retry on schedule and tell the customer. A payment
            # the customer makes in the portal is answered on screen instead.
            schedule = collections_policy().card_retry_days
            if not result.hard_decline and call.attempt <= len(schedule):
                call.next_retry_on = clock.today() + dt.timedelta(days=schedule[call.attempt - 1])
            event_emit(
                "payment.failed",
                customer_id=customer.pk,
                data={
                    "customer_id": customer.pk,
                    "invoice_id": call.invoice_id,
                    "amount": Money.from_minor(call.amount_minor, call.currency).as_string(),
                    "currency": call.currency,
                    "card": str(call.card),
                    "reason": call.message,
                    "decline_code": call.decline_code,
                    "next_retry_on": call.next_retry_on.isoformat() if call.next_retry_on else None,
                },
            )
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
        call_status_move(call, CallStatus.FAILED)
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
        call_status_move(call, CallStatus.SUCCEEDED)
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
