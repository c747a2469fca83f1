"""Security headers on every response the server sends, pages, API answers and errors alike.

One hook on every message the app sends, so nothing answers without them: not a handler, not an
error page, not a static file, not a 404. The content policy allows scripts and stylesheets from
this origin only (the admin UI and `/schema` load no inline script and nothing from another host),
and no page may be framed. Answers are `no-store` unless a handler said otherwise: pages and API answers carry tokens,
API keys and books, which a shared cache or the browser's history has no business keeping; only
the static assets (immutable files, no secret) may be cached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-elem 'self'",
        # Inline style attributes carry a computed value (a provider badge's hue); they cannot run code.
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        # Connecting posts a form that redirects to the provider's consent page, and browsers check
        # form-action on redirects too: the providers' https hosts, and the local demo sandboxes.
        "form-action 'self' https: http://127.0.0.1:* http://localhost:*",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"
CACHEABLE_PREFIXES = ("/static/", "/schema/assets/")

BASE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def security_headers(always_https: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """A `before_send` hook adding the headers to each `http.response.start`.

    A hook rather than a middleware because Litestar runs middleware only for matched routes, and a
    404 or 405 must carry the headers too. HSTS is sent when the request came over HTTPS (uvicorn's
    proxy headers set the scheme from a trusted proxy) or the deployment says it is served so.
    """

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in BASE_HEADERS.items():
            headers[name] = value
        if always_https or scope.get("scheme") == "https":
            headers["strict-transport-security"] = HSTS
        if not scope["path"].startswith(CACHEABLE_PREFIXES) and "cache-control" not in headers:
            headers["cache-control"] = "no-store"

    return add_headers
