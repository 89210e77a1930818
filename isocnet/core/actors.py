"""Who did it: carried into every service call that changes state, and into
the audit row it writes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    label: str  # "system", "staff:alice", "api:ops-script", "customer:C100042"
    user_id: int | None = None

    @classmethod
    def staff(cls, user) -> Actor:
        return cls(f"staff:{user.get_username()}", user.pk)

    @classmethod
    def api(cls, token_name: str) -> Actor:
        return cls(f"api:{token_name}")


SYSTEM = Actor("system")
