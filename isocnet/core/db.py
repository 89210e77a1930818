"""Database work that outlives an operational error."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)
T = TypeVar("T")


CONNECTION_RETRIES = 3


def resuming(work: Callable[[], T], *, what: str) -> T:
    """``work()``, tried again on a sound connection after an operational
    database error: a lost connection (a restarted or failed-over server, a
    terminated backend), a deadlock, a serialization failure. Only for work
    that is safe to repeat: each transaction in it committed whole or not at
    all, and the next attempt re-reads what is still to do under the lock
    (a customer, a batch, the dunning step, collection), so a commit whose
    answer was lost does nothing twice."""
    for attempt in range(1, CONNECTION_RETRIES + 1):
        try:
            return work()
        except (OperationalError, InterfaceError) as exc:
            if attempt == CONNECTION_RETRIES:
                raise
            log.warning("%s: database error (%s); trying again", what, str(exc).strip()[:200])
            connection.close_if_unusable_or_obsolete()
            time.sleep(attempt)  # seconds: a restarting server needs a moment
    raise AssertionError("unreachable")
