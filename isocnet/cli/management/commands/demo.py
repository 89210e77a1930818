from __future__ import annotations

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from isocnet.api.tokens import apikey_create
from isocnet.backoffice.demo.bank_file import write_demo_lockbox
from isocnet.backoffice.demo.data import (
    DEMO,
    ensure_customer_login,
    ensure_staff,
    load_catalog,
    load_customers,
    record_partial_check_payment,
)
from isocnet.core import clock
from isocnet.customers.models import Customer
from isocnet.operations.billing_run import billing_run


class Command(BaseCommand):
    help = "Load the demo ISP (price list, ~50 customers, a staff login). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=50)

    def handle(self, *args, customers, **options):
        plans = load_catalog()
        created = load_customers(plans, customers)
        summary = billing_run(date=clock.today(), actor=DEMO)
        partial = record_partial_check_payment()
        username, password = ensure_staff()
        _row, token = apikey_create(actor=DEMO, name=f"demo-{secrets.token_hex(4)}")
        portal = ensure_customer_login()
        lockbox = settings.VAR_DIR / "demo-lockbox.csv"
        checks = write_demo_lockbox(lockbox)
        # the links follow PORT (make demo sets PORTAL_URL)
        site = settings.PORTAL_URL.removesuffix("/").removesuffix("/portal")
        portal_line = (
            f"Client portal: {settings.PORTAL_URL}/  email {portal[0]}  password {portal[1]}\n"
            if portal
            else ""
        )
        self.stdout.write(
            f"Demo data: {len(plans)} plans, {Customer.objects.count()} customers ({created} new).\n"
            f"Billing run for today: {summary.invoices} invoices issued; card payments: "
            f"{summary.collection['charged']} charged, {summary.collection['declined']} declined.\n"
            + (f"{partial}.\n" if partial else "")
            + "Customer emails (invoices, receipts, declined-card notices) go out from the server within seconds:\n"
            f"  var/mail/*.eml and {site}/admin/notifications/outboxmessage/\n"
            + (
                f"Deposit desk: {checks} checks for open invoices in {lockbox}: "
                f".venv/bin/isocnet bank-import {lockbox}\n"
                "             or Back office → Deposit batches (key slips, import files, "
                "the exceptions queue)\n"
                if checks
                else ""
            )
            + portal_line
            + f"Back office: {site}/admin/  user {username}  password {password}\n"
            "             (two-factor sign-in is optional in the demo; in production billing "
            "managers must set it up: docs/backoffice.md)\n"
            f"API docs:    {site}/api/v1/docs\n"
            "API key:     a new key, made by this run and shown only now (keys of earlier runs "
            f"still work):\n             {token}"
        )
