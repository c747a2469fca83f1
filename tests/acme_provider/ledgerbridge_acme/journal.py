"""What LedgerBridge announced to Acme Books in this process, kept for the tests that check it.

A plugin of its own (entry point `acme_journal`) rather than part of `plugin.py`: the provider stays
as the template made it, and a test that builds a fresh plugin manager still finds the journal,
because it is loaded through the entry point like any plugin. A bounded list, so a long-running
server with Acme installed does not grow without end.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ledgerbridge.plugins import hookimpl
from ledgerbridge.provider import ExportResult, RemoteInvoice

#: (event hook, what it said), oldest first.
EVENTS: deque[tuple[str, dict[str, Any]]] = deque(maxlen=2000)


@hookimpl
def invoice_exported(workspace_id: int, connection_id: int, invoice_id: int, result: ExportResult) -> None:
    EVENTS.append(("invoice_exported", {"invoice_id": invoice_id, "remote_id": result.remote_id}))


@hookimpl
def invoice_status_changed(workspace_id: int, connection_id: int, invoice_id: int, old: str, new: str,
                           remote: RemoteInvoice) -> None:
    EVENTS.append(("invoice_status_changed", {"invoice_id": invoice_id, "old": old, "new": new}))


@hookimpl
def connection_changed(workspace_id: int, connection_id: int, old: str, new: str, reason: str) -> None:
    EVENTS.append(("connection_changed", {"connection_id": connection_id, "new": new}))


@hookimpl
def sync_run_finished(workspace_id: int, run_id: int, kind: str, state: str, counts: dict[str, int]) -> None:
    EVENTS.append(("sync_run_finished", {"run_id": run_id, "kind": kind, "state": state}))
