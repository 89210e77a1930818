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
