"""The Stripe adapter (official `stripe` package).

- A card is a Stripe PaymentMethod (``pm_…``) collected by Stripe Elements or
  a SetupIntent in the browser; we attach it to a Stripe Customer made for the
  account and keep ``cus_…:pm_…`` as our token (never a number).
- Auto debit is an off-session PaymentIntent, confirmed at once, with our
  idempotency key as Stripe's Idempotency-Key and in its metadata
  (``isocnet_key``), so that reconciliation can find it with the Search API.
- Refunds go through /v1/refunds with their own idempotency key.
- Webhooks are verified with Stripe's signature scheme (stripe.Webhook).
"""

from __future__ import annotations

import stripe
from django.conf import settings

from isocnet.payments.gateways.base import (
    CardDetails,
    ChargeResult,
    GatewayError,
    GatewayTimeout,
    RefundResult,
    WebhookEvent,
)

HARD_DECLINES = {
    "expired_card",
    "stolen_card",
    "lost_card",
    "pickup_card",
    "incorrect_number",
    "invalid_account",
    "card_not_supported",
}


class StripeGateway:
    name = "stripe"

    def __init__(self) -> None:
        base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
        self.client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY, base_addresses=base, max_network_retries=0
        )

    def attach_card(self, *, token: str, customer_ref: str) -> CardDetails:
        try:
            customer = self.client.v1.customers.create(
                params={"metadata": {"account": customer_ref}}
            )
            self.client.v1.payment_methods.attach(token, params={"customer": customer.id})
            pm = self.client.v1.payment_methods.retrieve(token)
        except stripe.StripeError as exc:
            raise GatewayError(exc.user_message or str(exc)) from None
        card = pm.card
        return CardDetails(
            token=f"{customer.id}:{pm.id}",
            brand=str(card.brand).title(),
            last4=card.last4,
            exp_month=int(card.exp_month),
            exp_year=int(card.exp_year),
        )

    def charge(
        self,
        *,
        card_token: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        description: str = "",
    ) -> ChargeResult:
        customer_id, _, pm_id = card_token.partition(":")
        params = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": pm_id,
            "off_session": True,
            "confirm": True,
            "description": description,
            "metadata": {"isocnet_key": idempotency_key},
        }
        try:
            intent = self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError as exc:
            code = (exc.error.decline_code if exc.error else None) or exc.code or "card_declined"
            intent = getattr(exc.error, "payment_intent", None) if exc.error else None
            return ChargeResult(
                status="declined",
                charge_id=getattr(intent, "id", "") or "",
                decline_code=code,
                message=exc.user_message or "Your card was declined.",
                hard_decline=code in HARD_DECLINES,
            )
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise GatewayTimeout(str(exc)) from None
        except stripe.StripeError as exc:
            raise GatewayError(exc.user_message or str(exc)) from None
        return self._intent_result(intent)

    def charge_status(self, *, idempotency_key: str) -> ChargeResult:
        try:
            found = self.client.v1.payment_intents.search(
                params={"query": f"metadata['isocnet_key']:'{idempotency_key}'"}
            )
        except stripe.StripeError as exc:
            raise GatewayTimeout(str(exc)) from None
        if not found.data:
            return ChargeResult(status="not_found")
        return self._intent_result(found.data[0])

    def refund(self, *, charge_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": charge_id, "amount": amount_minor},
                options={"idempotency_key": idempotency_key},
            )
        except (stripe.APIConnectionError, stripe.APIError) as exc:
            raise GatewayTimeout(str(exc)) from None
        except stripe.StripeError as exc:
            return RefundResult(status="failed", message=exc.user_message or str(exc))
        ok = refund.status in {"succeeded", "pending"}
        return RefundResult(
            status="succeeded" if ok else "failed", refund_id=refund.id, message=refund.status
        )

    def parse_webhook(self, *, payload: bytes, signature: str) -> WebhookEvent:
        try:
            event = stripe.Webhook.construct_event(
                payload, signature, settings.STRIPE_WEBHOOK_SECRET
            )
        except (ValueError, stripe.SignatureVerificationError) as exc:
            raise GatewayError(str(exc)) from None
        obj = event.data.object.to_dict()
        kinds = {
            "payment_intent.succeeded": "charge.succeeded",
            "payment_intent.payment_failed": "charge.failed",
        }
        metadata = obj.get("metadata") or {}
        return WebhookEvent(
            id=event.id,
            type=kinds.get(event.type, event.type),
            data={
                "charge_id": obj.get("id", ""),
                "idempotency_key": metadata.get("isocnet_key", ""),
            },
        )

    @staticmethod
    def _intent_result(intent) -> ChargeResult:
        if intent.status == "succeeded":
            return ChargeResult(status="succeeded", charge_id=intent.id)
        error = intent.to_dict().get("last_payment_error") or {}
        code = error.get("decline_code") or error.get("code") or intent.status
        return ChargeResult(
            status="declined",
            charge_id=intent.id,
            decline_code=code,
            message=error.get("message") or "Your card was declined.",
            hard_decline=code in HARD_DECLINES,
        )
