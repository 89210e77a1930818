"""A web process keeps its PostgreSQL connection from one request to the
next (DATABASE_CONN_MAX_AGE) and replaces one the server dropped in
between instead of failing the page."""

import psycopg
import pytest
from django.core.signals import request_finished, request_started
from django.db import connection

from isocnet.core.config import ConfigError, database_from_url


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _request(work):
    """What Django's handler does around a request, signals included."""
    request_started.send(sender=None)
    try:
        return work()
    finally:
        request_finished.send(sender=None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_requests_share_a_connection_and_a_dropped_one_is_replaced():
    first = _request(_backend_pid)
    assert _request(_backend_pid) == first  # not a new server process per page view
    params = connection.get_connection_params()
    with psycopg.connect(
        dbname=params["dbname"],
        host=params.get("host"),
        port=params.get("port"),
        user=params.get("user"),
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [first])
    replaced = _request(_backend_pid)  # health-checked: no error for the page
    assert replaced != first


def test_connection_age_is_configurable_and_checked(monkeypatch):
    monkeypatch.setenv("SOME_DATABASE_URL", "postgres://u@db.example:5432/billing")
    config = database_from_url("SOME_DATABASE_URL", "")
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (300, True)
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "0")
    assert database_from_url("SOME_DATABASE_URL", "")["CONN_MAX_AGE"] == 0
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "-5")
    with pytest.raises(ConfigError, match=r"DATABASE_CONN_MAX_AGE='-5': must be at least 0"):
        database_from_url("SOME_DATABASE_URL", "")
