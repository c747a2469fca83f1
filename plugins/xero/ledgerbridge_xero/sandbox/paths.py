"""Xero's routes are matched without regard to case; the sandbox's router is case-sensitive.

xero-python asks for ``GET /Connections`` and ``/Invoices``, LedgerBridge for ``/connections``; Xero
answers both. This ASGI wrapper rewrites the fixed part of a request path (the route prefix, never an
id or an invoice number after it) to the spelling the sandbox's routes use, before routing happens.
"""

from __future__ import annotations

from ledgerbridge_testing.sandbox.faults import ASGIApp, Receive, Scope, Send

#: The spellings the sandbox routes under; any casing of these prefixes reaches them.
CANONICAL_PREFIXES = (
    "/api.xro/2.0",
    "/connections",
    "/connect/token",
    "/connect/revocation",
    "/identity/connect/authorize",
    "/.well-known/openid-configuration",
)


def canonical_path(path: str) -> str:
    """``path`` with a known route prefix respelled canonically (unknown paths unchanged)."""
    lowered = path.lower()
    for prefix in CANONICAL_PREFIXES:
        if lowered == prefix or lowered.startswith(prefix + "/"):
            return prefix + path[len(prefix) :]
    return path


class CaseInsensitivePaths:
    """Respell the route prefix of every HTTP request, as Xero's case-insensitive routing would see it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http":
            path = scope.get("path", "")
            fixed = canonical_path(path)
            if fixed != path:
                scope = {**scope, "path": fixed, "raw_path": fixed.encode("utf-8")}
        await self.app(scope, receive, send)
