from django.contrib.auth import get_user_model

from isocnet.api.tokens import apikey_create
from tests.factories import ACTOR, make_customer, make_invoice
from tests.invoicing.billing_helpers import run


def test_metrics_need_a_key_and_show_what_to_watch(client, db, today):
    from isocnet.customers.portal_access import portal_invite

    customer = make_customer()
    portal_invite(actor=ACTOR, customer_id=customer.pk)  # one email waiting
    make_invoice(customer, lines=(("Fiber", "10.00", None),))
    run(today)
    assert client.get("/metrics").status_code == 401
    _row, token = apikey_create(actor=ACTOR, name="prometheus", scope="read")
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode()
    assert "isocnet_outbox_pending 1.0" in body
    assert "isocnet_gateway_charges_in_doubt 0.0" in body
    assert "isocnet_last_billing_run_ok 1.0" in body


def test_the_health_page_for_staff(client, db, today):
    staff = get_user_model().objects.create_superuser("ops", "o@isocnet.example", "x-1-y")
    client.force_login(staff)
    page = client.get("/admin/health/").content.decode()
    assert "System health" in page and "everything runs in-process" in page
    assert "System health" in client.get("/admin/").content.decode()
