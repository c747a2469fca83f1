"""What the provider plugin tests do alike: approve a sandbox's consent page, and hold a session like the core's.

Each provider's plugin harness (tests/<provider>/*_plugin_harness.py) connects its sandbox through the
plugin's own OAuth hooks and then builds `ProviderSession`s the way `ledgerbridge.connections.open_session`
does. The consent round trip and the capturing session are the same for every provider; only the form
fields of the consent page and the session's identity differ, and those stay in the provider harnesses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from ledgerbridge.provider import ConnectionOptions, ProviderSession
from ledgerbridge.settings import ProviderSettings


async def approve_consent(authorize_url: str, decision_url: str, choice: Mapping[str, Any], page_text: str,
                          state: str = "st-1") -> dict[str, str]:
    """Open the plugin's consent URL, submit the page's form with ``choice`` and ``decision=approve``,
    and return the parameters of the redirect back to the app (checking its ``state``)."""
    params = dict(parse_qsl(urlsplit(authorize_url).query))
    async with httpx.AsyncClient(timeout=10) as http:
        page = await http.get(authorize_url)
        assert page.status_code == 200 and page_text in page.text, page.text
        decision = await http.post(decision_url, data={**params, **choice, "decision": "approve"})
    assert decision.status_code == 302, decision.text
    callback = dict(parse_qsl(urlsplit(decision.headers["location"]).query))
    assert callback.get("state") == state and "code" in callback, callback
    return callback


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
