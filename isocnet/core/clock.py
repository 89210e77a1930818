"""The one source of "now" and "today" for everything that matters to billing.

Tests and the CLI's ``--date`` travel in time with :func:`frozen_at`. The
override is process-wide (not per thread) on purpose: worker threads started
by a test see the same day as the test.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

_lock = threading.Lock()
_frozen: dt.datetime | None = None


def _zone() -> ZoneInfo:
    from django.conf import settings

    return ZoneInfo(settings.TIME_ZONE)


def now() -> dt.datetime:
    """Aware UTC datetime."""
    frozen = _frozen
    if frozen is not None:
        return frozen
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """The business date in the provider's TIME_ZONE."""
    return now().astimezone(_zone()).date()


def localdate(moment: dt.datetime) -> dt.date:
    """The business date (in the provider's TIME_ZONE) of an aware moment."""
    return moment.astimezone(_zone()).date()


def _as_aware(moment: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            raise ValueError("frozen_at needs an aware datetime or a date")
        return moment.astimezone(dt.UTC)
    # A bare date means noon on that day in the provider's time zone.
    return dt.datetime.combine(moment, dt.time(12, 0), tzinfo=_zone()).astimezone(dt.UTC)


@contextmanager
def frozen_at(moment: dt.date | dt.datetime) -> Iterator[dt.datetime]:
    """Make now()/today() return a fixed moment inside the block."""
    global _frozen
    with _lock:
        previous = _frozen
        _frozen = _as_aware(moment)
    try:
        yield _frozen
    finally:
        with _lock:
            _frozen = previous
