"""RFC 5176 requests to the NAS a live session is on (job
``network.nas``, one per request): a Disconnect-Request when a service is
suspended or removed, a CoA-Request with the plan's attributes when it is
resumed or changes plan, so the change takes effect now, not at the next
login. Sent with pyrad to the NAS's dynamic-authorization port
(RADIUS_COA_PORT, 3799) with the NAS's shared secret (FreeRADIUS's ``nas``
table, else RADIUS_NAS_SECRETS). The answer is recorded: ACK → done; NAK
or silence → tried again with backoff (core.jobs), then failed and shown
in the back office's work queue. A NAK saying the session is gone (Error-
Cause 503) counts as done: there is nothing left to cut."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from pyrad import packet
from pyrad.client import Client, Timeout
from pyrad.dictionary import Dictionary

from isocnet.core import clock
from isocnet.core.jobs import JobRetry, job_handler
from isocnet.network import radius_db
from isocnet.network.models import NasRequest, NasRequestKind, NasRequestStatus
from isocnet.network.sync import NAS_JOB

DICTIONARY = Path(__file__).parent / "radius" / "dictionary"
SESSION_NOT_FOUND = 503
_dictionary: list[Dictionary] = []


def dictionary() -> Dictionary:
    if not _dictionary:
        _dictionary.append(Dictionary(str(DICTIONARY)))
    return _dictionary[0]


def nas_secret(nas_ip: str) -> str:
    """The NAS's shared secret: FreeRADIUS's ``nas`` table, else the
    RADIUS_NAS_SECRETS setting (ip=secret, comma-separated)."""
    with radius_db.radius_db() as db:
        row = db.all("SELECT secret FROM nas WHERE nasname = ?", (nas_ip,))
    if row:
        return str(row[0][0])
    configured = dict(
        pair.split("=", 1) for pair in settings.RADIUS_NAS_SECRETS.split(",") if "=" in pair
    )
    if nas_ip in configured:
        return configured[nas_ip]
    raise JobRetry(f"no shared secret for NAS {nas_ip} (nas table or RADIUS_NAS_SECRETS)")


def _packet(client: Client, request: NasRequest):
    code = (
        packet.DisconnectRequest if request.kind == NasRequestKind.DISCONNECT else packet.CoARequest
    )
    pkt = client.CreateCoAPacket(code=code)
    pkt["User-Name"] = request.username
    pkt["Acct-Session-Id"] = request.session_id
    for attribute, _op, value in request.attributes.get("reply", []):
        try:
            pkt[attribute] = value
        except KeyError:  # an attribute of another vendor's table: not ours to send
            continue
    return pkt


def nas_request_send(subject: str) -> str:
    """The job: send one request and record the NAS's answer."""
    request = NasRequest.objects.filter(pk=int(subject)).first()
    if request is None or request.status == NasRequestStatus.ACK:
        return "nothing to send"
    secret = nas_secret(request.nas_ip)
    client = Client(
        server=request.nas_ip,
        secret=secret.encode(),
        dict=dictionary(),
        coaport=settings.RADIUS_COA_PORT,
        retries=1,
        timeout=settings.RADIUS_COA_TIMEOUT,
    )
    NasRequest.objects.filter(pk=request.pk).update(attempts=request.attempts + 1)
    try:
        reply = client.SendPacket(_packet(client, request))
    except (Timeout, OSError) as exc:
        _answer(request, NasRequestStatus.NO_ANSWER, f"no answer: {exc or 'timed out'}")
        raise JobRetry(f"{request}: the NAS did not answer") from None
    if reply.code in (packet.DisconnectACK, packet.CoAACK):
        _answer(request, NasRequestStatus.ACK, "ACK")
        return "ACK"
    cause = reply.get("Error-Cause", [None])[0]
    if request.kind == NasRequestKind.DISCONNECT and cause == SESSION_NOT_FOUND:
        _answer(request, NasRequestStatus.ACK, "NAK 503: the session had already ended")
        return "session already gone"
    _answer(request, NasRequestStatus.NAK, f"NAK (Error-Cause {cause})")
    raise JobRetry(f"{request}: the NAS refused (Error-Cause {cause})")


def _answer(request: NasRequest, status: str, answer: str) -> None:
    NasRequest.objects.filter(pk=request.pk).update(
        status=status, answer=answer[:300], answered_at=clock.now()
    )


job_handler(NAS_JOB, nas_request_send, enabled=radius_db.enabled)
