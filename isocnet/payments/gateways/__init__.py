"""Payment gateways behind one small interface (base.Gateway)."""

from __future__ import annotations

from isocnet.core import simulation
from isocnet.payments.gateways.base import Gateway


def get_gateway() -> Gateway:
    """The configured gateway (PAYMENT_GATEWAY). Cheap to make: no state."""
    from django.conf import settings

    if simulation.active():  # a timeline's run ahead of time: nobody is charged
        from isocnet.payments.gateways.simulated import SimulatedGateway

        return SimulatedGateway()
    # Imported on first use: the Stripe SDK only when it is the one configured.
    if settings.PAYMENT_GATEWAY == "stripe":
        from isocnet.payments.gateways.stripe_gateway import StripeGateway

        return StripeGateway()
    from isocnet.payments.gateways.sandbox import SandboxGateway

    return SandboxGateway()
