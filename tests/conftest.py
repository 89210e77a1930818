import datetime as dt

import pytest
from django.conf import settings

from isocnet.core import clock
from isocnet.core.actors import Actor

TEST_ACTOR = Actor("test")


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config, items):
    if on_postgres():
        return
    skip = pytest.mark.skip(
        reason="PostgreSQL only: run with TEST_DATABASE_URL (make test / .ci/run do)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _staff_two_factor(request, settings):
    """Staff tests sign in with force_login; two-factor sign-in has tests of
    its own (tests/security/test_staff_two_factor.py), which mark
    ``staff_2fa`` to run with the production setting (required)."""
    settings.STAFF_TWO_FACTOR = "required" if "staff_2fa" in request.keywords else "optional"


@pytest.fixture(autouse=True)
def _no_welcome_emails(request, settings):
    """New customers get a portal welcome email; tests outside the portal
    count their own notices, so they create customers without it."""
    settings.PORTAL_WELCOME_NEW_CUSTOMERS = "welcome_emails" in request.keywords


@pytest.fixture
def actor():
    return TEST_ACTOR


@pytest.fixture
def today():
    """Freeze the billing clock on a known day."""
    with clock.frozen_at(dt.date(2026, 11, 20)):
        yield dt.date(2026, 11, 20)


from tests.apiclient import api  # noqa: E402,F401 - fixture
from tests.factories import *  # noqa: E402,F403 - fixtures
from tests.smtp import smtp  # noqa: E402,F401 - fixture


@pytest.fixture
def names_resolve(monkeypatch, settings):
    """Make host names resolve (this machine has no DNS) — to loopback,
    which the outbound client then may reach because the test allows it:
    ``names_resolve("crm.example")``. Nothing ever leaves the machine."""
    import socket

    from isocnet.core import outbound

    real = socket.getaddrinfo
    names: dict[str, str] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]

    def add(*hosts, address="127.0.0.1"):
        for host in hosts:
            names[host] = address

    return add
