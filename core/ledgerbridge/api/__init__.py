"""The REST API under /api/v1: one module per resource, all scoped to the caller's workspace.

Modules are imported when the router is built, not when this package is imported, so that
`ledgerbridge.auth` can use the API's schemas without an import cycle.
"""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.di import Provide

API_PREFIX = "/api/v1"


def api_router(security: list[dict[str, list[str]]] | None = None) -> Router:
    """Every API resource under /api/v1, behind the signed-in guard, with exact-decimal JSON."""
    from ledgerbridge.api import (
        accounts,
        api_keys,
        connections,
        customers,
        invoices,
        issues,
        items,
        members,
        payments,
        sync_runs,
        tax_rates,
        time_entries,
    )
    from ledgerbridge.api.decoding import DecimalJSONRequest
    from ledgerbridge.auth import provide_caller, signed_in

    handlers: list[Any] = [
        customers.CustomerController,
        items.ItemController,
        invoices.InvoiceController,
        payments.PaymentController,
        time_entries.TimeEntryController,
        connections.ConnectionController,
        sync_runs.SyncRunController,
        issues.IssueController,
        accounts.AccountController,
        tax_rates.TaxRateController,
        members.WorkspaceController,
        api_keys.ApiKeyController,
    ]
    return Router(
        API_PREFIX,
        route_handlers=handlers,
        dependencies={"caller": Provide(provide_caller)},
        guards=[signed_in],
        request_class=DecimalJSONRequest,
        security=security,
    )
