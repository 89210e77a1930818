"""The ``isocnet`` command in a child process, on the test's database: for
the tests that kill it (SIGKILL), cut its connection or time it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from django.db import connection


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


# Runs a management command with the injectable clock frozen at a moment:
# "five minutes later" for a restarted sender, without touching the rows.
_AT = """
import datetime as dt, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isocnet.settings")
import django
django.setup()
from django.core.management import call_command
from isocnet.core import clock
with clock.frozen_at(dt.datetime.fromisoformat(sys.argv[1])):
    call_command(*sys.argv[2:])
"""


def isocnet(
    *args: str, var_dir: Path, at: dt.datetime | None = None, env: dict | None = None
) -> subprocess.Popen:
    """Start ``isocnet ARGS`` (at the moment ``at`` when given)."""
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "VAR_DIR": str(var_dir),
        **(env or {}),
    }
    full_env.pop("DJANGO_SETTINGS_MODULE", None)
    if at is None:
        command = [str(Path(sys.executable).with_name("isocnet")), *args]
    else:
        command = [sys.executable, "-c", _AT, at.isoformat(), *args]
    return subprocess.Popen(
        command, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_until_serving(
    process: subprocess.Popen, port: int, *, log: Path | None = None, ceiling: float = 120
) -> None:
    """Poll 127.0.0.1:``port`` until the server answers. Fails at once, with
    the end of its log, if the process has died; else after ``ceiling``
    seconds (a busy 2-core CI machine may take a while to start gunicorn)."""
    import socket
    import time

    deadline = time.monotonic() + ceiling
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
                raise AssertionError(f"the server exited ({process.returncode}):\n{tail}") from None
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not answer within {ceiling:.0f} s") from None
            time.sleep(0.2)


def wait_for(condition, *, what: str, ceiling: float = 120, alive: subprocess.Popen | None = None):
    """Poll ``condition()`` until it is true (or fail after ``ceiling`` s,
    or at once if ``alive`` has exited)."""
    import time

    deadline = time.monotonic() + ceiling
    while not condition():
        if alive is not None and alive.poll() is not None:
            raise AssertionError(f"{what}: the process exited ({alive.returncode}) first")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {ceiling:.0f} s")
        time.sleep(0.2)
