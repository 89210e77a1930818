"""Payment gateways behind one small interface (base.Gateway)."""

from __future__ import annotations

from functools import lru_cache

from isocnet.payments.gateways.base import Gateway


@lru_cache(maxsize=1)
def _gateway(name: str) -> Gateway:
    if name == "sandbox":
        from isocnet.payments.gateways.sandbox import SandboxGateway

        return SandboxGateway()
    raise ValueError(f"unknown payment gateway {name!r}")


def get_gateway() -> Gateway:
    from django.conf import settings

    return _gateway(settings.PAYMENT_GATEWAY)
