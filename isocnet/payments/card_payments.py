"""A card payment the customer makes (the portal's "Pay now").

One attempt = one idempotency key, chosen when the pay form is shown. The
key names the gateway call (``portal:<customer>:<attempt>``), which is
committed, pending, before the gateway is asked; pressing Pay twice, a
reload or two racing requests find that call and never charge again.
The three steps are those of payments.collection (commit pending → charge
→ settle), so a timeout is reconciled like any other charge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from isocnet.core import formatting
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.money import Money
from isocnet.core.validation import clean_money
from isocnet.customers.models import PaymentPreference
from isocnet.customers.services import customer_lock, customer_update
from isocnet.invoicing.models import OPEN_STATUSES, Invoice
from isocnet.payments.calls import call_gateway, gateway_call_new, in_flight_minor
from isocnet.payments.cards import card_attach, card_remove
from isocnet.payments.models import CUSTOMER_KEY_PREFIX, CallStatus, GatewayCall, PaymentMethod
from isocnet.payments.selectors import open_invoices_minor
from isocnet.payments.settling import settle

_ATTEMPT = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class PaymentRequest:
    """What the customer asked for, before a card is chosen."""

    amount: Money
    invoice_id: int | None  # None: the whole account, oldest invoices first
    owed: Money
    add_credit: bool


def attempt_key(customer_id: int, attempt: str) -> str:
    return f"{CUSTOMER_KEY_PREFIX}{customer_id}:{attempt}"


def attempt_seen(customer_id: int, attempt: str) -> bool:
    return GatewayCall.objects.filter(idempotency_key=attempt_key(customer_id, attempt)).exists()


def open_balance(customer_id: int, currency: str) -> Money:

    return Money.from_minor(open_invoices_minor(customer_id), currency)


def payment_request_clean(
    *, customer_id: int, amount, invoice_number: str | None, add_credit: bool, currency: str
) -> PaymentRequest:
    """Validate what the customer wants to pay. Raises InvalidInput naming
    the field. Pure read: the pay form calls it before the card step."""
    money = clean_money(amount, "amount", currency, allow_zero=False)
    invoice_id = None
    if invoice_number:
        invoice = Invoice.objects.filter(customer_id=customer_id, number=invoice_number).first()
        if invoice is None:
            raise NotFound(f"no invoice {invoice_number} on this account", field="invoice")
        if invoice.status not in OPEN_STATUSES or invoice.balance_minor == 0:
            raise InvalidInput(
                f"invoice #{invoice.number} has nothing left to pay", field="invoice"
            )
        invoice_id, owed = invoice.pk, invoice.balance
    else:
        owed = open_balance(customer_id, currency)
    if money > owed and not add_credit:
        raise InvalidInput(
            f"must not be more than the {formatting.money(owed)} owed (or choose to add the rest to "
            "your account credit)",
            field="amount",
        )
    return PaymentRequest(amount=money, invoice_id=invoice_id, owed=owed, add_credit=add_credit)


def card_payment_make(
    *,
    actor: Actor,
    customer_id: int,
    attempt: str,
    request: PaymentRequest,
    card_id: int | None = None,
    token: str | None = None,
    save_card: bool = False,
    auto_debit: bool = False,
) -> GatewayCall:
    """Charge ``request.amount`` to a saved card (``card_id``) or a new one
    (``token`` from the gateway's card form) and apply it. Returns the
    settled call (succeeded, declined, failed, or unknown: being confirmed
    with the gateway). Calling again with the same ``attempt`` returns the
    first call without charging."""
    if not isinstance(attempt, str) or not _ATTEMPT.fullmatch(attempt):
        raise InvalidInput(
            "is not a payment attempt of this form; reload the page", field="attempt"
        )
    key = attempt_key(customer_id, attempt)
    new_card = None
    try:
        with transaction.atomic():
            customer = customer_lock(customer_id)
            existing = GatewayCall.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return existing  # pressed twice: the first press stands
            card, new_card = _card_to_charge(actor, customer, card_id, token, save_card)
            invoice = None
            if request.invoice_id is not None:
                invoice = Invoice.objects.select_for_update().get(pk=request.invoice_id)
            _check_still_owed(customer, invoice, request)
            description = (
                f"Invoice #{invoice.number}" if invoice else f"Account {customer.account_number}"
            )
            call = gateway_call_new(
                actor=actor,
                kind=GatewayCall.Kind.CHARGE,
                key=key,
                customer=customer,
                card=card,
                money=request.amount,
                description=description,
                source="portal",
                invoice=invoice,
                apply_to=invoice.number if invoice else "account",
                add_credit=request.add_credit,
                save_card=save_card,
                auto_debit=auto_debit,
            )
            call.save(force_insert=True)
            audit_record(
                actor=actor,
                action="card.payment.start",
                obj=call,
                customer_id=customer.pk,
                after={
                    "amount": request.amount.as_string(),
                    "apply_to": call.request["apply_to"],
                    "card": str(card),
                    "key": key,
                },
            )
    except IntegrityError:
        # Two presses raced past the look-up (the unique key caught it).
        return GatewayCall.objects.get(idempotency_key=key)
    call = settle(actor=actor, call_id=call.pk, result=call_gateway(call))
    if call.status == CallStatus.SUCCEEDED and auto_debit and save_card:
        _auto_debit_on(actor=actor, customer_id=customer_id)
    elif call.status in (CallStatus.DECLINED, CallStatus.FAILED) and new_card and save_card:
        # Do not keep a card that was just refused.
        card_remove(actor=actor, customer_id=customer_id, card_id=new_card.pk)
    return call


def _card_to_charge(
    actor: Actor, customer, card_id: int | None, token: str | None, save_card: bool
) -> tuple[PaymentMethod, PaymentMethod | None]:
    """The card to charge: a saved one of this account's, or a new one from
    the gateway's card form (kept only if the customer asked). Returns it
    and, for a new card, the same card again."""
    if card_id is not None:
        card = PaymentMethod.objects.filter(
            pk=card_id, customer=customer, removed_at__isnull=True
        ).first()
        if card is None:
            raise NotFound(f"no card {card_id} on this account", field="card")
        return card, None
    if token:
        card = card_attach(
            actor=actor,
            customer_id=customer.pk,
            token=token,
            make_default=save_card,
            keep=save_card,
        )
        return card, card
    raise InvalidInput("choose a saved card or enter a new one", field="card")


def _check_still_owed(customer, invoice: Invoice | None, request: PaymentRequest) -> None:
    """Under the customer lock: what is owed now, less what card charges
    already in flight are taking, is what may be charged, unless the
    customer chose to keep any excess as account credit. The pay form was
    checked against the balance when it was shown; another tab, another
    device or the morning's auto debit may have paid it since."""
    if invoice is not None:
        owed_minor = invoice.balance_minor if invoice.status in OPEN_STATUSES else 0
        in_flight = in_flight_minor(customer.pk, invoice.pk)
    else:
        owed_minor = open_balance(customer.pk, customer.currency).minor()
        in_flight = in_flight_minor(customer.pk)
    left = Money.from_minor(max(owed_minor - in_flight, 0), customer.currency)
    if request.amount > left and not request.add_credit:
        being = (
            f"; {formatting.money(Money.from_minor(in_flight, customer.currency))} is being "
            "charged to a card right now"
            if in_flight
            else ""
        )
        raise Conflict(
            f"only {formatting.money(left)} is left to pay{being}: nothing was charged",
            field="amount",
        )


def _auto_debit_on(*, actor: Actor, customer_id: int) -> None:

    customer_update(
        actor=actor,
        customer_id=customer_id,
        changes={"payment_method": PaymentPreference.CARD},
    )


def auto_debit_set(*, actor: Actor, customer_id: int, enabled: bool) -> None:
    """Turn automatic card payment on (needs a card on file) or off. The
    invoice notice names the payment method from this."""

    with transaction.atomic():
        customer = customer_lock(customer_id)
        if enabled and not PaymentMethod.objects.defaults().filter(customer=customer).exists():
            raise Conflict("add a card first: auto debit charges your default card", field="card")
        want = PaymentPreference.CARD if enabled else PaymentPreference.CHECK
        if customer.payment_method != want:
            customer_update(actor=actor, customer_id=customer_id, changes={"payment_method": want})


def customer_card_remove(*, actor: Actor, customer_id: int, card_id: int) -> bool:
    """Remove a card; with the last card gone, auto debit has nothing to
    charge, so it is turned off (the invoice notice then names check or
    mail-in payment). Returns True when auto debit was turned off."""
    with transaction.atomic():
        customer = customer_lock(customer_id)
        card_remove(actor=actor, customer_id=customer_id, card_id=card_id)
        left = PaymentMethod.objects.filter(customer_id=customer_id, removed_at__isnull=True)
        if customer.auto_debit and not left.exists():
            auto_debit_set(actor=actor, customer_id=customer_id, enabled=False)
            return True
    return False
