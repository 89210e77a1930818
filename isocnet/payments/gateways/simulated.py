"""The gateway of a simulation (core.simulation): every charge succeeds
and nothing leaves the process. A customer's timeline assumes the card on
file is charged as scheduled."""

from __future__ import annotations

from isocnet.payments.gateways.base import ChargeResult, GatewayError, RefundResult


class SimulatedGateway:
    name = "simulated"

    def attach_card(self, *, token: str, customer_ref: str):
        raise GatewayError("no cards are attached in a simulation")

    def charge(self, *, card_token, amount_minor, currency, idempotency_key, description=""):
        return ChargeResult(status="succeeded", charge_id=f"sim_{idempotency_key}")

    def refund(self, *, charge_id, amount_minor, idempotency_key):
        return RefundResult(status="succeeded", refund_id=f"sim_{idempotency_key}")

    def charge_status(self, *, idempotency_key):
        return ChargeResult(status="not_found")

    def parse_webhook(self, *, payload, signature):
        raise GatewayError("no webhooks in a simulation")

    def card_form_url(self, *, return_path, state):
        raise GatewayError("no card form in a simulation")
