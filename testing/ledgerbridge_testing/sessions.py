"""A provider session like the core's, that keeps every request it sends for the test to read.

A plugin's tests connect its sandbox through the plugin's own OAuth hooks and then call its hooks
with a ``ProviderSession`` built the way ``ledgerbridge.connections.open_session`` builds one; what
the test then checks is what went over the wire, so the session's client records each request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from ledgerbridge.provider import ConnectionOptions, ProviderSession
from ledgerbridge.settings import ProviderSettings


def capturing_session(provider: str, *, tenant_id: str, environment: str, token: str, settings: ProviderSettings,
                      provider_data: Mapping[str, Any], sent: list[httpx.Request], timeout: float = 10.0,
                      options: ConnectionOptions | None = None) -> ProviderSession:
    """A session like the core's (bearer token, timeouts) whose client appends every request to ``sent``.

    The caller closes ``session.http``.
    """

    async def capture(request: httpx.Request) -> None:
        sent.append(request)

    http = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=5.0), headers={"Authorization": f"Bearer {token}"},
                             event_hooks={"request": [capture]})
    return ProviderSession(provider=provider, connection_id=1, tenant_id=tenant_id, environment=environment,
                           access_token=token, settings=settings, http=http, options=options or ConnectionOptions(),
                           provider_data=dict(provider_data))
