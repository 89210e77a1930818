"""Gateway calls that charge a card, steps 1 and 2 of the three (see
payments.settling for step 3): committed pending, with their idempotency
key, under the customer's lock before the gateway is asked; then asked,
outside any transaction. What a customer owes less what calls in flight
are taking is what may be charged (in_flight_minor)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Q

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.errors import Conflict, InvalidInput
from isocnet.core.money import Money
from isocnet.customers.services import customer_lock, customers_lock
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.payments.gateways import get_gateway
from isocnet.payments.gateways.base import ChargeResult, GatewayError, GatewayTimeout
from isocnet.payments.models import (
    CallStatus,
    GatewayCall,
    PaymentMethod,
)

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


def charge_start(
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


def gateway_call_new(
    *,
    actor: Actor,
    kind: str,
    key: str,
    customer,
    card,
    money: Money,
    description: str = "",
    source: str = "",
    invoice=None,
    attempt: int = 1,
    **extra,
) -> GatewayCall:
    """A pending gateway call (unsaved) and the request it records (tokens
    only, never card data): every charge (auto debit, staff, the portal)
    and every refund is made through one of these, committed before the
    gateway is asked. ``extra``: more model fields (``charge_id``,
    ``refund``, ``refund_of``) and request entries (anything else)."""
    fields = {k: extra.pop(k) for k in ("charge_id", "refund", "refund_of") if k in extra}
    request = {
        "operation": kind,
        "amount_minor": money.minor(),
        "currency": money.currency,
        "idempotency_key": key,
    }
    if kind == GatewayCall.Kind.CHARGE:
        request.update(card=card.token, description=description, source=source)
    else:
        request["charge_id"] = fields.get("charge_id", "")
    request.update(extra)
    return GatewayCall(
        kind=kind,
        gateway=card.gateway,
        idempotency_key=key,
        customer=customer,
        invoice=invoice,
        card=card,
        amount_minor=money.minor(),
        currency=money.currency,
        attempt=attempt,
        created_at=clock.now(),
        created_by=actor.label,
        request=request,
        **fields,
    )


def _new_call(*, actor, customer, invoice, card, charge: Money, earlier: list) -> GatewayCall:
    """The pending call (unsaved) for charging ``charge`` of ``invoice`` to
    ``card``; ``earlier``: the statuses of the invoice's earlier charges."""
    attempt = len(earlier) + 1
    return gateway_call_new(
        actor=actor,
        kind=GatewayCall.Kind.CHARGE,
        key=f"invoice:{invoice.pk}:charge:{attempt}",
        customer=customer,
        card=card,
        money=Money.from_minor(charge.minor(), invoice.currency),
        description=f"Invoice #{invoice.number}",
        source="auto_debit" if actor.label == "system" else "staff",
        invoice=invoice,
        attempt=attempt,
    )


def charges_start_many(*, actor: Actor, invoices: list[tuple[int, int]]) -> list[GatewayCall]:
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


def call_gateway(call: GatewayCall) -> ChargeResult | None:
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
