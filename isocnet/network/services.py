"""Staff set what the network knows a service by, and a plan's speed.
Each change is audited and queues the customer's RADIUS sync in the same
transaction."""

from __future__ import annotations

import re

from django.db import transaction

from isocnet.catalog.models import Plan
from isocnet.core import clock
from isocnet.core.actors import Actor
from isocnet.core.audit import audit_changes, audit_record
from isocnet.core.errors import Conflict, InvalidInput, NotFound
from isocnet.core.jobs import job_queue, jobs_queue
from isocnet.core.permissions import require
from isocnet.core.validation import clean_ip_address, clean_line
from isocnet.customers.services import customer_lock
from isocnet.network.models import ServiceIdentity, SpeedProfile
from isocnet.subscriptions.models import Subscription, SubscriptionStatus
from isocnet.subscriptions.services import NETWORK_SYNC

_USERNAME = re.compile(r"^[A-Za-z0-9._@:+-]{1,64}$")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
FIELDS = ("username", "password", "mac", "circuit_id", "static_ip")


# What FreeRADIUS's SQL module would read as an expression rather than a
# value: a value wrapped in backticks runs a program or an xlat, in double
# quotes it is expanded (``%{sql:…}``), surrounding single quotes are
# stripped, a backslash escapes. Refused in every RADIUS value we keep.
_RADIUS_SPECIAL = frozenset("`'\"\\%")


def _radius_value(field: str, value: str) -> str:
    if any(ch in _RADIUS_SPECIAL for ch in value):
        raise InvalidInput(
            "must not contain ` ' \" \\ or % (FreeRADIUS would read the value as an expression)",
            field=field,
        )
    if not value.isascii():
        raise InvalidInput("must be plain ASCII (NASes send it as bytes)", field=field)
    return value


def _clean(field: str, value) -> str | None:
    if value is None:
        return None
    max_length = ServiceIdentity._meta.get_field(field).max_length or 45
    value = clean_line(str(value), field, max_length=max_length, required=False)
    if not value:
        return ""
    if field == "username" and not _USERNAME.match(value):
        raise InvalidInput("1-64 letters, digits and . _ @ : + - (no spaces)", field="username")
    if field == "mac":
        value = value.lower().replace("-", ":")
        if not _MAC.match(value):
            raise InvalidInput("a MAC address, e.g. 00:11:22:aa:bb:cc", field="mac")
    if field == "static_ip":
        value = clean_ip_address(value, "static_ip")
    if field in ("password", "circuit_id"):
        value = _radius_value(field, value)
    return value


def identity_input_clean(changes: dict) -> dict:
    """The one check of an identity's values (API, admin form, CSV import):
    the cleaned values, None for those left unchanged."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise InvalidInput("unknown field", field=sorted(unknown)[0])
    return {k: _clean(k, v) for k, v in changes.items() if v is not None}


def identity_check(*, subscription_id: int | None, **changes) -> dict:
    """Whether identity_set would take these values, writing nothing: the
    admin form asks it so a clash is a form error, not a failed save."""
    cleaned = identity_input_clean(changes)
    identity = (
        ServiceIdentity.objects.filter(subscription_id=subscription_id).first()
        if subscription_id
        else None
    ) or ServiceIdentity(subscription_id=subscription_id)
    for key, value in cleaned.items():
        setattr(identity, key, value or (None if key in ("username", "static_ip") else ""))
    _clash(identity)
    return cleaned


def identity_set(*, actor: Actor, subscription_id: int, **changes) -> ServiceIdentity:
    """Set a service's username, password, MAC, circuit id or static IP
    (None: unchanged; "": cleared). Usernames are unique; a static IP is
    unique among services that are not cancelled (one held by a cancelled
    service is taken from it)."""
    require(actor, "service.change")
    cleaned = identity_input_clean(changes)
    with transaction.atomic():
        customer_id = (
            Subscription.objects.filter(pk=subscription_id)
            .values_list("customer_id", flat=True)
            .first()
        )
        if customer_id is None:
            raise NotFound(f"no service with id {subscription_id}", field="subscription")
        customer_lock(customer_id)
        sub = Subscription.objects.select_for_update().get(pk=subscription_id)
        identity = ServiceIdentity.objects.filter(subscription=sub).first() or ServiceIdentity(
            subscription=sub, updated_at=clock.now()
        )
        before = {k: getattr(identity, k) or "" for k in FIELDS}
        for key, value in cleaned.items():
            setattr(identity, key, value or (None if key in ("username", "static_ip") else ""))
        if identity.mac and not identity.username:
            identity.username = identity.mac  # MAC-authenticated IPoE
        _unique(identity)
        identity.updated_at = clock.now()
        identity.save()
        after = {k: getattr(identity, k) or "" for k in FIELDS}
        masked = {k: ("(set)" if k == "password" and v else v) for k, v in after.items()}
        audit_changes(
            actor=actor,
            action="network.identity_set",
            obj=identity,
            customer_id=customer_id,
            before={k: ("(set)" if k == "password" and v else v) for k, v in before.items()},
            after=masked,
        )
        job_queue(NETWORK_SYNC, customer_id)
    return identity


def _clash(identity: ServiceIdentity) -> ServiceIdentity | None:
    """Raise Conflict when a username (in any case: a NAS sends "Alice" and
    FreeRADIUS's SQL lookup may match "alice") or a static IP in use belongs
    to another service; the cancelled service holding the IP, if any."""
    others = ServiceIdentity.objects.exclude(pk=identity.pk)
    if identity.username and others.filter(username__iexact=identity.username).exists():
        raise Conflict(
            f"the username {identity.username} belongs to another service", field="username"
        )
    if identity.static_ip:
        holder = others.filter(static_ip=identity.static_ip).select_related("subscription").first()
        if holder is not None:
            if holder.subscription.status != SubscriptionStatus.CANCELLED:
                raise Conflict(
                    f"{identity.static_ip} is in use by service {holder.subscription_id}",
                    field="static_ip",
                )
            return holder
    return None


def _unique(identity: ServiceIdentity) -> None:
    holder = _clash(identity)
    if holder is not None:
        holder.static_ip = None  # a cancelled service gives its address back
        holder.save(update_fields=["static_ip"])


def speed_profile_set(
    *, actor: Actor, plan_id: int, download_kbps: int, upload_kbps: int
) -> SpeedProfile:
    """A plan's speed on the network; every customer on the plan is synced."""
    require(actor, "catalog.edit")
    for name, value in (("download_kbps", download_kbps), ("upload_kbps", upload_kbps)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000_000:
            raise InvalidInput("kbit/s, a whole number from 1 to 100000000", field=name)
    with transaction.atomic():
        plan = Plan.objects.filter(pk=plan_id).first()
        if plan is None:
            raise NotFound(f"no plan with id {plan_id}", field="plan")
        profile, _ = SpeedProfile.objects.update_or_create(
            plan=plan,
            defaults={
                "download_kbps": download_kbps,
                "upload_kbps": upload_kbps,
                "updated_at": clock.now(),
            },
        )
        audit_record(
            actor=actor,
            action="network.speed_profile_set",
            obj=profile,
            after={"plan": plan.code, "download_kbps": download_kbps, "upload_kbps": upload_kbps},
        )
        jobs_queue(
            NETWORK_SYNC,
            ServiceIdentity.objects.filter(subscription__plan=plan).values_list(
                "subscription__customer_id", flat=True
            ),
        )
    return profile
