"""The one client for requests that leave for an address someone typed
(webhook endpoints, any future callback): what it will connect to is
checked when the address is given and again, on the resolved address, at
every send.

- http(s) only (http:// only with WEBHOOK_ALLOW_HTTP), no user:password@;
- the name is resolved and **every** address it resolves to must be a
  public one: loopback, unspecified, private (RFC 1918, CGNAT, ULA),
  link-local (169.254.169.254, the cloud metadata service), multicast,
  reserved and broadcast addresses are refused, IPv4-mapped IPv6 read as
  IPv4 — unless an operator's OUTBOUND_ALLOW_NETWORKS names the network;
- the connection goes to the address that was checked (the name is not
  resolved a second time, so DNS rebinding gains nothing), with the name
  as Host and as TLS server name (certificates are verified);
- redirects are never followed (a 3xx is an answer, not a success);
- an error is said in a few fixed words ("could not connect", "timed
  out", ...), never with the socket's text: staff see it, and a port
  scanner must not.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from isocnet.core.errors import InvalidInput
from isocnet.core.validation import clean_line, ip_address_problem


class OutboundRefused(InvalidInput):
    """The address may not be connected to."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer
    error: str  # "" when the receiver answered 2xx


def _allowed(address) -> bool:
    return any(address in ipaddress.ip_network(net) for net in settings.OUTBOUND_ALLOW_NETWORKS)


def _address_problem(text: str) -> str | None:
    """Why a resolved address may not be reached, or None (an
    allow-listed network is reached whatever its class)."""
    try:
        address = ipaddress.ip_address(text.split("%")[0])  # a zone id: fe80::1%eth0
    except ValueError:
        return "is not an IP address"
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if _allowed(address):
        return None
    return ip_address_problem(str(address), public_only=True)[1]


def target_of(url, field: str = "url") -> Target:
    """The parts of an address we may send to, without resolving it."""
    url = clean_line(url, field, max_length=500)
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise OutboundRefused(
            "has a port that is not a number from 1 to 65535", field=field
        ) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise OutboundRefused("must be an https:// address", field=field)
    if parts.scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise OutboundRefused("must be https:// (WEBHOOK_ALLOW_HTTP allows http://)", field=field)
    if parts.username or parts.password:
        raise OutboundRefused("must not hold a user name or password", field=field)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or (443 if parts.scheme == "https" else 80),
        path=path,
    )


def resolve(target: Target, field: str = "url") -> str:
    """The address to connect to: every address the name resolves to must
    be allowed (a name with one public and one internal address is
    refused: which one a client would use is not ours to know)."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise OutboundRefused(f"the name {target.host} does not resolve", field=field) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        problem = _address_problem(address)
        if problem:
            raise OutboundRefused(
                f"{target.host} leads to {problem.split(' is ', 1)[-1]} "
                "(OUTBOUND_ALLOW_NETWORKS may allow it)",
                field=field,
            )
    if not addresses:
        raise OutboundRefused(f"the name {target.host} does not resolve", field=field)
    return addresses[0]


def url_check(url, field: str = "url") -> str:
    """``url`` if we may send to it now (checked again at every send)."""
    target = target_of(url, field)
    resolve(target, field)
    return url.strip()


class _HTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: int):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _HTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: int):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: int) -> Answer:
    """POST ``body``; the answer's status, or why there was none, in words
    fit for staff. Never follows a redirect."""
    try:
        target = target_of(url)
        address = resolve(target)
    except OutboundRefused as exc:
        return Answer(None, f"refused: {exc.message}")
    kind = _HTTPS if target.scheme == "https" else _HTTP
    connection = kind(target, address, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)
        status = response.status
    except TimeoutError:
        return Answer(None, "timed out")
    except ssl.SSLError:
        return Answer(None, "TLS failed (certificate or protocol)")
    except (ConnectionError, OSError, http.client.HTTPException):
        return Answer(None, "could not connect")
    finally:
        connection.close()
    if 200 <= status < 300:
        return Answer(status, "")
    if 300 <= status < 400:
        return Answer(status, f"HTTP {status}: redirects are not followed")
    return Answer(status, f"HTTP {status}")
