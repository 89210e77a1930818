"""The gateway interface. Every gateway returns these dataclasses and never
raises for an expected outcome (a decline); it raises GatewayTimeout when the
outcome is unknown (the request may or may not have been carried out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class GatewayError(Exception):
    """The gateway refused the request itself (bad token, bad key)."""


class GatewayTimeout(Exception):
    """No answer: the charge may have happened. Reconcile, never retry blindly."""


@dataclass(frozen=True)
class CardDetails:
    token: str  # the gateway's reusable payment-method id
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ChargeResult:
    status: str  # succeeded | declined | not_found
    charge_id: str = ""
    decline_code: str = ""
    message: str = ""
    hard_decline: bool = False  # do not retry (stolen, expired, closed account)
    raw: dict = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class RefundResult:
    status: str  # succeeded | failed
    refund_id: str = ""
    message: str = ""
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str  # charge.succeeded, charge.failed, charge.refunded
    data: dict


class Gateway(Protocol):
    name: str

    def attach_card(self, *, token: str, customer_ref: str) -> CardDetails: ...

    def charge(
        self,
        *,
        card_token: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        description: str,
    ) -> ChargeResult: ...

    def refund(
        self, *, charge_id: str, amount_minor: int, idempotency_key: str
    ) -> RefundResult: ...

    def charge_status(self, *, idempotency_key: str) -> ChargeResult: ...

    def parse_webhook(self, *, payload: bytes, signature: str) -> WebhookEvent: ...

    def card_form_url(self, *, return_path: str, state: str) -> str:
        """Where the customer types a card number: the gateway's own hosted
        form, which sends them back to ``return_path?token=…&state=…``."""
        ...
