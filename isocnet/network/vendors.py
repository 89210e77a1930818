"""RADIUS reply attributes per NAS vendor: a plan's rate limit, and the
walled garden of a suspended service. RADIUS_NAS_VENDOR picks the table;
RADIUS_WALLED_GARDEN names the address list / filter the NAS redirects to
the portal's pay page."""

from __future__ import annotations

from django.conf import settings


def _mikrotik_rate(down: int, up: int) -> list[tuple[str, str, str]]:
    # MikroTik reads rx-rate/tx-rate from the router's side: rx is the
    # customer's upload.
    return [("Mikrotik-Rate-Limit", ":=", f"{up}k/{down}k")]


VENDORS = {
    "mikrotik": {
        "rate": _mikrotik_rate,
        "walled": lambda name: [("Mikrotik-Address-List", ":=", name)],
    },
    "cisco": {
        "rate": lambda down, up: [
            ("Cisco-AVPair", "+=", f"ip:rate-limit=input {up * 1000} output {down * 1000}")
        ],
        "walled": lambda name: [("Cisco-AVPair", "+=", f"subscriber:accounting-list={name}")],
    },
    "juniper": {
        "rate": lambda down, up: [("ERX-Qos-Profile-Name", ":=", f"rate-{down}k-{up}k")],
        "walled": lambda name: [("ERX-Ingress-Policy-Name", ":=", name)],
    },
    "generic": {
        "rate": lambda down, up: [("Filter-Id", ":=", f"rate-{down}k-{up}k")],
        "walled": lambda name: [("Filter-Id", ":=", name)],
    },
}


def rate_attributes(download_kbps: int, upload_kbps: int) -> list[tuple[str, str, str]]:
    return VENDORS[settings.RADIUS_NAS_VENDOR]["rate"](download_kbps, upload_kbps)


def walled_garden_attributes() -> list[tuple[str, str, str]]:
    return VENDORS[settings.RADIUS_NAS_VENDOR]["walled"](settings.RADIUS_WALLED_GARDEN)
