"""core.jobs: recorded in the business transaction, one waiting per
subject, retried with backoff, failed after its tries, a dead runner's
claim taken back by exactly one runner."""

import datetime as dt

import pytest
from django.db import transaction

from isocnet.core import clock
from isocnet.core.jobs import JobRetry, _claim, job_handler, job_queue, jobs_run_due
from isocnet.core.models import Job, JobStatus

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 20, 12, 0, tzinfo=dt.UTC)
calls: list[str] = []
answers: dict[str, object] = {}


def _run(subject: str) -> str:
    calls.append(subject)
    outcome = answers.get(subject, "ok")
    if isinstance(outcome, Exception):
        raise outcome
    return str(outcome)


@pytest.fixture(autouse=True)
def _handler(settings):
    settings.JOB_RETRY_SECONDS = 30
    settings.JOB_MAX_ATTEMPTS = 3
    calls.clear()
    answers.clear()
    enabled = {"on": True}
    job_handler("test.kind", _run, enabled=lambda: enabled["on"])
    return enabled


def _at(seconds):
    return clock.frozen_at(NOW + dt.timedelta(seconds=seconds))


def test_queued_in_the_transaction_one_waiting_per_subject(_handler):
    with _at(0):
        with transaction.atomic():
            job_queue("test.kind", 7)
            job_queue("test.kind", 7)
            job_queue("test.kind", 8)
        assert Job.objects.filter(status=JobStatus.PENDING).count() == 2
        try:
            with transaction.atomic():
                job_queue("test.kind", 9)
                raise RuntimeError("the business change fails")
        except RuntimeError:
            pass
        assert not Job.objects.filter(subject="9").exists()  # rolled back with it
        assert jobs_run_due() == 2
    assert sorted(calls) == ["7", "8"]
    _handler["on"] = False
    with _at(1), transaction.atomic():
        assert job_queue("test.kind", 10) == 0  # not configured: nothing queued


def test_retried_with_backoff_then_failed(settings):
    answers["1"] = JobRetry("the other side is down")
    with _at(0):
        with transaction.atomic():
            job_queue("test.kind", 1)
        jobs_run_due()
    job = Job.objects.get()
    assert (job.status, job.attempts, job.next_attempt_at) == (
        JobStatus.PENDING,
        1,
        NOW + dt.timedelta(seconds=30),
    )
    with _at(29):
        assert jobs_run_due() == 0
    with _at(30):
        jobs_run_due()  # second try; the next after 60 s more
    with _at(89):
        assert jobs_run_due() == 0
    with _at(90):
        jobs_run_due()
    job.refresh_from_db()
    assert (job.status, job.attempts, job.last_error) == (
        JobStatus.FAILED,
        3,
        "the other side is down",
    )


def test_a_later_queue_brings_a_waiting_job_forward():
    with _at(0), transaction.atomic():
        job_queue("test.kind", 5, at=NOW + dt.timedelta(hours=1))
        job_queue("test.kind", 5)
    assert Job.objects.get().next_attempt_at == NOW


def test_a_dead_runners_claim_is_taken_back_by_one_runner(settings):
    settings.JOB_STALE_SECONDS = 60
    with _at(0):
        with transaction.atomic():
            job_queue("test.kind", 3)
        first = _claim(None)  # this runner dies with it
    assert first is not None
    with _at(30):
        assert _claim(None) is None  # still its runner's
    with _at(61):
        again = _claim(None)
        assert again is not None and again.pk == first.pk and again.attempts == 2
        assert _claim(None) is None  # taken once, not by two runners
