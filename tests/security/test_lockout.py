"""The sign-in lockout holds against an attacker who interleaves a sign-in
to their own account after every few guesses (issue #16, item 2): a
success clears that login's own failures, never anyone else's. Portal and
staff back office alike."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import make_customer
from tests.portal.conftest import PASSWORD, portal_login_for

pytestmark = pytest.mark.django_db
ATTACKER_IP = "203.0.113.66"


def portal_login(client, email, password, ip=ATTACKER_IP):
    return client.post("/portal/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def admin_login(client, username, password, ip=ATTACKER_IP):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def test_interleaved_own_sign_ins_do_not_reset_the_victims_lockout(settings):
    victim = make_customer(email="victim@example.com")
    portal_login_for(victim)
    attacker = make_customer(email="mallory@example.com")
    portal_login_for(attacker)
    guesses = settings.AXES_FAILURE_LIMIT - 1  # 9: one short of the limit each round
    answers = []
    for round_ in range(4):
        for i in range(guesses):
            answers.append(portal_login(Client(), "victim@example.com", f"guess-{round_}-{i}"))
        # a sign-in to the attacker's own account from the same address
        portal_login(Client(), "mallory@example.com", PASSWORD)
    # 36 wrong passwords later the victim's account is locked, even with its password
    assert (
        portal_login(Client(), "victim@example.com", PASSWORD, ip="192.0.2.10").status_code == 429
    )
    assert sum(a.status_code == 429 for a in answers) >= len(answers) - guesses


def test_a_success_clears_that_logins_own_failures(settings):
    customer = make_customer(email="dana@example.com")
    portal_login_for(customer)
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        portal_login(Client(), "dana@example.com", f"typo-{i}")
    assert portal_login(Client(), "dana@example.com", PASSWORD).status_code == 302
    # the slate is clean for this login: nine more typos do not lock it
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert (
            portal_login(Client(), "dana@example.com", f"again-{i}", ip="192.0.2.1").status_code
            == 200
        )
    assert portal_login(Client(), "dana@example.com", PASSWORD, ip="192.0.2.1").status_code == 302


def test_the_staff_back_office_lockout_holds_the_same_way(settings):
    User = get_user_model()
    User.objects.create_user("boss", "boss@isocnet.example", PASSWORD, is_staff=True)
    User.objects.create_user("temp", "temp@isocnet.example", PASSWORD, is_staff=True)
    guesses = settings.AXES_FAILURE_LIMIT - 1
    for round_ in range(4):
        for i in range(guesses):
            admin_login(Client(), "boss", f"guess-{round_}-{i}")
        assert admin_login(Client(), "temp", PASSWORD).status_code in (302, 429)
    assert admin_login(Client(), "boss", PASSWORD, ip="192.0.2.20").status_code == 429
