"""Keeping FreeRADIUS's tables in step with billing, one customer at a
time (job ``network.sync``, queued by every change of a service's status
and of a network identity, in that change's transaction).

Level-triggered: the job reads what billing says now and writes RADIUS to
match — an active service in its plan's group (the rate attributes), a
suspended one in RADIUS_SUSPENDED_GROUP (the walled garden, or a reject),
a pending or cancelled one removed — so running it twice changes nothing.
When a username's group changes and it has live sessions (``radacct``
rows without a stop time), a Disconnect-Request (suspended, removed) or a
CoA-Request with the plan's attributes (resumed, plan changed) is queued
for each session's NAS (isocnet.network.nas).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from isocnet.core import clock
from isocnet.core.jobs import job_handler, jobs_queue
from isocnet.network import radius_db
from isocnet.network.models import (
    NasRequest,
    NasRequestKind,
    ServiceIdentity,
    SpeedProfile,
    group_of,
)
from isocnet.network.vendors import rate_attributes, walled_garden_attributes
from isocnet.subscriptions.models import SubscriptionStatus
from isocnet.subscriptions.services import NETWORK_SYNC

NAS_JOB = "network.nas"


@dataclass
class Wanted:
    """What RADIUS should hold for one username."""

    identity: ServiceIdentity
    username: str
    group: str  # "" : nothing (removed)
    check: list[tuple[str, str, str]] = field(default_factory=list)
    reply: list[tuple[str, str, str]] = field(default_factory=list)


def wanted_for(identities: list[ServiceIdentity]) -> list[Wanted]:
    """Billing's word for these identities (one customer's, or all)."""
    addon_ip: dict[int, str] = {}
    for identity in identities:
        sub = identity.subscription
        if not identity.username and identity.static_ip and sub.status == SubscriptionStatus.ACTIVE:
            addon_ip.setdefault(sub.customer_id, identity.static_ip)
    out = []
    for identity in identities:
        if not identity.username:
            continue
        sub = identity.subscription
        wanted = Wanted(identity=identity, username=identity.username, group="")
        if sub.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED):
            if identity.password:
                wanted.check.append(("Cleartext-Password", ":=", identity.password))
            if sub.status == SubscriptionStatus.ACTIVE:
                wanted.group = group_of(sub.plan.code)
                ip = identity.static_ip or addon_ip.get(sub.customer_id)
                if ip:
                    wanted.reply.append(("Framed-IP-Address", ":=", ip))
            else:
                wanted.group = settings.RADIUS_SUSPENDED_GROUP
        out.append(wanted)
    return out


def group_rows() -> dict[str, tuple[list, list]]:
    """Every group's check and reply rows: each plan with a speed profile,
    and the suspended group."""
    groups = {
        profile.group: ([], rate_attributes(profile.download_kbps, profile.upload_kbps))
        for profile in SpeedProfile.objects.select_related("plan")
    }
    if settings.RADIUS_SUSPENDED_MODE == "reject":
        groups[settings.RADIUS_SUSPENDED_GROUP] = ([("Auth-Type", ":=", "Reject")], [])
    else:
        groups[settings.RADIUS_SUSPENDED_GROUP] = ([], walled_garden_attributes())
    return groups


def radius_write(db, wanted: list[Wanted], groups: dict, *, stale_usernames=()) -> None:
    """Replace each username's rows (and remove the stale ones), and the
    rows of the groups they are in (``groups``: group_rows())."""
    db.lock([w.username for w in wanted] + list(stale_usernames))
    for username in {w.username for w in wanted} | set(stale_usernames):
        for table in ("radcheck", "radreply", "radusergroup"):
            db.execute(f"DELETE FROM {table} WHERE username = ?", (username,))  # noqa: S608 - our table names
    for w in wanted:
        if not w.group:
            continue
        db.executemany(
            "INSERT INTO radcheck (username, attribute, op, value) VALUES (?, ?, ?, ?)",
            [(w.username, *row) for row in w.check],
        )
        db.executemany(
            "INSERT INTO radreply (username, attribute, op, value) VALUES (?, ?, ?, ?)",
            [(w.username, *row) for row in w.reply],
        )
        db.execute(
            "INSERT INTO radusergroup (username, groupname, priority) VALUES (?, ?, 1)",
            (w.username, w.group),
        )
    for group in {w.group for w in wanted if w.group}:
        check, reply = groups.get(group, ([], []))
        db.execute("DELETE FROM radgroupcheck WHERE groupname = ?", (group,))
        db.execute("DELETE FROM radgroupreply WHERE groupname = ?", (group,))
        db.executemany(
            "INSERT INTO radgroupcheck (groupname, attribute, op, value) VALUES (?, ?, ?, ?)",
            [(group, *row) for row in check],
        )
        db.executemany(
            "INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES (?, ?, ?, ?)",
            [(group, *row) for row in reply],
        )


def open_sessions(db, usernames) -> dict[str, list[tuple[str, str]]]:
    """Live sessions per username: (Acct-Session-Id, NAS IP)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for username in usernames:
        rows = db.all(
            "SELECT acctsessionid, nasipaddress FROM radacct "
            "WHERE username = ? AND acctstoptime IS NULL ORDER BY radacctid",
            (username,),
        )
        if rows:
            out[username] = [(str(a), str(b)) for a, b in rows]
    return out


def identities_of(customer_id: int) -> list[ServiceIdentity]:
    return list(
        ServiceIdentity.objects.filter(subscription__customer_id=customer_id).select_related(
            "subscription__plan"
        )
    )


def customer_sync(subject: str) -> str:
    """The job: make RADIUS match billing for one customer."""
    return apply(identities_of(int(subject)))


def apply(identities: list[ServiceIdentity]) -> str:
    wanted = wanted_for(identities)
    stale = [
        i.radius_username
        for i in identities
        if i.radius_username and i.radius_username != (i.username or "")
    ]
    groups = group_rows()
    with radius_db.radius_db() as db:
        radius_write(db, wanted, groups, stale_usernames=stale)
        changed = [w for w in wanted if w.group != w.identity.radius_state]
        sessions = open_sessions(db, [w.username for w in changed])
        sessions.update(open_sessions(db, stale))
    requests = _record(wanted, changed, sessions, stale, groups)
    return f"{len(wanted)} usernames in step, {len(changed)} changed, {requests} NAS requests"


def _record(wanted, changed, sessions, stale, groups) -> int:
    """Our side, after RADIUS committed: what RADIUS now holds, and the NAS
    requests for the live sessions whose group changed."""
    now = clock.now()
    made = []
    with transaction.atomic():
        for w in wanted:
            ServiceIdentity.objects.filter(pk=w.identity.pk).update(
                radius_state=w.group, radius_username=w.username if w.group else ""
            )
        for w in changed:
            kind = (
                NasRequestKind.COA
                if w.group and w.group != settings.RADIUS_SUSPENDED_GROUP
                else (NasRequestKind.DISCONNECT)
            )
            attributes = (
                {"reply": [list(r) for r in groups.get(w.group, ([], []))[1]]}
                if kind == NasRequestKind.COA
                else {}
            )
            for session_id, nas_ip in sessions.get(w.username, []):
                made.append(
                    NasRequest(
                        identity=w.identity,
                        username=w.username,
                        kind=kind,
                        nas_ip=nas_ip,
                        session_id=session_id,
                        attributes=attributes,
                        created_at=now,
                    )
                )
        for username in stale:
            for session_id, nas_ip in sessions.get(username, []):
                made.append(
                    NasRequest(
                        username=username,
                        kind=NasRequestKind.DISCONNECT,
                        nas_ip=nas_ip,
                        session_id=session_id,
                        created_at=now,
                    )
                )
        rows = NasRequest.objects.bulk_create(made)
        jobs_queue(NAS_JOB, [r.pk for r in rows])
    return len(made)


job_handler(NETWORK_SYNC, customer_sync, enabled=radius_db.enabled)
