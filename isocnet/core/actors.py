"""Who did it: carried into every service call that changes state, and into
the audit row it writes."""

from __future__ import annotations

from dataclasses import dataclass

from isocnet.core.permissions import role_of


@dataclass(frozen=True, slots=True)
class Actor:
    label: str  # "system", "staff:alice", "api:ops-script", "customer:C100042"
    user_id: int | None = None
    role: str | None = None  # staff: support, clerk or manager (core.permissions)

    @classmethod
    def staff(cls, user) -> Actor:

        return cls(f"staff:{user.get_username()}", user.pk, role_of(user))

    @classmethod
    def api(cls, token_name: str) -> Actor:
        return cls(f"api:{token_name}")


SYSTEM = Actor("system")
