"""Bringing customers over from the previous billing system: CSV files of
customers, their services and their opening balances (docs/import.md).

Every row is validated first; any error gives a report naming the row, the
column and the reason, and nothing is imported. Otherwise all rows go in
one transaction (a failure at that stage also rolls everything back and is
reported the same way). Rows are matched by ``external_id`` (the id in the
old system): importing the same file again updates instead of duplicating.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from isocnet.catalog.models import Plan
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_record
from isocnet.core.errors import BillingError, InvalidInput
from isocnet.core.money import Money
from isocnet.core.permissions import require
from isocnet.customers.models import Customer
from isocnet.customers.services import customer_create, customer_update
from isocnet.imports.rows import RowError, check_row
from isocnet.invoicing.models import InvoiceLine, LineKind
from isocnet.invoicing.services import invoice_add_line, invoice_create_draft, invoice_issue
from isocnet.ledger.entries import credit_entry_add
from isocnet.ledger.models import CreditEntry, CreditKind
from isocnet.network.models import ServiceIdentity
from isocnet.network.services import identity_set
from isocnet.payments.cards import card_attach
from isocnet.subscriptions.models import Subscription
from isocnet.subscriptions.services import subscription_create

OPENING_BALANCE = "Opening balance from the previous billing system"

CUSTOMER_COLUMNS = {
    "external_id": True,
    "name": True,
    "email": True,
    "address_line1": True,
    "city": True,
    "postal_code": True,
    "country": True,
    "payment_method": True,
    "company": False,
    "cc_emails": False,
    "phone": False,
    "address_line2": False,
    "region": False,
    "currency": False,
    "tax_exempt": False,
    "notes": False,
    "card_token": False,
}
SUBSCRIPTION_COLUMNS = {
    "external_id": True,
    "customer_external_id": True,
    "plan": True,
    "start_date": True,
    "next_due_date": False,
    "quantity": False,
    "price": False,
    "description": False,
    "username": False,
    "password": False,
    "mac": False,
    "circuit_id": False,
    "static_ip": False,
}
BALANCE_COLUMNS = {
    "customer_external_id": True,
    "amount": True,
    "as_of": True,
    "due_date": False,
    "reference": False,
}
KINDS = {
    "customers": CUSTOMER_COLUMNS,
    "subscriptions": SUBSCRIPTION_COLUMNS,
    "balances": BALANCE_COLUMNS,
}


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            head = f"{self.kind}: {len(self.errors)} error(s) in {self.rows} rows; nothing imported"
            return "\n".join([head, *(f"  {e}" for e in self.errors[:200])])
        verb = "would be" if self.dry_run else "were"
        return (
            f"{self.kind}: {self.rows} rows: {self.created} {verb} created, {self.updated} "
            f"updated, {self.unchanged} unchanged"
        )


class _Abort(Exception):
    """Roll back the whole import (dry run, or an error while applying)."""


def detect_kind(header: Iterable[str]) -> str:
    columns = set(header)
    if "plan" in columns:
        return "subscriptions"
    if "amount" in columns:
        return "balances"
    return "customers"


def _read(text: str, kind: str, report: ImportReport) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    spec = KINDS[kind]
    missing = [c for c, required in spec.items() if required and c not in header]
    unknown = [c for c in header if c not in spec]
    for column in missing:
        report.errors.append(RowError(1, column, "this required column is missing"))
    for column in unknown:
        report.errors.append(RowError(1, column, f"is not a column of a {kind} file"))
    rows = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            report.errors.append(RowError(number, "-", "has more fields than the header"))
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        if any(values.values()):
            rows.append((number, values))
    report.rows = len(rows)
    return rows


def _duplicates(rows, column: str, report: ImportReport) -> None:
    seen: dict[str, int] = {}
    for number, row in rows:
        key = row.get(column, "")
        if key and key in seen:
            report.errors.append(
                RowError(number, column, f"{key!r} appears again (first on row {seen[key]})")
            )
        seen.setdefault(key, number)


def run_import(
    *, actor: Actor, kind: str | None, text: str, dry_run: bool = False, welcome: bool = False
) -> ImportReport:
    """Import one CSV file (its text). ``kind``: customers, subscriptions or
    balances (None: guessed from the header). ``welcome``: send new
    customers the portal welcome email."""
    require(actor, "import")
    if kind is None:
        first = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))), [])
        kind = detect_kind(h.strip() for h in first)
    if kind not in KINDS:
        raise InvalidInput(f"must be one of {', '.join(KINDS)}", field="kind")
    report = ImportReport(kind=kind, dry_run=dry_run)
    rows = _read(text, kind, report)
    if report.errors:
        return report
    key = "external_id" if kind != "balances" else "customer_external_id"
    _duplicates(rows, key, report)
    plans = {p.code: p for p in Plan.objects.all()}
    checked = [(number, check_row(kind, number, row, report, plans)) for number, row in rows]
    if report.errors:
        return report
    apply: Callable = {
        "customers": _apply_customer,
        "subscriptions": _apply_subscription,
        "balances": _apply_balance,
    }[kind]
    try:
        with transaction.atomic():
            for number, values in checked:
                try:
                    outcome = apply(actor, values, welcome=welcome)
                except BillingError as exc:
                    report.errors.append(RowError(number, exc.field or "-", exc.message))
                    raise _Abort from None
                setattr(report, outcome, getattr(report, outcome) + 1)
            if dry_run:
                raise _Abort
    except _Abort:
        pass
    if report.errors:
        report.created = report.updated = report.unchanged = 0
    return report


# Validation (no writes) ---------------------------------------------------


# Applying (inside the import's transaction) -----------------------------------


def _apply_customer(actor: Actor, values: dict, *, welcome: bool) -> str:

    existing = Customer.objects.filter(external_id=values["external_id"]).first()
    data = values["data"]
    if existing is None:
        customer = customer_create(
            actor=actor, external_id=values["external_id"], welcome=welcome, **data
        )
        outcome = "created"
    else:
        before = existing.updated_at
        customer = customer_update(actor=actor, customer_id=existing.pk, changes=data)
        outcome = "updated" if customer.updated_at != before else "unchanged"
    token = values["card_token"]
    # The gateway answers a token with a new card id, so a token cannot be
    # matched again: it is attached when the customer has no card on file.
    if token and not customer.cards.filter(removed_at__isnull=True).exists():
        card_attach(actor=actor, customer_id=customer.pk, token=token)
        outcome = "updated" if outcome == "unchanged" else outcome
    return outcome


def _apply_subscription(actor: Actor, values: dict, *, welcome: bool) -> str:
    outcome = _apply_service(actor, values)
    existing = Subscription.objects.get(external_id=values["external_id"])
    network = values["network"]
    if network:
        identity = ServiceIdentity.objects.filter(subscription=existing).first()
        have = {k: (getattr(identity, k) or "") if identity else "" for k in network}
        if have != network:
            identity_set(actor=actor, subscription_id=existing.pk, **network)
            outcome = "updated" if outcome == "unchanged" else outcome
    return outcome


def _apply_service(actor: Actor, values: dict) -> str:
    existing = Subscription.objects.filter(external_id=values["external_id"]).first()
    if existing is None:
        subscription_create(
            actor=actor,
            customer_id=values["customer"].pk,
            plan_id=values["plan"].pk,
            start_date=values["start"],
            next_due_date=values["next_due"],
            quantity=values["quantity"],
            price=values["price"],
            description=values["description"],
            external_id=values["external_id"],
        )
        return "created"
    same = (
        existing.customer_id == values["customer"].pk
        and existing.plan_id == values["plan"].pk
        and existing.quantity == values["quantity"]
        and existing.start_date == values["start"]
    )
    if not same:
        raise InvalidInput(
            "was imported before with another customer, plan, quantity or start date; change "
            "the service in the back office instead",
            field="external_id",
        )
    if existing.description == values["description"]:
        return "unchanged"
    Subscription.objects.filter(pk=existing.pk).update(description=values["description"])
    return "updated"


def _apply_balance(actor: Actor, values: dict, *, welcome: bool) -> str:
    customer = values["customer"]
    amount: Money = values["amount"]
    previous = _opening_balance(customer)
    if previous is not None:
        if previous == amount:
            return "unchanged"
        raise InvalidInput(
            f"this customer already has an opening balance of {previous.as_string()}; correct it "
            "with a credit note or a charge",
            field="amount",
        )
    if amount.minor() == 0:
        return "unchanged"
    memo = OPENING_BALANCE + (f" ({values['reference']})" if values["reference"] else "")
    if amount.minor() < 0:
        credit_entry_add(
            actor=actor,
            customer_id=customer.pk,
            amount_minor=-amount.minor(),
            currency=customer.currency,
            kind=CreditKind.OPENING_BALANCE,
            memo=memo,
            created_at=dt.datetime.combine(values["as_of"], dt.time(12), tzinfo=dt.UTC),
        )
        _audit_credit(actor, customer, amount)
        return "created"
    due = values["due"] or values["as_of"] + dt.timedelta(days=settings.PAYMENT_TERMS_DAYS)
    invoice = invoice_create_draft(actor=actor, customer_id=customer.pk, due_date=due)
    invoice_add_line(
        actor=actor,
        invoice_id=invoice.pk,
        description=memo,
        unit_price=amount.amount.to_eng_string(),
        kind=LineKind.ADJUSTMENT,
    )
    invoice_issue(actor=actor, invoice_id=invoice.pk, issue_date=values["as_of"])
    return "created"


def _opening_balance(customer: Customer) -> Money | None:
    credit = CreditEntry.objects.filter(customer=customer, kind=CreditKind.OPENING_BALANCE).first()
    if credit is not None:
        return -credit.amount
    line = (
        InvoiceLine.objects.filter(
            invoice__customer=customer,
            kind=LineKind.ADJUSTMENT,
            description__startswith=OPENING_BALANCE,
        )
        .select_related("invoice")
        .first()
    )
    return line.amount if line is not None else None


def _audit_credit(actor: Actor, customer: Customer, amount: Money) -> None:

    audit_record(
        actor=actor,
        action="credit.opening_balance",
        obj=customer,
        customer_id=customer.pk,
        after={"credit": (-amount).as_string()},
    )
