"""A real FreeRADIUS (Debian's 3.2) started by the tests, reading its
users and groups from an SQLite database in FreeRADIUS's own schema; a NAS
that listens for RFC 5176 Disconnect/CoA requests (pyrad); and radclient
to log in and to send accounting as a NAS does."""

from __future__ import annotations

import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pyrad import packet
from pyrad.dictionary import Dictionary
from pyrad.server import RemoteHost, Server

from isocnet.network.nas import DICTIONARY
from isocnet.network.radius_db import SCHEMAS
from tests.subproc import wait_for

CLIENT_SECRET = "testing123"  # clients.conf's localhost client, as Debian ships it
NAS_SECRET = "nas-secret"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Radius:
    auth_port: int
    acct_port: int
    db_path: Path
    log: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db_path}"

    def reset(self) -> None:
        with sqlite3.connect(self.db_path) as conn:
            for table in (
                "radcheck",
                "radreply",
                "radusergroup",
                "radgroupreply",
                "radgroupcheck",
                "radacct",
                "radpostauth",
                "nas",
            ):
                conn.execute(f"DELETE FROM {table}")
            conn.execute(
                "INSERT INTO nas (nasname, shortname, type, secret) VALUES (?, ?, ?, ?)",
                ("127.0.0.1", "test-nas", "other", NAS_SECRET),
            )

    def _radclient(self, kind: str, port: int, attributes: dict) -> str:
        assert self.process.poll() is None, "FreeRADIUS died: " + self.log.read_text()[-2000:]
        text = ", ".join(f'{k} = "{v}"' for k, v in attributes.items())
        result = subprocess.run(
            ["radclient", "-x", "-r", "3", "-t", "10", f"127.0.0.1:{port}", kind, CLIENT_SECRET],
            input=text,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return result.stdout + result.stderr

    def login(self, username: str, password: str) -> tuple[str, dict[str, str]]:
        """An Access-Request: ("Access-Accept" or "Access-Reject", reply attributes)."""
        out = self._radclient(
            "auth", self.auth_port, {"User-Name": username, "User-Password": password}
        )
        match = re.search(r"Received (Access-Accept|Access-Reject)", out)
        assert match, out
        reply = dict(
            re.findall(
                r"^\s+([A-Za-z][\w-]+) = \"?([^\"\n]*)\"?$", out.split("Received", 1)[1], re.M
            )
        )
        return match.group(1), reply

    def session_start(self, username: str, session_id: str) -> None:
        """What a NAS sends when a customer's session starts: FreeRADIUS
        writes the radacct row."""
        out = self._radclient(
            "acct",
            self.acct_port,
            {
                "User-Name": username,
                "Acct-Status-Type": "Start",
                "Acct-Session-Id": session_id,
                "NAS-IP-Address": "127.0.0.1",
                "NAS-Port": "1",
                "Framed-IP-Address": "100.64.0.10",
            },
        )
        assert "Accounting-Response" in out, out


@pytest.fixture(scope="session")
def freeradius():
    if not shutil.which("freeradius") or not shutil.which("radclient"):
        pytest.fail(
            "FreeRADIUS is missing: apt-get install freeradius freeradius-utils (.ci/run does)"
        )
    # not under pytest's own temporary folder: its parents are root's alone,
    # and the server drops to the freerad user
    work = Path(tempfile.mkdtemp(prefix="isocnet-freeradius-"))
    raddb = work / "raddb"
    shutil.copytree("/etc/freeradius/3.0", raddb, symlinks=True)
    db_path = work / "db" / "radius.sqlite3"
    db_path.parent.mkdir()
    with sqlite3.connect(db_path) as conn:
        conn.executescript((SCHEMAS / "sqlite" / "schema.sql").read_text())
    sql = raddb / "mods-available" / "sql"
    text = sql.read_text().replace('driver = "rlm_sql_null"', 'driver = "rlm_sql_sqlite"')
    text = text.replace('filename = "/tmp/freeradius.db"', f'filename = "{db_path}"')
    sql.write_text(text)
    (raddb / "mods-enabled" / "sql").symlink_to("../mods-available/sql")
    auth, acct = free_udp_port(), free_udp_port()
    site = raddb / "sites-available" / "default"
    text = site.read_text()
    ports = iter([auth, acct, free_udp_port(), free_udp_port()])
    text = re.sub(r"(?m)^(\s*port = )0\s*$", lambda m: f"{m.group(1)}{next(ports)}", text)
    text = text.replace("ipaddr = *", "ipaddr = 127.0.0.1").replace(
        "ipv6addr = ::", "ipv6addr = ::1"
    )
    site.write_text(text)
    tunnel = raddb / "sites-available" / "inner-tunnel"
    tunnel.write_text(tunnel.read_text().replace("port = 18120", f"port = {free_udp_port()}"))
    conf = raddb / "radiusd.conf"
    (work / "run").mkdir()
    (work / "log").mkdir()
    conf.write_text(
        conf.read_text()
        .replace("run_dir = ${localstatedir}/run/${name}", f"run_dir = {work / 'run'}")
        .replace("logdir = /var/log/freeradius", f"logdir = {work / 'log'}")
    )
    subprocess.run(["chown", "-R", "freerad:freerad", str(work)], check=True)
    log = work / "freeradius.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["freeradius", "-X", "-d", str(raddb)], stdout=out, stderr=subprocess.STDOUT
        )
    server = Radius(auth, acct, db_path, log, process)
    try:
        try:
            wait_for(
                lambda: "Ready to process requests" in log.read_text(),
                what="FreeRADIUS to start",
                alive=process,
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{log.read_text()[-3000:]}") from None
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Nas:
    """A NAS's dynamic-authorization listener: records what it receives
    and answers ACK — or NAK, or nothing — as the test wants."""

    port: int
    received: list = field(default_factory=list)
    answer: str = "ack"  # "ack", "nak" or "silent"

    def of(self, kind: str) -> list[dict]:
        return [r for r in self.received if r["kind"] == kind]


class _NasServer(Server):
    def __init__(self, nas: Nas, **kw):
        super().__init__(**kw)
        self.nas = nas

    def _record(self, pkt, kind: str, ack: int, nak: int):
        attrs = {key: pkt[key] for key in pkt.keys()}  # noqa: SIM118 - names, not codes
        self.nas.received.append({"kind": kind, "attributes": attrs, "at": time.monotonic()})
        if self.nas.answer == "silent":
            return
        reply = self.CreateReplyPacket(pkt)
        reply.code = ack if self.nas.answer == "ack" else nak
        if self.nas.answer == "nak":
            reply["Error-Cause"] = 506  # Resources Unavailable
        self.SendReplyPacket(pkt.fd, reply)

    def HandleDisconnectPacket(self, pkt):
        self._record(pkt, "disconnect", packet.DisconnectACK, packet.DisconnectNAK)

    def HandleCoaPacket(self, pkt):
        self._record(pkt, "coa", packet.CoAACK, packet.CoANAK)


@pytest.fixture(scope="session")
def nas_listener():
    port = free_udp_port()
    nas = Nas(port=port)
    server = _NasServer(
        nas,
        addresses=["127.0.0.1"],
        dict=Dictionary(str(DICTIONARY)),
        coaport=port,
        auth_enabled=False,
        acct_enabled=False,
        coa_enabled=True,
        hosts={"127.0.0.1": RemoteHost("127.0.0.1", NAS_SECRET.encode(), "test-nas")},
    )
    threading.Thread(target=server.Run, daemon=True, name="nas").start()
    return nas


@pytest.fixture
def network(freeradius, nas_listener, settings):
    """A clean RADIUS database and NAS for each test, ISOCNET pointed at them."""
    freeradius.reset()
    nas_listener.received.clear()
    nas_listener.answer = "ack"
    settings.RADIUS_DATABASE_URL = freeradius.url
    settings.RADIUS_COA_PORT = nas_listener.port
    settings.RADIUS_COA_TIMEOUT = (
        15  # a busy machine may answer late; only the silent NAS waits it out
    )
    settings.JOB_RETRY_SECONDS = 1
    return freeradius, nas_listener
