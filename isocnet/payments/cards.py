"""Cards on file: attached by gateway token, never by number."""

from __future__ import annotations

import re

from django.db import transaction

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.pan import card_number_in
from isocnet.core.permissions import require
from isocnet.customers.services import customer_lock
from isocnet.payments.gateways import get_gateway
from isocnet.payments.gateways.base import GatewayError
from isocnet.payments.models import PaymentMethod


def card_attach(
    *, actor: Actor, customer_id: int, token: str, make_default: bool = True, keep: bool = True
) -> PaymentMethod:
    """Attach the card behind a gateway token. ``keep=False``: a card used
    for one payment only; it is recorded (the payment names it) but not
    kept on file."""
    require(actor, "card.manage")
    if not isinstance(token, str) or not token.strip():
        raise InvalidInput(
            "is required: a token from the payment gateway's card form", field="token"
        )
    token = token.strip()
    if card_number_in(token):
        # never echo it back, never store or log it (tok_4111…, 4111…x as well)
        raise InvalidInput("send a gateway token, never a card number", field="token")
    if len(token) > 200 or not re.fullmatch(r"[A-Za-z0-9_]+", token):
        raise InvalidInput("is not a gateway token", field="token")
    gateway = get_gateway()
    with transaction.atomic():
        customer = customer_lock(customer_id)
        try:
            details = gateway.attach_card(token=token, customer_ref=customer.account_number)
        except GatewayError as exc:
            raise InvalidInput(str(exc), field="token") from None
        has_default = PaymentMethod.objects.defaults().filter(customer=customer).exists()
        make_default = keep and (make_default or not has_default)
        if make_default:  # the old default steps aside (a refused one too)
            PaymentMethod.objects.filter(
                customer=customer, is_default=True, removed_at__isnull=True
            ).update(is_default=False)
        card = PaymentMethod.objects.create(
            customer=customer,
            gateway=gateway.name,
            token=details.token,
            brand=details.brand,
            last4=details.last4,
            exp_month=details.exp_month,
            exp_year=details.exp_year,
            is_default=make_default,
            created_at=clock.now(),
            removed_at=None if keep else clock.now(),
        )
        audit_record(
            actor=actor,
            action="card.attach",
            obj=card,
            customer_id=customer.pk,
            after={
                "brand": card.brand,
                "last4": card.last4,
                "default": card.is_default,
                "kept_on_file": keep,
            },
        )
    return card


def card_remove(*, actor: Actor, customer_id: int, card_id: int) -> PaymentMethod:
    require(actor, "card.manage")
    with transaction.atomic():
        card = _card_locked(customer_id, card_id)
        was_default = card.is_default
        card.removed_at = clock.now()
        card.is_default = False
        card.save(update_fields=["removed_at", "is_default"])
        if was_default:
            newest = (
                PaymentMethod.objects.filter(
                    customer_id=customer_id, removed_at__isnull=True, refused_at__isnull=True
                )
                .order_by("-id")
                .first()
            )
            if newest:
                PaymentMethod.objects.filter(pk=newest.pk).update(is_default=True)
        audit_record(
            actor=actor,
            action="card.remove",
            obj=card,
            customer_id=customer_id,
            after={"brand": card.brand, "last4": card.last4},
        )
    return card


def card_set_default(*, actor: Actor, customer_id: int, card_id: int) -> PaymentMethod:
    require(actor, "card.manage")
    with transaction.atomic():
        card = _card_locked(customer_id, card_id)
        if card.is_default:
            raise Conflict("this card is already the default", field="card")
        PaymentMethod.objects.filter(customer_id=customer_id, is_default=True).update(
            is_default=False
        )
        PaymentMethod.objects.filter(pk=card.pk).update(is_default=True)
        card.is_default = True
        audit_record(
            actor=actor,
            action="card.default",
            obj=card,
            customer_id=customer_id,
            after={"brand": card.brand, "last4": card.last4},
        )
    return card


def _card_locked(customer_id: int, card_id: int) -> PaymentMethod:
    """Lock the customer; the live card of theirs, or 404."""
    customer_lock(customer_id)
    card = PaymentMethod.objects.filter(
        pk=card_id, customer_id=customer_id, removed_at__isnull=True
    ).first()
    if card is None:
        raise NotFound(f"no card {card_id} on this account", field="card")
    return card
