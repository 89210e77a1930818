"""Reading configuration from the environment, strictly.

Every reader raises :class:`ConfigError` naming the variable and what is wrong,
so a bad deployment fails at start-up rather than at the first invoice.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

from isocnet.core.money import MoneyError, check_tender_currency


class ConfigError(ImproperlyConfigured):
    pass


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r}: expected one of true/false, 1/0, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={raw!r}: must be at least {minimum}")
    return value


def env_amount(name: str, default: str, *, maximum: str = "1000000000000") -> str:
    """A positive plain decimal amount (major units), kept as its text."""
    from decimal import Decimal, InvalidOperation

    raw = os.environ.get(name, default)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ConfigError(f"{name}={raw!r}: expected an amount such as 10000000") from None
    if not value.is_finite() or value <= 0 or value > Decimal(maximum):
        raise ConfigError(f"{name}={raw!r}: must be more than 0 and at most {maximum}")
    return raw


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """Comma-separated IP networks (``10.20.0.0/16, 127.0.0.1``), checked."""
    import ipaddress

    networks = []
    for item in env_list(name, []):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(
                f"{name}: {item!r} is not an IP network (e.g. 10.20.0.0/16)"
            ) from None
    return networks


def env_time_zone(name: str, default: str) -> str:
    value = os.environ.get(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{name}={value!r}: not a known IANA time zone (e.g. America/Chicago)"
        ) from None
    return value


def env_currency(name: str, default: str) -> str:
    value = os.environ.get(name, default)
    try:
        return check_tender_currency(value)
    except MoneyError:
        raise ConfigError(
            f"{name}={value!r}: not an ISO 4217 currency code in use (e.g. USD)"
        ) from None


def env_url(name: str, default: str, *, schemes: set[str]) -> str:
    value = os.environ.get(name, default)
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        wanted = " or ".join(sorted(schemes))
        raise ConfigError(f"{name}={value!r}: expected an absolute {wanted} URL")
    return value.rstrip("/")


def database_from_url(name: str, default: str) -> dict:
    import dj_database_url

    value = os.environ.get(name) or default
    scheme = urlsplit(value).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(
            f"{name}={value!r}: expected sqlite:///path or postgres://user@host:port/db"
        )
    try:
        config = dj_database_url.parse(value, conn_max_age=0)
    except Exception as exc:  # dj_database_url raises several kinds
        raise ConfigError(f"{name}={value!r}: {exc}") from None
    max_age = env_int("DATABASE_CONN_MAX_AGE", 300, minimum=0)  # checked on SQLite too
    if config["ENGINE"] == "django.db.backends.sqlite3":
        import sqlite3

        if sqlite3.sqlite_version_info < (3, 35):
            raise ConfigError(
                f"{name}={value!r}: SQLite {sqlite3.sqlite_version} is too old; 3.35 or newer "
                "is needed (UPDATE … RETURNING), or use PostgreSQL"
            )
        # IMMEDIATE transactions take the write lock at BEGIN: two writers
        # queue instead of failing with "database is locked" on upgrade.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        # PostgreSQL: a connection outlives the web request (or Celery task)
        # that opened it, instead of a new server process per page view;
        # checked before its first use in each request, so one the server
        # dropped meanwhile is replaced rather than failing the page.
        config["CONN_MAX_AGE"] = max_age
        config["CONN_HEALTH_CHECKS"] = True
    return config


def email_from_url(name: str, default: str) -> dict:
    """smtp://[user:pass@]host:port[?starttls=1], smtps://user:pass@host:port,
    file:///dir (one .eml per message), console:, memory: (tests)."""
    value = os.environ.get(name) or default
    parts = urlsplit(value)
    scheme = parts.scheme
    if scheme in {"smtp", "smtps"}:
        if not parts.hostname:
            raise ConfigError(f"{name}={value!r}: an SMTP URL needs a host")
        try:
            port = parts.port or (465 if scheme == "smtps" else 25)
        except ValueError:
            raise ConfigError(f"{name}={value!r}: the port is not a number") from None
        query = parse_qs(parts.query)
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname,
            "EMAIL_PORT": port,
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_SSL": scheme == "smtps",
            "EMAIL_USE_TLS": scheme == "smtp" and query.get("starttls", ["0"])[0] in _TRUE,
            "EMAIL_TIMEOUT": 20,
        }
    if scheme == "file":
        path = unquote(parts.path)
        if not path:
            raise ConfigError(
                f"{name}={value!r}: a file URL needs a directory, e.g. file:///srv/mail"
            )
        return {
            "EMAIL_BACKEND": "isocnet.notifications.backends.EmlFileBackend",
            "EMAIL_FILE_PATH": path,
        }
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "memory":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    raise ConfigError(f"{name}={value!r}: expected smtp://, smtps://, file://, console: or memory:")


def secret_key(var_dir: Path) -> str:
    value = os.environ.get("SECRET_KEY")
    if value is not None:
        if len(value) < 32:
            raise ConfigError("SECRET_KEY: must be at least 32 characters long")
        return value
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
