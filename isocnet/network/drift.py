"""The drift check: what billing says, what FreeRADIUS holds, and which
sessions are live, compared. Four kinds of drift, each with the action
that ends it:

| kind | meaning | repair |
|---|---|---|
| `paid_but_blocked` | billing: active; RADIUS: suspended group, another group, or nothing | write the plan's group; CoA to live sessions |
| `unpaid_but_open` | billing: suspended; RADIUS: not in the suspended group | write the suspended group; Disconnect live sessions |
| `unknown_username` | RADIUS has a username no service of billing has (or a cancelled one's) | remove its rows; Disconnect live sessions |
| `cancelled_session` | a live session (radacct, no stop time) of a cancelled or unknown service | Disconnect it |

``network_verify(repair=True)`` repairs each (audited, one row a drift)
through the same writer and NAS requests as the jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_event
from isocnet.core.jobs import JobRetry, jobs_queue
from isocnet.core.models import AuditEvent
from isocnet.core.permissions import require
from isocnet.network import radius_db
from isocnet.network.models import DriftCheck, NasRequest, NasRequestKind, ServiceIdentity
from isocnet.network.sync import NAS_JOB, apply, wanted_for
from isocnet.subscriptions.models import SubscriptionStatus

ACTIONS = {
    "paid_but_blocked": "restore the plan's group and send a CoA to live sessions",
    "unpaid_but_open": "move to the suspended group and disconnect live sessions",
    "unknown_username": "remove it from RADIUS and disconnect live sessions",
    "cancelled_session": "disconnect the session",
}


@dataclass
class Drift:
    kind: str
    username: str
    detail: str
    customer_id: int | None = None
    session: tuple[str, str] | None = None  # (Acct-Session-Id, NAS IP)
    repaired: bool = False

    @property
    def action(self) -> str:
        return ACTIONS[self.kind]

    @property
    def pk(self) -> str:  # for the audit row
        return self.username


def _read(db):
    groups: dict[str, str] = {}
    for username, group in db.all("SELECT username, groupname FROM radusergroup"):
        groups[str(username)] = str(group)
    names = set(groups) | {str(u) for (u,) in db.all("SELECT DISTINCT username FROM radcheck")}
    live = [
        (str(u), str(s), str(n))
        for u, s, n in db.all(
            "SELECT username, acctsessionid, nasipaddress FROM radacct WHERE acctstoptime IS NULL"
        )
    ]
    return groups, names, live


def network_drift() -> tuple[list[Drift], dict[str, ServiceIdentity]]:
    if not radius_db.enabled():
        raise JobRetry("RADIUS_DATABASE_URL is not set: there is no RADIUS database")
    identities = list(
        ServiceIdentity.objects.select_related("subscription__plan", "subscription__customer")
    )
    wanted = {w.username: w for w in wanted_for(identities)}
    with radius_db.radius_db() as db:
        groups, names, live = _read(db)
    drifts = []
    for username, w in sorted(wanted.items()):
        have = groups.get(username, "")
        status = w.identity.subscription.status
        customer_id = w.identity.subscription.customer_id
        if w.group == have:
            continue
        if status == SubscriptionStatus.ACTIVE:
            drifts.append(
                Drift(
                    "paid_but_blocked",
                    username,
                    f"billing: active; RADIUS: {have or 'not there'}",
                    customer_id,
                )
            )
        elif status == SubscriptionStatus.SUSPENDED:
            drifts.append(
                Drift(
                    "unpaid_but_open",
                    username,
                    f"billing: suspended; RADIUS: {have or 'not there'}",
                    customer_id,
                )
            )
        elif username in names:
            drifts.append(
                Drift(
                    "unknown_username",
                    username,
                    f"billing: {status}; RADIUS still has it",
                    customer_id,
                )
            )
    for username in sorted(names - set(wanted)):
        drifts.append(Drift("unknown_username", username, "no service in billing has it"))
    for username, session, nas_ip in live:
        w = wanted.get(username)
        if w is None or w.identity.subscription.status in (
            SubscriptionStatus.CANCELLED,
            SubscriptionStatus.PENDING,
        ):
            drifts.append(
                Drift(
                    "cancelled_session",
                    username,
                    f"live session {session} on {nas_ip}",
                    w.identity.subscription.customer_id if w else None,
                    (session, nas_ip),
                )
            )
    by_username = {i.username: i for i in identities if i.username}
    return drifts, by_username


def network_verify(*, actor: Actor, repair: bool = False) -> list[Drift]:
    """Find the drift; with ``repair``, end each one (audited). Each check
    is recorded (DriftCheck: the work queue shows the last one). Only a
    billing manager (or the system) repairs: it deletes RADIUS rows and
    disconnects sessions."""
    if repair:
        require(actor, "network.repair")
    drifts, identities = network_drift()
    kinds: dict[str, int] = {}
    for d in drifts:
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
    DriftCheck.objects.create(
        checked_at=clock.now(),
        drifts=0 if repair else len(drifts),
        kinds=kinds,
        repaired=repair and bool(drifts),
        checked_by=actor.label,
    )
    if not repair or not drifts:
        return drifts
    resync = {
        d.username for d in drifts if d.username in identities and d.kind != "cancelled_session"
    }
    if resync:
        # forget what RADIUS was last given, so the writer sends the NAS
        # requests a change of group calls for
        ServiceIdentity.objects.filter(username__in=resync).update(radius_state="?")
        apply(
            list(
                ServiceIdentity.objects.filter(username__in=resync).select_related(
                    "subscription__plan"
                )
            )
        )
    strangers = {
        d.username for d in drifts if d.kind == "unknown_username" and d.username not in identities
    }
    if strangers:
        with radius_db.radius_db() as db:
            for username in strangers:
                for table in ("radcheck", "radreply", "radusergroup"):
                    db.execute(f"DELETE FROM {table} WHERE username = ?", (username,))  # noqa: S608
    now = clock.now()
    with transaction.atomic():
        requests = NasRequest.objects.bulk_create(
            [
                NasRequest(
                    identity=identities.get(d.username),
                    username=d.username,
                    kind=NasRequestKind.DISCONNECT,
                    nas_ip=d.session[1],
                    session_id=d.session[0],
                    created_at=now,
                )
                for d in drifts
                if d.kind == "cancelled_session"
            ]
        )
        jobs_queue(NAS_JOB, [r.pk for r in requests])
        for d in drifts:
            d.repaired = True
        AuditEvent.objects.bulk_create(
            [
                audit_event(
                    actor=actor,
                    action="network.drift_repair",
                    obj=d,
                    customer_id=d.customer_id,
                    before={"kind": d.kind, "detail": d.detail},
                    after={"action": d.action},
                )
                for d in drifts
            ]
        )
    return drifts
