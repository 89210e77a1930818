"""Checking one row of an import file: each column cleaned by the same
validators as the API, errors named by row and column, nothing written."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from isocnet.core import clock
from isocnet.core.errors import InvalidInput
from isocnet.core.money import Money, MoneyError
from isocnet.core.pan import card_number_in
from isocnet.core.validation import clean_date, clean_line, clean_money
from isocnet.customers.models import ADDRESS_COLUMNS, Customer
from isocnet.customers.services import customer_input_clean


def _column(error: InvalidInput, default: str) -> str:
    mapping = {f"address.{part}": column for part, column in ADDRESS_COLUMNS.items()}
    name = error.field or default
    return mapping.get(name, name.split("[")[0])


NETWORK_COLUMNS = ("username", "password", "mac", "circuit_id", "static_ip")


def check_row(kind, number, row, report, plans) -> dict | None:
    try:
        if kind == "customers":
            return _check_customer(row)
        if kind == "subscriptions":
            return _check_subscription(row, plans)
        return _check_balance(row)
    except InvalidInput as exc:
        report.errors.append(RowError(number, _column(exc, "-"), exc.message))
        return None


def _yes_no(value: str, column: str) -> bool:
    if value.lower() in {"", "no", "n", "false", "0"}:
        return False
    if value.lower() in {"yes", "y", "true", "1"}:
        return True
    raise InvalidInput("must be yes or no", field=column)


def _check_customer(row: dict) -> dict:
    external_id = clean_line(row["external_id"], "external_id", max_length=64)
    data = {
        "name": row["name"],
        "email": row["email"],
        "company": row.get("company", ""),
        "phone": row.get("phone", ""),
        "payment_method": row["payment_method"].lower(),
        "currency": (row.get("currency") or settings.CURRENCY).upper(),
        "tax_exempt": _yes_no(row.get("tax_exempt", ""), "tax_exempt"),
        "notes": row.get("notes", ""),
        "cc_emails": [e.strip() for e in row.get("cc_emails", "").split(";") if e.strip()],
        "address": {part: row.get(column, "") for part, column in ADDRESS_COLUMNS.items()},
    }
    customer_input_clean(data)
    token = row.get("card_token", "")
    if card_number_in(token):
        # never echoed, stored or logged: the report names the column only
        raise InvalidInput("is a card number; give the gateway's card token", field="card_token")
    if data["payment_method"] == "card" and not token:
        existing = Customer.objects.filter(external_id=external_id).first()
        if existing is None or not existing.cards.filter(removed_at__isnull=True).exists():
            raise InvalidInput(
                "auto-debit (card) customers need a card_token from the gateway",
                field="card_token",
            )
    return {"external_id": external_id, "data": data, "card_token": token}


def _check_subscription(row: dict, plans: dict) -> dict:
    external_id = clean_line(row["external_id"], "external_id", max_length=64)
    customer = Customer.objects.filter(external_id=row["customer_external_id"]).first()
    if customer is None:
        raise InvalidInput(
            f"no customer with external id {row['customer_external_id']!r} (import customers first)",
            field="customer_external_id",
        )
    plan = plans.get(row["plan"])
    if plan is None:
        raise InvalidInput(f"no plan with the code {row['plan']!r}", field="plan")
    start = clean_date(row["start_date"], "start_date")
    next_due = (
        clean_date(row["next_due_date"], "next_due_date") if row.get("next_due_date") else None
    )
    if next_due and next_due < start:
        raise InvalidInput("must not be before start_date", field="next_due_date")
    quantity_text = row.get("quantity") or "1"
    if not quantity_text.isdigit() or not 1 <= int(quantity_text) <= 100000:
        raise InvalidInput("must be a whole number from 1", field="quantity")
    price = None
    if row.get("price"):
        price = clean_money(row["price"], "price", customer.currency).amount.to_eng_string()
    return {
        "external_id": external_id,
        "customer": customer,
        "plan": plan,
        "start": start,
        "next_due": next_due,
        "quantity": int(quantity_text),
        "price": price,
        "description": clean_line(
            row.get("description", ""), "description", max_length=200, required=False
        ),
        # what the network knows it by (checked when applied: network.services)
        "network": {k: row[k].strip() for k in NETWORK_COLUMNS if (row.get(k) or "").strip()},
    }


def _check_balance(row: dict) -> dict:
    customer = Customer.objects.filter(external_id=row["customer_external_id"]).first()
    if customer is None:
        raise InvalidInput(
            f"no customer with external id {row['customer_external_id']!r} (import customers first)",
            field="customer_external_id",
        )
    try:
        amount = Money.parse(row["amount"], customer.currency, allow_negative=True)
    except MoneyError as exc:
        raise InvalidInput(str(exc), field="amount") from None
    as_of = clean_date(row["as_of"], "as_of")
    if as_of > clock.today():
        raise InvalidInput(
            "must not be in the future (the balance as the old system had it)", field="as_of"
        )
    due = clean_date(row["due_date"], "due_date") if row.get("due_date") else None
    if due and due < as_of:
        raise InvalidInput("must not be before as_of", field="due_date")
    return {
        "customer": customer,
        "amount": amount,
        "as_of": as_of,
        "due": due,
        "reference": clean_line(
            row.get("reference", ""), "reference", max_length=120, required=False
        ),
    }


@dataclass(frozen=True)
class RowError:
    row: int  # line of the file (the header is line 1)
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"
