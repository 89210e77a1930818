"""The sandbox gateway: the embedded default, clearly test mode. It behaves
like a real processor with Stripe-style test tokens and card numbers, honours
idempotency keys, keeps its own ledger (payments.SandboxCharge) and signs its
webhooks (HMAC-SHA256, ``t=<unix>,v1=<hex>``).

| token | card number | result |
|---|---|---|
| tok_visa | 4242 4242 4242 4242 | succeeds |
| tok_mastercard | 5555 5555 5555 4444 | succeeds |
| tok_chargeDeclined | 4000 0000 0000 0002 | declined (generic_decline) |
| tok_chargeDeclinedInsufficientFunds | 4000 0000 0000 9995 | declined (insufficient_funds) |
| tok_chargeDeclinedExpiredCard | 4000 0000 0000 0069 | declined (expired_card, hard) |
| tok_chargeDeclinedStolenCard | 4000 0000 0000 9979 | declined (stolen_card, hard) |
| tok_timeoutAfterCharge | 4000 0000 0000 0077 | charges, then times out |

Card numbers reach only the sandbox's hosted form (payments.sandbox_views),
which answers with a one-time token; our models and logs never see them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

from django.db import IntegrityError, transaction

from isocnet.core import clock
from isocnet.payments.gateways.base import (
    CardDetails,
    ChargeResult,
    GatewayError,
    GatewayTimeout,
    RefundResult,
    WebhookEvent,
)
from isocnet.payments.sandbox_models import SandboxCard, SandboxCharge, SandboxRefund, SandboxToken

TEST_CARDS = {
    "tok_visa": ("Visa", "4242", "ok", "4242424242424242"),
    "tok_mastercard": ("Mastercard", "4444", "ok", "5555555555554444"),
    "tok_chargeDeclined": ("Visa", "0002", "generic_decline", "4000000000000002"),
    "tok_chargeDeclinedInsufficientFunds": (
        "Visa",
        "9995",
        "insufficient_funds",
        "4000000000009995",
    ),
    "tok_chargeDeclinedExpiredCard": ("Visa", "0069", "expired_card", "4000000000000069"),
    "tok_chargeDeclinedStolenCard": ("Visa", "9979", "stolen_card", "4000000000009979"),
    "tok_timeoutAfterCharge": ("Visa", "0077", "timeout_after_charge", "4000000000000077"),
    "tok_timeoutBeforeCharge": ("Visa", "0085", "timeout_before_charge", "4000000000000085"),
    "tok_serverError": ("Visa", "0119", "server_error", "4000000000000119"),
}
# Faults where nothing is charged and the caller gets no answer it can trust.
NO_ANSWER = {
    "timeout_before_charge": "the sandbox did not answer (no charge was made)",
    "server_error": "HTTP 500 from the sandbox (no charge was made)",
}
BY_NUMBER = {number: token for token, (_, _, _, number) in TEST_CARDS.items()}
HARD_DECLINES = {"expired_card", "stolen_card", "lost_card", "pickup_card", "incorrect_number"}
DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "stolen_card": "Your card was declined.",
}
SIGNATURE_TOLERANCE = 300


def _network_latency() -> None:
    """A real processor's round trip (SANDBOX_LATENCY_MS, default 0): how
    auto debit is measured against a gateway that is not in this process."""
    from django.conf import settings

    if settings.SANDBOX_LATENCY_MS:
        time.sleep(settings.SANDBOX_LATENCY_MS / 1000)


def _secret() -> bytes:
    from django.conf import settings

    return settings.SANDBOX_WEBHOOK_SECRET.encode()


def mint_token(*, number: str, exp_month: int, exp_year: int) -> str:
    """The hosted form's back end: a card number in, a one-time token out.
    Unknown numbers behave like 4242 (any valid test card succeeds)."""
    behaviour_token = BY_NUMBER.get(number, "tok_visa")
    brand, _last4, behaviour, _ = TEST_CARDS[behaviour_token]
    token = f"tok_sbx_{secrets.token_hex(12)}"
    SandboxToken.objects.create(
        token=token,
        behaviour=behaviour,
        brand=_brand_of(number) or brand,
        last4=number[-4:],
        exp_month=exp_month,
        exp_year=exp_year,
        created_at=clock.now(),
    )
    return token


def _brand_of(number: str) -> str:
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or (
        number[:4].isdigit() and 2221 <= int(number[:4]) <= 2720
    ):
        return "Mastercard"
    if number[:2] in {"34", "37"}:
        return "American Express"
    if number.startswith(("6011", "65")):
        return "Discover"
    return ""


class SandboxGateway:
    name = "sandbox"

    def card_form_url(self, *, return_path: str, state: str) -> str:
        from urllib.parse import urlencode

        from django.urls import reverse

        return (
            reverse("sandbox-card-form") + "?" + urlencode({"return": return_path, "state": state})
        )

    def attach_card(self, *, token: str, customer_ref: str) -> CardDetails:
        now = clock.now()
        if token in TEST_CARDS:
            brand, last4, behaviour, _ = TEST_CARDS[token]
            exp_month, exp_year = 12, now.year + 3
        else:
            minted = SandboxToken.objects.filter(token=token, used=False).first()
            if minted is None:
                raise GatewayError(f"no such token {token!r} (tokens are single use)")
            SandboxToken.objects.filter(pk=minted.pk).update(used=True)
            brand, last4, behaviour = minted.brand, minted.last4, minted.behaviour
            exp_month, exp_year = minted.exp_month, minted.exp_year
        pm_id = f"pm_sbx_{secrets.token_hex(12)}"
        SandboxCard.objects.create(
            pm_id=pm_id,
            behaviour=behaviour,
            brand=brand,
            last4=last4,
            exp_month=exp_month,
            exp_year=exp_year,
            created_at=now,
        )
        return CardDetails(
            token=pm_id, brand=brand, last4=last4, exp_month=exp_month, exp_year=exp_year
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
        _network_latency()
        existing = SandboxCharge.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.amount_minor != amount_minor or existing.pm_id != card_token:
                raise GatewayError("idempotency key reused with different parameters")
            return self._result(existing)
        card = SandboxCard.objects.filter(pm_id=card_token).first()
        if card is None:
            raise GatewayError(f"no such payment method {card_token!r}")
        if amount_minor <= 0:
            raise GatewayError("amount must be positive")
        if card.behaviour in NO_ANSWER:  # as Stripe's 5xx: the outcome is not known to the caller
            raise GatewayTimeout(NO_ANSWER[card.behaviour])
        declined = card.behaviour not in {"ok", "timeout_after_charge"}
        try:
            with transaction.atomic():
                row = SandboxCharge.objects.create(
                    charge_id=f"ch_sbx_{secrets.token_hex(12)}",
                    idempotency_key=idempotency_key,
                    pm_id=card_token,
                    amount_minor=amount_minor,
                    currency=currency,
                    status="declined" if declined else "succeeded",
                    decline_code=card.behaviour if declined else "",
                    created_at=clock.now(),
                )
        except IntegrityError:  # the same key at the same moment: one charge
            row = SandboxCharge.objects.get(idempotency_key=idempotency_key)
        if card.behaviour == "timeout_after_charge":
            raise GatewayTimeout("the sandbox charged the card and then did not answer")
        return self._result(row)

    def charge_status(self, *, idempotency_key: str) -> ChargeResult:
        _network_latency()
        row = SandboxCharge.objects.filter(idempotency_key=idempotency_key).first()
        if row is None:
            return ChargeResult(status="not_found")
        return self._result(row)

    def refund(self, *, charge_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        existing = SandboxRefund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return RefundResult(status="succeeded", refund_id=existing.refund_id)
        with transaction.atomic():
            charge = SandboxCharge.objects.select_for_update().filter(charge_id=charge_id).first()
            if charge is None or charge.status != "succeeded":
                return RefundResult(status="failed", message="no such successful charge")
            if charge.refunded_minor + amount_minor > charge.amount_minor:
                return RefundResult(status="failed", message="refund exceeds the charge")
            charge.refunded_minor += amount_minor
            charge.save(update_fields=["refunded_minor"])
            row = SandboxRefund.objects.create(
                refund_id=f"re_sbx_{secrets.token_hex(12)}",
                idempotency_key=idempotency_key,
                charge_id=charge_id,
                amount_minor=amount_minor,
                created_at=clock.now(),
            )
        return RefundResult(status="succeeded", refund_id=row.refund_id)

    # -- webhooks -------------------------------------------------------------
    def sign(self, payload: bytes, timestamp: int | None = None) -> str:
        timestamp = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new(_secret(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={mac}"

    def event_for(self, charge: SandboxCharge) -> tuple[bytes, str]:
        """The webhook the sandbox sends for a charge (tests and the sandbox UI)."""
        event = {
            "id": f"evt_sbx_{hashlib.sha256(charge.charge_id.encode()).hexdigest()[:24]}",
            "type": "charge.succeeded" if charge.status == "succeeded" else "charge.failed",
            "data": {
                "charge_id": charge.charge_id,
                "idempotency_key": charge.idempotency_key,
                "amount_minor": charge.amount_minor,
                "currency": charge.currency,
            },
        }
        payload = json.dumps(event).encode()
        return payload, self.sign(payload)

    def parse_webhook(self, *, payload: bytes, signature: str) -> WebhookEvent:
        try:
            parts = dict(item.split("=", 1) for item in signature.split(","))
            timestamp = int(parts["t"])
            given = parts["v1"]
        except (ValueError, KeyError):
            raise GatewayError("malformed signature header") from None
        expected = hmac.new(
            _secret(), f"{timestamp}.".encode() + payload, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, given):
            raise GatewayError("bad signature")
        if abs(time.time() - timestamp) > SIGNATURE_TOLERANCE:
            raise GatewayError("signature timestamp outside the tolerance")
        try:
            body = json.loads(payload)
            return WebhookEvent(id=body["id"], type=body["type"], data=body["data"])
        except (ValueError, KeyError, TypeError):
            raise GatewayError("malformed event") from None

    @staticmethod
    def _result(row: SandboxCharge) -> ChargeResult:
        if row.status == "succeeded":
            return ChargeResult(status="succeeded", charge_id=row.charge_id)
        return ChargeResult(
            status="declined",
            charge_id=row.charge_id,
            decline_code=row.decline_code,
            message=DECLINE_MESSAGES.get(row.decline_code, "Your card was declined."),
            hard_decline=row.decline_code in HARD_DECLINES,
        )
