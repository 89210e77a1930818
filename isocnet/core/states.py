"""State machines as data: each status has a table of the moves it allows
(``{from: frozenset(to, …)}``), and the one service that owns a status
moves it only through ``transition`` (docs/architecture.md, "Who writes
each state")."""

from __future__ import annotations

from collections.abc import Mapping

from isocnet.core.errors import Conflict


def transition(current: str, new: str, table: Mapping[str, frozenset[str]], *, what: str) -> str:
    """``new`` if the table allows ``current`` → ``new`` (staying put is
    always allowed); else a Conflict naming ``what``."""
    if new != current and new not in table[current]:
        raise Conflict(f"{what} cannot go from {current} to {new}", field="status")
    return new
