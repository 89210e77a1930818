"""Many rows at once without model instances: the batch paths (billing run,
bank files) build their rows as tuples and write them here, by PostgreSQL's
``COPY … FROM STDIN`` (psycopg 3's ``cursor.copy``) or, on SQLite, one
``executemany``. Building a Django model instance and letting
``bulk_create`` turn it back into parameters cost more than the database's
own work (docs/performance.md).

What ``bulk_create`` did and this must do too: a model field's default for
every column not given (computed once per call: these tables' defaults are
constants), each value as the field stores it (JSON as text; dates, times and
decimals as SQLite keeps them), and ids taken from the table's own sequence
(``ids_take``) when the caller needs them before the rows exist (lines point
at their invoice). Row triggers fire for COPY as for INSERT, and the rows are
part of the caller's transaction: a rollback takes them back.

The statements appear in Django's query log (``connection.queries``) like
any other, so a test counting statements counts these.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence

from django.db import connection, models


def ids_take(model: type[models.Model], count: int) -> list[int]:
    """``count`` new ids for ``model``'s table, in ascending order, from the
    sequence its inserts use (PostgreSQL: the identity column's sequence;
    SQLite: ``sqlite_sequence``, which an AUTOINCREMENT key keeps), as an
    insert's own id would be: never one a committed row has or had."""
    if count <= 0:
        return []
    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        # SQLite: the UPDATE takes the database's write lock, so the counter
        # read after it is this transaction's until the commit.
        qtable = connection.ops.quote_name(table)
        cursor.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT %s, 0"
            " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = %s)",
            [table, table],
        )
        highest = f"SELECT COALESCE(MAX({pk}), 0) FROM {qtable}"  # noqa: S608 - model's names
        cursor.execute(
            f"UPDATE sqlite_sequence SET seq = MAX(seq, ({highest})) + %s WHERE name = %s",  # noqa: S608
            [count, table],
        )
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        last = cursor.fetchone()[0]
    return list(range(last - count + 1, last + 1))


def rows_write(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` (tuples of values for ``fields``, the model's field
    names or attnames such as ``invoice_id``) into ``model``'s table; every
    other column gets its field's default, or NULL. Returns the rows
    written."""
    given = [model._meta.get_field(name) for name in fields]
    names = {f.attname for f in given}
    rest = [
        f
        for f in model._meta.concrete_fields
        if f.attname not in names and not (f.primary_key and isinstance(f, models.AutoField))
    ]
    # as a model instance gets them: the default, "" for text, else NULL
    constants = [f.get_default() for f in rest]
    columns = [f.column for f in given + rest]
    converters = [(i, conv) for i, f in enumerate(given) if (conv := _converter(f))]
    constant_values = tuple(
        conv(v) if (conv := _converter(f)) else v for f, v in zip(rest, constants, strict=True)
    )

    def prepared():
        for row in rows:
            if converters:
                row = list(row)
                for i, conv in converters:
                    row[i] = conv(row[i])
            yield (*row, *constant_values)

    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    started = time.perf_counter()
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"COPY {table} ({quoted}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for row in prepared():
                    copy.write_row(row)
                    written += 1
        else:
            marks = ", ".join(["?"] * len(columns))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608 - model's names
            batch = list(prepared())
            cursor.cursor.executemany(sql, batch)  # the sqlite3 cursor: "?" placeholders
            written = len(batch)
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": f"{sql} -- {written} rows", "time": f"{time.perf_counter() - started:.3f}"}
        )
    return written


def _converter(field: models.Field):
    """How a value of ``field`` is written, where the driver would not do it
    as Django does (None: as it is)."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder

        def to_json(value):
            return None if value is None else json.dumps(value, cls=encoder)

        return to_json
    if connection.vendor == "postgresql":
        return None  # psycopg writes dates, times, decimals and booleans itself
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        digits, places = field.max_digits, field.decimal_places

        def to_decimal(value):
            return ops.adapt_decimalfield_value(value, digits, places)

        return to_decimal
    return None
