"""The UI's plugin hooks: what it adds to the LedgerBridge server."""

from __future__ import annotations

from typing import Any

from ledgerbridge.plugins import hookimpl

from ledgerbridge_web import pages


@hookimpl
def route_handlers() -> list[Any]:
    return pages.route_handlers()
