"""Issued invoices are immutable, enforced by the database itself.

Triggers refuse, on SQLite and PostgreSQL alike:
- changing a frozen column (number, customer, currency, dates, bill-to
  snapshot, subtotal, tax, total) of an invoice that has left draft, or
  returning it to draft;
- inserting, updating or deleting lines or tax lines of such an invoice;
- deleting an issued invoice (PostgreSQL; on SQLite the ORM guard in
  invoicing.guards refuses it, because Django's test flush deletes rows
  with DELETE on SQLite but with TRUNCATE on PostgreSQL).
Paid amounts, balance and status still move, through the services.
"""

from django.db import migrations

FROZEN = ["number", "series", "sequence", "customer_id", "currency", "issue_date", "due_date", "bill_to",
          "subtotal_minor", "tax_minor", "total_minor"]
MESSAGE = "issued invoice is immutable"

SQLITE_UP = [
    f"""CREATE TRIGGER invoicing_invoice_frozen BEFORE UPDATE ON invoicing_invoice
    FOR EACH ROW WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR {' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in FROZEN)})
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
for table in ("invoicing_invoiceline", "invoicing_invoicetaxline"):
    SQLITE_UP += [
        f"""CREATE TRIGGER {table}_frozen_insert BEFORE INSERT ON {table}
        FOR EACH ROW WHEN (SELECT status FROM invoicing_invoice WHERE id = NEW.invoice_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        f"""CREATE TRIGGER {table}_frozen_update BEFORE UPDATE ON {table}
        FOR EACH ROW WHEN (SELECT status FROM invoicing_invoice WHERE id = OLD.invoice_id) <> 'draft'
            OR (SELECT status FROM invoicing_invoice WHERE id = NEW.invoice_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    ]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS invoicing_invoice_frozen",
    *[f"DROP TRIGGER IF EXISTS {t}_frozen_{op}" for t in ("invoicing_invoiceline", "invoicing_invoicetaxline")
      for op in ("insert", "update")],
]

PG_UP = [
    f"""CREATE OR REPLACE FUNCTION invoicing_invoice_frozen() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
          RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
      END IF;
      IF OLD.status <> 'draft' AND (NEW.status = 'draft' OR
         {' OR '.join(f'NEW.{c} IS DISTINCT FROM OLD.{c}' for c in FROZEN)}) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER invoicing_invoice_frozen BEFORE UPDATE OR DELETE ON invoicing_invoice
    FOR EACH ROW EXECUTE FUNCTION invoicing_invoice_frozen()""",
    f"""CREATE OR REPLACE FUNCTION invoicing_line_frozen() RETURNS trigger AS $$
    DECLARE parent_status text;
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT status INTO parent_status FROM invoicing_invoice WHERE id = OLD.invoice_id;
        IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN
          RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT status INTO parent_status FROM invoicing_invoice WHERE id = NEW.invoice_id;
        IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN
          RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
      END IF;
      RETURN OLD;
    END $$ LANGUAGE plpgsql""",
    *[f"""CREATE TRIGGER {t}_frozen BEFORE INSERT OR UPDATE OR DELETE ON {t}
        FOR EACH ROW EXECUTE FUNCTION invoicing_line_frozen()"""
      for t in ("invoicing_invoiceline", "invoicing_invoicetaxline")],
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS invoicing_invoice_frozen ON invoicing_invoice",
    "DROP TRIGGER IF EXISTS invoicing_invoiceline_frozen ON invoicing_invoiceline",
    "DROP TRIGGER IF EXISTS invoicing_invoicetaxline_frozen ON invoicing_invoicetaxline",
    "DROP FUNCTION IF EXISTS invoicing_invoice_frozen()",
    "DROP FUNCTION IF EXISTS invoicing_line_frozen()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"no immutability triggers for database {schema_editor.connection.vendor}")
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": PG_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}),
        )
    ]
