"""The REST API's router: every domain's controller under /api/v1.

It lives apart from `ledgerbridge.api`'s shared pieces (errors, paging, decoding) because the
domains import those, and this module imports the domains.
"""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.di import Provide

from ledgerbridge.api.decoding import DecimalJSONRequest, refuse_out_of_range
from ledgerbridge.domain.accounts.controllers import AccountController
from ledgerbridge.domain.api_keys.controllers import ApiKeyController
from ledgerbridge.domain.audit.controllers import AuditController
from ledgerbridge.domain.books.controllers import BooksController
from ledgerbridge.domain.connections.controllers import ConnectionController
from ledgerbridge.domain.customers.controllers import CustomerController
from ledgerbridge.domain.events.controllers import EventController
from ledgerbridge.domain.invitations.controllers import AcceptController, InvitationController
from ledgerbridge.domain.invoices.controllers import InvoiceController
from ledgerbridge.domain.issues.controllers import IssueController
from ledgerbridge.domain.items.controllers import ItemController
from ledgerbridge.domain.members.controllers import WorkspaceController
from ledgerbridge.domain.payments.controllers import PaymentController
from ledgerbridge.domain.sync_runs.controllers import SyncRunController
from ledgerbridge.domain.tax_mappings.controllers import TaxMappingController
from ledgerbridge.domain.tax_rates.controllers import TaxRateController
from ledgerbridge.domain.time_entries.controllers import TimeEntryController
from ledgerbridge.domain.webhook_endpoints.controllers import WebhookEndpointController
from ledgerbridge.domain.workspaces.controllers import WorkspacesController
from ledgerbridge.identity.callers import provide_caller
from ledgerbridge.identity.guards import signed_in
from ledgerbridge.identity.permissions import Permission, needs

API_PREFIX = "/api/v1"


def api_router(security: list[dict[str, list[str]]] | None = None) -> Router:
    """Every API resource under /api/v1, behind the signed-in guard, with exact-decimal JSON."""

    handlers: list[Any] = [
        CustomerController,
        ItemController,
        InvoiceController,
        PaymentController,
        TimeEntryController,
        ConnectionController,
        BooksController,
        SyncRunController,
        IssueController,
        AccountController,
        TaxRateController,
        TaxMappingController,
        WorkspaceController,
        WorkspacesController,
        ApiKeyController,
        WebhookEndpointController,
        EventController,
        AuditController,
        InvitationController,
        AcceptController,
    ]
    return Router(
        API_PREFIX,
        route_handlers=handlers,
        dependencies={"caller": Provide(provide_caller)},
        guards=[signed_in],
        request_class=DecimalJSONRequest,
        before_request=refuse_out_of_range,
        security=security,
        opt=needs(Permission.read),  # reading is the default; every other route declares its own
    )
