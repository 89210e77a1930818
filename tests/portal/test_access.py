"""A customer sees only their own account: every portal URL that carries an
id or a number answers 404 with another customer's."""

import uuid

import pytest
from django.urls import URLPattern, reverse

from isocnet.payments import card_payments
from isocnet.payments.services import payment_record
from isocnet.portal.urls import urlpatterns
from tests.factories import ACTOR, make_customer, make_invoice
from tests.portal.conftest import portal_login_for, with_card

# URLs whose parameters are not a customer's records: the password links
# carry Django's signed reset token, the email-change link a signed token.
NOT_CUSTOMER_DATA = {"password_set", "email_confirm"}


def _account(name):
    customer = make_customer(name=name)
    invoice = make_invoice(customer, lines=(("Fiber", "80.00", None),))
    payment = payment_record(
        actor=ACTOR, invoice_number=invoice.number, amount="30.00", method="check", reference="1001"
    ).payment
    card = with_card(customer)
    attempt = uuid.uuid4().hex
    wanted = card_payments.payment_request_clean(
        customer_id=customer.pk,
        amount="10.00",
        invoice_number=invoice.number,
        add_credit=False,
        currency="USD",
    )
    card_payments.card_payment_make(
        actor=ACTOR, customer_id=customer.pk, attempt=attempt, request=wanted, card_id=card.pk
    )
    return {
        "customer": customer,
        "number": invoice.number,
        "payment_id": payment.pk,
        "card_id": card.pk,
        "attempt": attempt,
    }


@pytest.fixture
def two_accounts(client, db):
    mine, theirs = _account("Mine"), _account("Theirs")
    client.force_login(portal_login_for(mine["customer"]))
    return client, mine, theirs


def _patterns():
    for pattern in urlpatterns:
        assert isinstance(pattern, URLPattern)
        params = list(pattern.pattern.converters)
        if params and pattern.name not in NOT_CUSTOMER_DATA:
            yield pattern.name, params


def test_the_sweep_covers_every_url_with_an_id():
    names = {name for name, _ in _patterns()}
    assert names == {
        "invoice",
        "invoice_pdf",
        "payment",
        "receipt_pdf",
        "credit_receipt_pdf",
        "pay_result",
        "card_remove",
        "card_default",
    }


def test_every_url_with_an_id_answers_404_for_another_customers_records(two_accounts):
    client, mine, theirs = two_accounts
    for name, params in _patterns():
        if name == "credit_receipt_pdf":  # its own test below (a payment kept as credit)
            continue
        own = reverse(f"portal:{name}", kwargs={p: mine[p] for p in params})
        other = reverse(f"portal:{name}", kwargs={p: theirs[p] for p in params})
        method = client.post if name.startswith("card_") else client.get
        assert method(other).status_code == 404, other
        if method == client.get:  # (my own cards are checked last, not removed here)
            assert method(own).status_code in (200, 302), own  # the sweep can fail
        # mixed: my payment with their invoice number
        if len(params) > 1:
            mixed = reverse(
                f"portal:{name}",
                kwargs={p: (mine if i == 0 else theirs)[p] for i, p in enumerate(params)},
            )
            assert client.get(mixed).status_code == 404, mixed
    # their card is untouched, mine still works
    assert (
        client.post(reverse("portal:card_default", kwargs={"card_id": mine["card_id"]})).status_code
        == 302
    )


def test_pages_without_ids_show_only_my_records(two_accounts):
    client, mine, theirs = two_accounts
    for path in (
        "/portal/dashboard/",
        "/portal/invoices/",
        "/portal/statement/",
        "/portal/cards/",
        "/portal/pay/",
    ):
        page = client.get(path).content.decode()
        assert theirs["customer"].account_number not in page, path
        assert theirs["number"] not in page, path
    assert mine["number"] in client.get("/portal/invoices/").content.decode()


def test_paying_someone_elses_invoice_is_refused(two_accounts):
    client, mine, theirs = two_accounts
    assert client.get(f"/portal/pay/?invoice={theirs['number']}").status_code == 404
    response = client.post(
        "/portal/pay/",
        {
            "attempt": uuid.uuid4().hex,
            "invoice": theirs["number"],
            "amount": "5.00",
            "card": str(mine["card_id"]),
        },
    )
    assert response.status_code == 404
    other_card = client.post(
        "/portal/pay/",
        {
            "attempt": uuid.uuid4().hex,
            "invoice": mine["number"],
            "amount": "5.00",
            "card": str(theirs["card_id"]),
        },
    )
    assert other_card.status_code == 400  # not one of my cards: not a choice on my form


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    for name, params in _patterns():
        path = reverse(f"portal:{name}", kwargs={p: "1" if "id" in p else "x" for p in params})
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/portal/login/")


def test_a_credit_receipt_is_only_its_payers(client, db):
    """The receipt of a payment kept as credit (issue #30): the payer's own
    opens, another customer's is a 404, and so is a payment that paid an
    invoice (its receipts are per invoice)."""
    mine, theirs = make_customer(name="Mine"), make_customer(name="Theirs")
    kept = payment_record(actor=ACTOR, customer_id=mine.pk, amount="5.00", method="check")
    other = payment_record(actor=ACTOR, customer_id=theirs.pk, amount="5.00", method="check")
    client.force_login(portal_login_for(mine))
    own = client.get(reverse("portal:credit_receipt_pdf", kwargs={"payment_id": kept.payment.pk}))
    assert own.status_code == 200 and own["Content-Type"] == "application/pdf"
    foreign = reverse("portal:credit_receipt_pdf", kwargs={"payment_id": other.payment.pk})
    assert client.get(foreign).status_code == 404
    page = client.get("/portal/payments/").content.decode()
    assert "(account credit)" in page and "Theirs" not in page
