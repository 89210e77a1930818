"""Gateway calls side by side: a real processor answers a charge in a few
hundred milliseconds, nearly all of it waiting on the network, so auto debit
sends a batch's calls from a bounded set of threads (``AUTO_DEBIT_CONCURRENCY``)
paced to at most ``AUTO_DEBIT_RATE`` calls a second (default 80, under
Stripe's 100 operations a second in live mode). Only step 2 of the three-step
protocol (payments.calls) runs here: the pending calls were committed before
and are settled after, by the caller, so a crash or a fault in the middle
leaves what it always left — pending calls, settled by reconciliation from
the gateway's own record under their idempotency keys.

Each thread opens its own database connection when a call needs one
(Django's are per thread) and closes it when the call ends, so the pool
holds connections only for calls at work on the database. When the caller is inside a transaction (a
test's, say), rows it has not committed are invisible to other connections,
so the calls are made one after another on the caller's own thread instead;
so they are on an in-memory SQLite database (the tests'), which other
threads' connections cannot share.
The pacing is a dozen lines (one shared "next free slot" under a lock): no
library's blocking limiter was worth a dependency for it.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from django.db import connection, connections

log = logging.getLogger(__name__)


class Pacer:
    """At most ``rate`` starts a second, evenly spaced, across threads."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class _Latch:
    def __init__(self, count: int) -> None:
        self._count = count
        self._done = threading.Condition()

    def count_down(self) -> None:
        with self._done:
            self._count -= 1
            if self._count <= 0:
                self._done.notify_all()

    def wait(self) -> None:
        with self._done:
            while self._count > 0:
                self._done.wait()


class CallPool:
    """``map(fn, items)``: fn(item) for each item, at most ``size`` at once and
    ``rate`` starts a second; the results in the items' order. An exception
    in one call is raised by ``map`` once every call has ended. Use as a
    context manager: ``close`` ends the threads and their connections."""

    def __init__(self, *, size: int, rate: float) -> None:
        self.size = max(1, size)
        self.pacer = Pacer(rate)
        self._tasks: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> CallPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def map(self, fn: Callable, items: Sequence) -> list:
        if (
            self.size == 1
            or len(items) <= 1
            or connection.in_atomic_block
            or (connection.vendor == "sqlite" and connection.is_in_memory_db())
        ):
            results = []
            for item in items:
                self.pacer.wait()
                results.append(fn(item))
            return results
        while len(self._threads) < min(self.size, len(items)):
            thread = threading.Thread(
                target=self._work, name=f"gateway-call-{len(self._threads) + 1}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        results: list = [None] * len(items)
        errors: list[BaseException] = []
        latch = _Latch(len(items))
        context = contextvars.copy_context()  # a simulation's flag, say
        for index, item in enumerate(items):
            self._tasks.put((context, fn, item, index, results, errors, latch))
        latch.wait()
        if errors:
            raise errors[0]
        return results

    def _work(self) -> None:
        try:
            while (task := self._tasks.get()) is not None:
                context, fn, item, index, results, errors, latch = task
                try:
                    self.pacer.wait()
                    results[index] = context.copy().run(fn, item)
                except BaseException as exc:  # handed to map's caller
                    errors.append(exc)
                finally:
                    # A call holds a database connection only while it uses
                    # one (the sandbox's ledger; a real gateway's call uses
                    # none): four auto debits at once with 25 threads each
                    # would otherwise hold 100, PostgreSQL's default limit.
                    connections.close_all()
                    latch.count_down()
        finally:
            connections.close_all()

    def close(self) -> None:
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join(timeout=600)
        self._threads = []
