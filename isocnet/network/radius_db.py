"""FreeRADIUS's SQL tables, in a database of their own
(RADIUS_DATABASE_URL: sqlite:///path or postgres://…), in the standard
schema FreeRADIUS ships (``radius_schema_create`` runs Debian's own
mods-config/sql/main/<dialect>/schema.sql). Plain DB-API connections, not
Django's: FreeRADIUS reads the same file or database, and a RADIUS
database that is down must fail one job, never a billing request."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings

from isocnet.core.jobs import JobRetry

SCHEMAS = Path("/etc/freeradius/3.0/mods-config/sql/main")


def enabled() -> bool:
    return bool(settings.RADIUS_DATABASE_URL)


def _dialect(url: str) -> str:
    scheme = urlsplit(url).scheme
    return "sqlite" if scheme == "sqlite" else "postgresql"


def sqlite_path(url: str) -> str:
    """sqlite:///relative/path or sqlite:////absolute/path, as DATABASE_URL."""
    return unquote(urlsplit(url).path)[1:]


@contextlib.contextmanager
def radius_db():
    """A cursor in one transaction of the RADIUS database, committed at the
    end; a database that cannot be reached is a JobRetry (tried again)."""
    url = settings.RADIUS_DATABASE_URL
    try:
        if _dialect(url) == "sqlite":
            path = sqlite_path(url)
            if not Path(path).exists():
                raise JobRetry(f"the RADIUS database {path} does not exist")
            # one writer at a time from BEGIN on (two syncs of one customer
            # never interleave their deletes and inserts)
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            placeholder = "?"
        else:
            import psycopg

            conn = psycopg.connect(
                url.replace("postgres://", "postgresql://", 1), connect_timeout=10
            )
            placeholder = "%s"
    except (sqlite3.Error, OSError) as exc:
        raise JobRetry(f"the RADIUS database is unreachable: {exc}") from None
    except Exception as exc:  # psycopg.OperationalError and kin
        raise JobRetry(f"the RADIUS database is unreachable: {exc}") from None
    try:
        cursor = _Cursor(conn.cursor(), placeholder)
        yield cursor
        if placeholder == "?":
            conn.execute("COMMIT")
        else:
            conn.commit()
    except sqlite3.OperationalError as exc:
        _rollback(conn)
        raise JobRetry(f"the RADIUS database refused: {exc}") from None
    except Exception as exc:
        _rollback(conn)
        if type(exc).__module__.startswith("psycopg"):
            raise JobRetry(f"the RADIUS database refused: {exc}") from None
        raise
    finally:
        conn.close()


def _rollback(conn) -> None:
    try:
        if isinstance(conn, sqlite3.Connection):
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        else:
            conn.rollback()
    except Exception:  # noqa: S110 - the connection is closed next anyway
        pass


class _Cursor:
    """SQL written with ``?``; psycopg gets ``%s``."""

    def __init__(self, cursor, placeholder: str):
        self._cursor, self._placeholder = cursor, placeholder

    def execute(self, sql: str, params=()):
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        self._cursor.execute(sql, params)
        return self._cursor

    def executemany(self, sql: str, rows):
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        self._cursor.executemany(sql, rows)

    def all(self, sql: str, params=()) -> list[tuple]:
        return self.execute(sql, params).fetchall()

    def lock(self, keys) -> None:
        """Serialise writers of these usernames until commit (PostgreSQL's
        advisory locks, in a fixed order; SQLite has one writer anyway)."""
        if self._placeholder == "?":
            return
        for key in sorted(set(keys)):
            self.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"isocnet-radius:{key}",))


def radius_schema_create() -> str:
    """Create FreeRADIUS's tables in the RADIUS database from the schema
    file FreeRADIUS ships for its dialect (needs Debian's freeradius).
    Returns the schema file used."""
    dialect = _dialect(settings.RADIUS_DATABASE_URL)
    schema = SCHEMAS / dialect / "schema.sql"
    if not schema.exists():
        raise FileNotFoundError(f"{schema} is missing: apt-get install freeradius")
    text = schema.read_text()
    url = settings.RADIUS_DATABASE_URL
    if dialect == "sqlite":
        with contextlib.closing(sqlite3.connect(sqlite_path(url))) as conn:
            conn.executescript(text)
            conn.commit()
    else:
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
            conn.execute(text)
    return str(schema)
