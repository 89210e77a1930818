"""The network: what it knows a service by, a plan's speed, the drift
check (docs/network.md)."""

from ninja import Router, Schema

from isocnet.api.v1.base import actor_of
from isocnet.api.v1.schemas import ErrorOut, Strict
from isocnet.core.errors import Conflict, NotFound
from isocnet.core.jobs import JobRetry
from isocnet.network.drift import network_verify
from isocnet.network.models import ServiceIdentity
from isocnet.network.services import identity_set, speed_profile_set

router = Router(tags=["network"])
_WRITE = {404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class IdentityIn(Strict):
    username: str | None = None
    password: str | None = None
    mac: str | None = None
    circuit_id: str | None = None
    static_ip: str | None = None


class IdentityOut(Schema):
    subscription: int
    username: str
    password_set: bool
    mac: str
    circuit_id: str
    static_ip: str
    radius_group: str


class SpeedIn(Strict):
    download_kbps: int
    upload_kbps: int


class SpeedOut(Schema):
    plan: int
    download_kbps: int
    upload_kbps: int
    group: str


class DriftOut(Schema):
    kind: str
    username: str
    detail: str
    action: str
    repaired: bool


def identity_out(identity: ServiceIdentity) -> dict:
    return {
        "subscription": identity.subscription_id,
        "username": identity.username or "",
        "password_set": bool(identity.password),
        "mac": identity.mac,
        "circuit_id": identity.circuit_id,
        "static_ip": identity.static_ip or "",
        "radius_group": identity.radius_state,
    }


@router.get("/subscriptions/{subscription_id}/network", response={200: IdentityOut, 404: ErrorOut})
def get_identity(request, subscription_id: int):
    identity = ServiceIdentity.objects.filter(subscription_id=subscription_id).first()
    if identity is None:
        raise NotFound(f"service {subscription_id} has no network identity", field="id")
    return identity_out(identity)


@router.put("/subscriptions/{subscription_id}/network", response={200: IdentityOut, **_WRITE})
def set_identity(request, subscription_id: int, payload: IdentityIn):
    """Set what the network knows the service by (omitted: unchanged; "":
    cleared). FreeRADIUS follows within seconds. The password is never
    returned."""
    identity = identity_set(
        actor=actor_of(request), subscription_id=subscription_id, **payload.dict()
    )
    return identity_out(identity)


@router.put("/plans/{plan_id}/speed", response={200: SpeedOut, **_WRITE})
def set_speed(request, plan_id: int, payload: SpeedIn):
    profile = speed_profile_set(
        actor=actor_of(request),
        plan_id=plan_id,
        download_kbps=payload.download_kbps,
        upload_kbps=payload.upload_kbps,
    )
    return {
        "plan": profile.plan_id,
        "download_kbps": profile.download_kbps,
        "upload_kbps": profile.upload_kbps,
        "group": profile.group,
    }


def _drift(request, repair: bool) -> list[dict]:
    try:
        drifts = network_verify(actor=actor_of(request), repair=repair)
    except JobRetry as exc:
        raise Conflict(str(exc), field="radius") from None
    return [
        {
            "kind": d.kind,
            "username": d.username,
            "detail": d.detail,
            "action": d.action,
            "repaired": d.repaired,
        }
        for d in drifts
    ]


@router.get("/network/drift", response={200: list[DriftOut], 409: ErrorOut})
def drift(request):
    """Billing vs FreeRADIUS vs live sessions (409: RADIUS unreachable or not set)."""
    return _drift(request, repair=False)


@router.post("/network/drift/repair", response={200: list[DriftOut], 409: ErrorOut})
def drift_repair(request):
    """Repair every drift found (audited)."""
    return _drift(request, repair=True)
