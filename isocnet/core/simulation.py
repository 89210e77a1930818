"""A simulation: the real code run ahead of time inside a transaction that
is rolled back (operations.timeline). While one is active, gapless series
hand out placeholder numbers without touching their counters (so a preview
never holds the numbering lock nor shows a number a real invoice will
take), and the payment gateway is one that approves every charge and
contacts nobody."""

from __future__ import annotations

import contextlib
import contextvars
import itertools

_active: contextvars.ContextVar[bool] = contextvars.ContextVar("simulating", default=False)
_placeholder = itertools.count(1)

# Far above any real series: a placeholder never equals a real number.
PLACEHOLDER_BASE = 900_000_000


def active() -> bool:
    return _active.get()


@contextlib.contextmanager
def simulating():
    token = _active.set(True)
    try:
        yield
    finally:
        _active.reset(token)


def placeholders(count: int) -> range:
    first = PLACEHOLDER_BASE + next(_placeholder) * 1000
    return range(first, first + count)
