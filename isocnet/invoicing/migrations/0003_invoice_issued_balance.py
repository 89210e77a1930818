"""What an invoice asked for when it was issued (``issued_balance_minor``):
the total less the account credit applied at issue. The "Customer Invoice"
notice and the invoice PDF state it, whatever is paid afterwards.

Backfilled for invoices issued before it existed (the total less the credit
applied within a minute of issue), then frozen by the immutability trigger:
set once, never changed.
"""

import datetime as dt

from django.db import migrations, models

FROZEN = ["number", "series", "sequence", "customer_id", "currency", "issue_date", "due_date", "bill_to",
          "subtotal_minor", "tax_minor", "total_minor"]
ONCE = "issued_balance_minor"
MESSAGE = "issued invoice is immutable"

SQLITE_UP = [
    "DROP TRIGGER IF EXISTS invoicing_invoice_frozen",
    f"""CREATE TRIGGER invoicing_invoice_frozen BEFORE UPDATE ON invoicing_invoice
    FOR EACH ROW WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR {' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in FROZEN)}
        OR (OLD.{ONCE} IS NOT NULL AND NEW.{ONCE} IS NOT OLD.{ONCE}))
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS invoicing_invoice_frozen",
    f"""CREATE TRIGGER invoicing_invoice_frozen BEFORE UPDATE ON invoicing_invoice
    FOR EACH ROW WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR {' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in FROZEN)})
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]


def _pg_function(extra: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION invoicing_invoice_frozen() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
          RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
      END IF;
      IF OLD.status <> 'draft' AND (NEW.status = 'draft' OR
         {' OR '.join(f'NEW.{c} IS DISTINCT FROM OLD.{c}' for c in FROZEN)}{extra}) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql"""


PG_UP = [_pg_function(f"\n         OR (OLD.{ONCE} IS NOT NULL AND NEW.{ONCE} IS DISTINCT FROM OLD.{ONCE})")]
PG_DOWN = [_pg_function("")]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"no immutability triggers for database {schema_editor.connection.vendor}")
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


def backfill(apps, schema_editor):
    Invoice = apps.get_model("invoicing", "Invoice")
    CreditEntry = apps.get_model("payments", "CreditEntry")
    issued = Invoice.objects.exclude(status="draft").filter(issued_balance_minor__isnull=True)
    for invoice in issued.only("pk", "total_minor", "issued_at").iterator():
        at_issue = 0
        if invoice.issued_at is not None:
            at_issue = -sum(
                CreditEntry.objects.filter(
                    invoice_id=invoice.pk,
                    kind="applied",
                    created_at__lte=invoice.issued_at + dt.timedelta(minutes=1),
                ).values_list("amount_minor", flat=True)
            )
        Invoice.objects.filter(pk=invoice.pk).update(
            issued_balance_minor=max(invoice.total_minor - at_issue, 0)
        )


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0002_issued_invoice_immutable"), ("payments", "0002_gatewaycall_request_gatewaycall_response")]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="issued_balance_minor",
            field=models.BigIntegerField(
                blank=True,
                help_text="What the invoice asked for when issued: the total less the account credit applied at issue. Set once, then frozen (the notice and the PDF show it).",
                null=True,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": PG_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}),
        ),
    ]
