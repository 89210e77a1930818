"""The `isocnet` command as an operator runs it: real processes, real files."""

import contextlib
import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.subproc import wait_for, wait_until_serving

ISOCNET = str(Path(sys.executable).with_name("isocnet"))


def run(args, env_extra, tmp_path, check=True):
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {"VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    )
    env.update(env_extra)
    result = subprocess.run([ISOCNET, *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CURRENCY", "XYZ"),
        ("DATABASE_URL", "mysql://localhost/db"),
        ("DATABASE_CONN_MAX_AGE", "-5"),
        ("EMAIL_URL", "ftp://mail.example"),
        ("EMAIL_URL", "smtp://mail.example:notaport"),
        ("TIME_ZONE", "Mars/Olympus_Mons"),
        ("DEBUG", "maybe"),
        ("SECRET_KEY", "short"),
        ("PORTAL_URL", "portal.example.com"),
        ("PAYMENT_TERMS_DAYS", "-1"),
        ("INVOICE_NUMBER_FORMAT", "{year}-{customer}"),
    ],
)
def test_a_bad_setting_fails_at_start_naming_the_variable(tmp_path, variable, value):
    result = run(["check"], {variable: value}, tmp_path, check=False)
    assert result.returncode == 2
    assert (
        f"configuration error: {variable}=" in result.stderr
        or f"configuration error: {variable}:" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_apikey_create_prints_the_key_once_as_the_last_word(tmp_path):
    run(["migrate", "--noinput", "-v0"], {}, tmp_path)
    out = run(["apikey", "create", "billing-script"], {}, tmp_path).stdout
    token = out.split()[-1]
    assert token.startswith("isk_")
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        stored = db.execute(
            "select token_hash from api_apitoken where name = 'billing-script'"
        ).fetchone()[0]
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (tmp_path / "db.sqlite3").read_bytes().decode("latin-1")
    again = run(["apikey", "create", "billing-script"], {}, tmp_path, check=False)
    assert again.returncode != 0
    assert "already exists" in again.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(tmp_path):
    """`isocnet serve` on a free port over the tmp database; yields the base URL once it answers."""
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {"VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    )
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [ISOCNET, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),  # noqa: SIM115 - read when it dies
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(server, port, log=log)
        wait_for(lambda: _answers(f"{base}/healthz"), what="/healthz", alive=server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=120)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10):
            return True
    except OSError:
        return False


def test_serve_answers_with_the_site_and_static_files(tmp_path):
    run(["migrate", "--noinput", "-v0"], {}, tmp_path)
    with serving(tmp_path) as base:
        for path, marker in [
            ("/admin/login/", b"Username"),
            ("/api/v1/docs", b"swagger"),
            ("/static/admin/css/base.css", b"{"),
        ]:
            with urllib.request.urlopen(base + path, timeout=60) as response:
                assert response.status == 200
                assert marker in response.read()


def test_serve_refuses_an_unmigrated_database(tmp_path):
    result = run(["serve", "--port", str(_free_port())], {}, tmp_path, check=False)
    assert result.returncode != 0
    assert "isocnet migrate" in result.stderr


def test_serve_delivers_the_outbox_by_itself(tmp_path):
    run(["migrate", "--noinput", "-v0"], {}, tmp_path)
    demo = run(["demo", "--customers", "3"], {}, tmp_path).stdout
    issued = int(demo.split("Billing run for today: ")[1].split(" ")[0])
    assert issued >= 1
    assert "invoices issued: 0" in run(["bill"], {}, tmp_path).stdout
    mail = tmp_path / "var" / "mail"
    assert not list(mail.glob("*.eml"))

    def invoice_emails():
        return [
            p
            for p in mail.glob("*.eml")
            if "Subject: Customer Invoice" in p.read_text(errors="replace")
        ]

    with serving(tmp_path):
        wait_for(lambda: len(invoice_emails()) >= issued, what="the server delivering the outbox")
    invoices = invoice_emails()
    assert len(invoices) == issued


def test_deliver_command_sends_what_is_pending(tmp_path):
    run(["migrate", "--noinput", "-v0"], {}, tmp_path)
    run(["demo", "--customers", "2"], {}, tmp_path)
    run(["bill"], {}, tmp_path)
    out = run(["deliver"], {}, tmp_path).stdout
    sent = int(out.split("sent ")[1].split(",")[0])
    assert sent >= 1
    assert len(list((tmp_path / "var" / "mail").glob("*.eml"))) == sent
    assert run(["deliver"], {}, tmp_path).stdout.startswith("sent 0")


def test_deliver_from_three_processes_sends_each_message_once(tmp_path):
    run(["migrate", "--noinput", "-v0"], {}, tmp_path)
    run(["demo", "--customers", "40"], {}, tmp_path)
    run(["bill"], {}, tmp_path)
    out = run(["deliver", "--processes", "3"], {}, tmp_path).stdout
    sent = int(out.split("sent ")[1].split(",")[0])
    assert sent >= 40
    emails = list((tmp_path / "var" / "mail").glob("*.eml"))
    assert len(emails) == sent  # each message once, whichever process claimed it
    ids = [
        line
        for p in emails
        for line in p.read_text(errors="replace").splitlines()
        if line.startswith("Message-ID:")
    ]
    assert len(set(ids)) == sent
    assert run(["deliver", "--processes", "2"], {}, tmp_path).stdout.startswith("sent 0")
    bad = run(["deliver", "--processes", "0"], {}, tmp_path, check=False)
    assert bad.returncode != 0 and "--processes" in bad.stderr


def test_an_sqlite_older_than_3_35_is_refused_naming_the_variable(monkeypatch):
    import sqlite3

    from isocnet.core.config import ConfigError, database_from_url

    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    monkeypatch.setenv("SOME_DATABASE_URL", "sqlite:///var/x.sqlite3")
    with pytest.raises(ConfigError, match=r"SOME_DATABASE_URL=.*SQLite 3.31.1 is too old; 3.35"):
        database_from_url("SOME_DATABASE_URL", "")
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 40, 1))
    assert database_from_url("SOME_DATABASE_URL", "")["NAME"].endswith("x.sqlite3")


def test_serve_collects_static_files_only_when_they_changed(settings, tmp_path, monkeypatch):
    """Issue #32: `isocnet serve` collected (and compressed) every static
    file at every start — half a minute before the first answer. Now once
    per install or upgrade."""
    from isocnet.cli.management.commands import serve

    settings.STATIC_ROOT = tmp_path
    collected = []
    monkeypatch.setattr(serve, "call_command", lambda *a, **k: collected.append(a[0]))
    command = serve.Command()
    command._static_files()
    command._static_files()
    assert collected == ["collectstatic"]
    (tmp_path / ".collected").write_text("an older install")
    command._static_files()
    assert collected == ["collectstatic", "collectstatic"]


def test_the_help_lists_our_commands_not_djangos_seventy(capsys):
    """Issue #32: `isocnet --help` printed 75 lines of Django's and axes'
    commands."""
    from isocnet.cli.main import main

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "  bill " in out and "  bank-import " in out and "  migrate " in out
    assert "axes_reset" not in out and "sqlflush" not in out and len(out.splitlines()) < 30
    assert "isocnet django help" in out


def test_export_says_what_it_wrote(db, tmp_path, capsys):
    from django.core.management import call_command

    target = tmp_path / "invoices.csv"
    call_command(
        "export", "invoices", "--from", "2026-01-01", "--to", "2026-12-31", "-o", str(target)
    )
    assert (
        f"Exported 0 invoices rows of 2026-01-01 to 2026-12-31 to {target}."
        in capsys.readouterr().err
    )
