"""Durable side effects that are not emails: a job is a row written in the
transaction of the change that causes it (``job_queue``), run after commit
by whoever runs jobs in this process or a worker (``jobs_run_due``), and
retried with exponential backoff until it succeeds or its tries are used
up (then it is *failed*, and staff see it in the work queue).

Jobs are level-triggered: a handler reads the current state of its subject
and makes the world match it, so at most one job waits per (kind,
subject) — queueing again while one waits adds nothing — and a job run
twice (a crash after the effect, before it was marked done) does no harm.
A job whose runner died is taken back after JOB_STALE_SECONDS.

Handlers register by kind when their app is ready (``job_handler``), with
an ``enabled`` test: a kind whose integration is not configured (no
RADIUS database) is not queued at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction

from isocnet.core import clock
from isocnet.core.models import Job, JobStatus

log = logging.getLogger(__name__)


@dataclass
class _Handler:
    run: Callable[[str], str | None]  # subject -> a short result, or raises
    enabled: Callable[[], bool]


_handlers: dict[str, _Handler] = {}
_wake = threading.Event()
_started = threading.Lock()


class JobRetry(Exception):
    """A handler's expected failure (a database down, a NAS that did not
    answer): tried again later, logged without a traceback."""


def job_handler(kind: str, run: Callable[[str], str | None], *, enabled=lambda: True) -> None:
    _handlers[kind] = _Handler(run=run, enabled=enabled)


def job_enabled(kind: str) -> bool:
    handler = _handlers.get(kind)
    return handler is not None and handler.enabled()


def jobs_queue(
    kind: str, subjects, *, at: dt.datetime | None = None, enabled_known: bool = False
) -> int:
    """Queue a job of ``kind`` for each subject (to run at ``at``, default
    now), inside the transaction that causes them; one already waiting for
    a subject stands for it, brought forward to ``at`` if it was later.
    Nothing is queued for a kind that is not enabled (``enabled_known``: the
    caller has just asked). Returns how many."""
    subjects = sorted({str(s) for s in subjects})
    if not subjects or not (enabled_known or job_enabled(kind)):
        return 0
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("jobs_queue must run inside the transaction that causes the jobs")
    now = clock.now()
    when = at or now
    Job.objects.bulk_create(
        [Job(kind=kind, subject=s, next_attempt_at=when, created_at=now) for s in subjects],
        ignore_conflicts=True,  # one_waiting_job_per_subject: the waiting one stands
    )
    Job.objects.filter(
        kind=kind, subject__in=subjects, status=JobStatus.PENDING, next_attempt_at__gt=when
    ).update(next_attempt_at=when)
    transaction.on_commit(_wake.set)
    return len(subjects)


def job_queue(kind: str, subject, *, at: dt.datetime | None = None) -> int:
    return jobs_queue(kind, [subject], at=at)


def _backoff(attempts: int) -> dt.timedelta:
    base = settings.JOB_RETRY_SECONDS
    return dt.timedelta(seconds=min(base * 2 ** (attempts - 1), 3600))


def _claim(kinds: list[str] | None) -> Job | None:
    """Take the next due job: pending and due, or running for longer than
    JOB_STALE_SECONDS (its runner died). One conditional UPDATE, so two
    runners never take the same job."""
    now = clock.now()
    stale = now - dt.timedelta(seconds=settings.JOB_STALE_SECONDS)
    candidates = Job.objects.filter(status=JobStatus.PENDING, next_attempt_at__lte=now)
    if kinds:
        candidates = candidates.filter(kind__in=kinds)
    for job in list(candidates.order_by("next_attempt_at", "id")[:20]) + list(
        Job.objects.filter(status=JobStatus.RUNNING, started_at__lt=stale)[:5]
    ):
        # the row as read (a stale claim: the same started_at), so two
        # runners never both take it
        taken = Job.objects.filter(
            pk=job.pk, status=job.status, started_at=job.started_at, attempts=job.attempts
        ).update(status=JobStatus.RUNNING, started_at=now, attempts=job.attempts + 1)
        if taken:
            job.status, job.started_at, job.attempts = JobStatus.RUNNING, now, job.attempts + 1
            return job
    return None


def _finish(job: Job, *, error: str | None, result: str = "") -> None:
    now = clock.now()
    if error is None:
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.DONE, done_at=now, result=result[:500], last_error=""
        )
        return
    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, done_at=now, last_error=error[:500]
        )
        return
    try:
        with transaction.atomic():
            Job.objects.filter(pk=job.pk).update(
                status=JobStatus.PENDING,
                next_attempt_at=now + _backoff(job.attempts),
                last_error=error[:500],
            )
    except IntegrityError:  # a newer job for the subject waits: it does this one's work
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.DONE, done_at=now, result="superseded", last_error=error[:500]
        )


def job_run(job: Job) -> bool:
    """Run one claimed job; True when it succeeded."""
    handler = _handlers.get(job.kind)
    if handler is None:
        _finish(job, error=f"no handler for {job.kind} in this process")
        return False
    try:
        result = handler.run(job.subject) or ""
    except JobRetry as exc:
        log.warning("job %s %s: %s (will retry)", job.kind, job.subject, exc)
        _finish(job, error=str(exc))
        return False
    except Exception as exc:
        log.exception("job %s %s failed", job.kind, job.subject)
        _finish(job, error=f"{type(exc).__name__}: {exc}")
        return False
    _finish(job, error=None, result=result)
    return True


def jobs_run_due(*, kinds: list[str] | None = None, limit: int = 500) -> int:
    """Run the jobs that are due, up to ``limit``; returns how many ran."""
    ran = 0
    while ran < limit:
        job = _claim(kinds)
        if job is None:
            break
        job_run(job)
        ran += 1
    return ran


def job_retry_now(job_id: int) -> bool:
    """Staff: try a failed (or waiting) job again now."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in (JobStatus.FAILED, JobStatus.PENDING):
            return False
        try:
            with transaction.atomic():
                Job.objects.filter(pk=job.pk).update(
                    status=JobStatus.PENDING, next_attempt_at=clock.now(), attempts=0
                )
        except IntegrityError:
            return False  # another job for the subject already waits
    _wake.set()
    return True


class JobRunner:
    """Runs jobs in a thread of this process: every JOB_POLL_SECONDS, and
    at once when a transaction in this process queues one."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="jobs", daemon=True)

    def start(self) -> JobRunner:
        self.thread.start()
        return self

    def stop(self, timeout: int = 120) -> None:
        self._stop.set()
        _wake.set()
        self.thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            _wake.wait(settings.JOB_POLL_SECONDS)
            _wake.clear()
            if self._stop.is_set():
                break
            try:
                close_old_connections()
                jobs_run_due()
            except Exception:  # the loop must survive anything
                log.exception("running jobs failed; trying again")
            finally:
                close_old_connections()


_runner: list[JobRunner] = []


def start_background_jobs() -> JobRunner:
    """This process runs jobs (`isocnet serve`, one machine): once."""
    with _started:
        if not _runner:
            _runner.append(JobRunner().start())
        return _runner[0]
