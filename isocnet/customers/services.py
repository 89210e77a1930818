"""Customer accounts: create and update, audited."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_changes, audit_record
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.events import event_emit
from isocnet.core.limits import CC_EMAILS_MAX
from isocnet.core.permissions import require
from isocnet.core.sequences import sequence_take
from isocnet.core.validation import (
    clean_choice,
    clean_country,
    clean_currency,
    clean_email,
    clean_line,
    clean_text,
)
from isocnet.customers.logins import portal_welcome_locked
from isocnet.customers.models import (
    ADDRESS_COLUMNS,
    DETAIL_FIELDS,
    Customer,
    CustomerStatus,
    PaymentPreference,
)

# Fields a customer update may change, and how each is cleaned.
_ADDRESS_FIELDS = {  # part: (required, max length); the country is checked on its own
    "line1": (True, 200),
    "line2": (False, 200),
    "city": (True, 100),
    "region": (False, 100),
    "postal_code": (True, 20),
}
AUDITED_FIELDS = (*DETAIL_FIELDS, "external_id")


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    region: str = ""


def _snapshot(customer: Customer) -> dict:
    return {field: getattr(customer, field) for field in AUDITED_FIELDS}


def _clean_address(address: Address | dict, prefix: str = "address") -> dict:
    data = address.__dict__ if isinstance(address, Address) else dict(address or {})
    unknown = set(data) - set(_ADDRESS_FIELDS) - {"country"}
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]!r}", field=prefix)
    cleaned = {}
    for key, (required, max_length) in _ADDRESS_FIELDS.items():
        if key in data or required:
            cleaned[ADDRESS_COLUMNS[key]] = clean_line(
                data.get(key), f"{prefix}.{key}", max_length=max_length, required=required
            )
    cleaned["country"] = clean_country(data.get("country"), f"{prefix}.country")
    postal = cleaned.get(ADDRESS_COLUMNS["postal_code"])
    rule = _POSTAL_CODES.get(cleaned["country"])
    if postal and rule and not rule[0].fullmatch(postal.upper()):
        raise InvalidInput(f"is not a postal code of {rule[1]}", field=f"{prefix}.postal_code")
    if postal and rule:
        cleaned[ADDRESS_COLUMNS["postal_code"]] = postal.upper()
    return cleaned


# Postal codes a country's mail would refuse, where the form is fixed; other
# countries' are kept as given (single-line, at most 20 characters).
_POSTAL_CODES = {
    "US": (re.compile(r"[0-9]{5}(-[0-9]{4})?"), "the US (a ZIP code: 62701 or 62701-1234)"),
    "CA": (re.compile(r"[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]"), "Canada (e.g. K1A 0B1)"),
}


def _clean_cc(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidInput("must be a list of email addresses", field="cc_emails")
    if len(value) > CC_EMAILS_MAX:
        raise InvalidInput(f"at most {CC_EMAILS_MAX} addresses", field="cc_emails")
    cleaned = [clean_email(item, f"cc_emails[{i}]") for i, item in enumerate(value)]
    if len({e.lower() for e in cleaned}) != len(cleaned):
        raise InvalidInput("names the same address twice", field="cc_emails")
    return cleaned


def customer_create(
    *,
    actor: Actor,
    name: str,
    email: str,
    address: Address | dict,
    payment_method: str,
    company: str = "",
    phone: str = "",
    currency: str | None = None,
    tax_exempt: bool = False,
    notes: str = "",
    cc_emails: list[str] | None = None,
    external_id: str | None = None,
    welcome: bool | None = None,
) -> Customer:
    """``welcome``: send the portal welcome email (default: the setting
    PORTAL_WELCOME_NEW_CUSTOMERS)."""
    require(actor, "customer.edit")
    fields = customer_input_clean(
        {
            "name": name,
            "email": email,
            "address": address,
            "payment_method": payment_method,
            "company": company,
            "phone": phone,
            "currency": currency or settings.CURRENCY,
            "tax_exempt": tax_exempt,
            "notes": notes,
            "cc_emails": cc_emails,
            "external_id": external_id,
        }
    )
    now = clock.now()
    with transaction.atomic():
        (seq,) = sequence_take("account")
        try:
            with transaction.atomic():
                customer = Customer.objects.create(
                    account_number=settings.ACCOUNT_NUMBER_FORMAT.format(
                        seq=seq, year=clock.today().year
                    ),
                    status=CustomerStatus.ACTIVE,
                    created_at=now,
                    updated_at=now,
                    **fields,
                )
        except IntegrityError:
            raise Conflict(
                "another customer already has this external id", field="external_id"
            ) from None
        audit_record(
            actor=actor,
            action="customer.create",
            obj=customer,
            customer_id=customer.pk,
            after=_snapshot(customer),
        )
        if settings.PORTAL_WELCOME_NEW_CUSTOMERS if welcome is None else welcome:
            portal_welcome_locked(actor=actor, customer=customer, required=False)
    return customer


_CLEANERS = {
    "name": lambda v: clean_line(v, "name", max_length=200),
    "email": lambda v: clean_email(v, "email"),
    "company": lambda v: clean_line(v, "company", max_length=200, required=False),
    "phone": lambda v: clean_line(v, "phone", max_length=40, required=False),
    "payment_method": lambda v: clean_choice(v, "payment_method", PaymentPreference),
    "currency": lambda v: clean_currency(v, "currency"),
    "notes": lambda v: clean_text(v, "notes", max_length=5000, required=False),
    "cc_emails": lambda v: _clean_cc(v),
    "tax_exempt": lambda v: _clean_bool(v, "tax_exempt"),
    "status": lambda v: clean_choice(v, "status", CustomerStatus),
    "external_id": lambda v: clean_line(v, "external_id", max_length=64, required=False) or None,
}
_REQUIRED_ON_CREATE = ("name", "email", "address", "payment_method", "currency")


def customer_input_clean(data: dict, *, partial: bool = False) -> dict:
    """Validate customer input given with the API's field names and return
    model columns. Raises InvalidInput naming the first bad field. Pure: the
    admin form calls it to show errors beside the fields."""
    for key in data:
        if key not in _CLEANERS and key != "address":
            raise InvalidInput("is not a field of a customer", field=key)
    if not partial:
        for key in _REQUIRED_ON_CREATE:
            if data.get(key) is None:
                raise InvalidInput("is required", field=key)
    cleaned = {key: _CLEANERS[key](value) for key, value in data.items() if key in _CLEANERS}
    if "address" in data:
        cleaned.update(_clean_address(data["address"]))
    return cleaned


def _currency_change_blocker(customer: Customer) -> str | None:
    """Why the customer's currency may not change, or None: every amount on
    the account is in its currency, so only an account with no money
    history at all may switch (credit would be spent at face value in the
    new currency, a pending charge would be billed in the old one)."""
    if customer.invoices.exists():
        return "has invoices"
    if customer.payments.exists():
        return "has payments"
    if customer.credit_entries.exists():
        return "holds account credit (or has credit history)"
    if customer.charges.exists():
        return "has one-time charges"
    if customer.gateway_calls.exists():
        return "has card charges in the current currency"
    return None


def customer_update(*, actor: Actor, customer_id: int, changes: dict) -> Customer:
    """Partial update. ``changes`` uses the API's field names (``address`` is
    a partial dict). Unknown fields are refused, naming them."""
    require(actor, "customer.edit")
    if "external_id" in changes:
        raise InvalidInput("is not a field that can be changed", field="external_id")
    with transaction.atomic():
        customer = customer_lock(customer_id)
        changes = dict(changes)
        if "address" in changes:
            if not isinstance(changes["address"], dict):
                raise InvalidInput("must be an object", field="address")
            changes["address"] = {**customer.address(), **changes["address"]}
        updates = customer_input_clean(changes, partial=True)
        if updates.get("currency", customer.currency) != customer.currency:
            blocker = _currency_change_blocker(customer)
            if blocker:
                raise Conflict(
                    f"cannot change the currency of a customer who {blocker}; open a new "
                    "account in the new currency instead",
                    field="currency",
                )
        before = _snapshot(customer)
        for key, value in updates.items():
            setattr(customer, key, value)
        after = _snapshot(customer)
        if after != before:
            customer.updated_at = clock.now()
            customer.save()
            audit_changes(
                actor=actor,
                action="customer.update",
                obj=customer,
                customer_id=customer.pk,
                before=before,
                after=after,
            )
            event_emit(
                "customer.updated",
                customer_id=customer.pk,
                data={
                    "id": customer.pk,
                    "customer_id": customer.pk,
                    "account_number": customer.account_number,
                    "changed": sorted(k for k in after if before.get(k) != after[k]),
                    "status": customer.status,
                },
            )
    return customer


def _clean_bool(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("must be true or false", field=field)
    return value


def customer_lock(customer_id: int) -> Customer:
    """Lock the customer row: the per-account lock that serialises invoicing
    and payments for one account. Call inside a transaction."""
    try:
        return Customer.objects.select_for_update().get(pk=customer_id)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"no customer with id {customer_id}", field="customer") from None


def customers_lock(customer_ids) -> dict[int, Customer]:
    """Lock many customer rows at once, in id order (the order every batch
    takes them in, so two batches never deadlock), and return them by id.
    Call inside a transaction; each customer's invoices are locked after."""
    return {
        customer.pk: customer
        for customer in Customer.objects.select_for_update()
        .filter(pk__in=set(customer_ids))
        .order_by("pk")
    }
