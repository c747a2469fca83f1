"""Which URLs webhooks may be sent to.

Private addresses (loopback, RFC 1918, link-local) are allowed by default because the host app
usually runs beside LedgerBridge. Stricter deployments set `LEDGERBRIDGE_WEBHOOK_ALLOW_PRIVATE=false`
(checked on every request, against the addresses the name resolves to then) and/or an allow-list
of hosts in `LEDGERBRIDGE_WEBHOOK_ALLOWED_HOSTS` (exact names, or `.example.com` for a domain).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.settings import get_settings


class DestinationRefused(LedgerBridgeError):
    code = "validation_failed"
    field = "url"

    @property
    def detail(self) -> str:
        return self.message


def check_url(url: str) -> str:
    """Refuse a URL this deployment does not send to (scheme and allow-list); returns its host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise DestinationRefused(f"{url!r} is not an http(s) URL.", fix="Give the full URL, e.g. https://app.example.com/hooks.")
    allowed = get_settings().webhook_allowed_hosts
    if allowed and not any(host == entry or (entry.startswith(".") and host.endswith(entry)) for entry in allowed):
        raise DestinationRefused(
            f"{host} is not in this server's list of webhook destinations.",
            fix="Use an allowed host, or ask the administrator to add it to LEDGERBRIDGE_WEBHOOK_ALLOWED_HOSTS.",
        )
    return host


async def check_destination(url: str) -> None:
    """`check_url`, and with private addresses refused, what the name resolves to now."""
    host = check_url(url)
    if get_settings().webhook_allow_private:
        return
    port = urlsplit(url).port or 443
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
            raise DestinationRefused(
                f"{host} resolves to a private address ({address}), which this server does not send to.",
                fix="Use a public address, or set LEDGERBRIDGE_WEBHOOK_ALLOW_PRIVATE=true.",
            )
