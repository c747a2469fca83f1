"""Every page of the admin UI, gathered for the plugin's `route_handlers` hook.

Each page area lives in its own module; this one only lists them and serves the static assets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.static_files import create_static_files_router

from ledgerbridge_web import (
    account,
    audit,
    books,
    customer_forms,
    customer_review,
    customers,
    dashboard,
    flash,
    integrations,
    invitations,
    invoice_forms,
    invoices,
    issues,
    item_forms,
    items,
    members,
    oidc_signin,
    pickers,
    signin,
    sync_history,
    tax_mapping,
    time_entries,
    time_entry_forms,
    webhooks,
    workspaces,
)

STATIC_DIR = Path(__file__).parent / "static"
AREAS = (
    signin, dashboard, integrations, books, invoices, items, sync_history, customers, customer_review, issues,
    time_entries, members, webhooks, workspaces, tax_mapping, invitations, audit, account,
    # The record forms of issue 13: their fixed paths (".../new") are registered beside the pages they extend.
    customer_forms, item_forms, time_entry_forms, invoice_forms,
    pickers,  # the option routes behind those forms' customer and item pickers
    oidc_signin,  # "Sign in with Intuit" (or a configured issuer): off to the issuer and back
)


def route_handlers() -> list[Any]:
    static = create_static_files_router(
        path="/static", directories=[STATIC_DIR], name="static", include_in_schema=False
    )
    handlers = [handler for area in AREAS for handler in area.HANDLERS]
    ui = Router("/", route_handlers=handlers, include_in_schema=False,
                before_request=flash.before_request, after_request=flash.after_request)
    return [ui, static]
