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
    customer_review,
    customers,
    dashboard,
    integrations,
    invoices,
    issues,
    items,
    members,
    signin,
    sync_history,
    time_entries,
    webhooks,
)

STATIC_DIR = Path(__file__).parent / "static"
AREAS = (
    signin, dashboard, integrations, invoices, items, sync_history, customers, customer_review, issues, time_entries,
    members, webhooks, account,
)


def route_handlers() -> list[Any]:
    static = create_static_files_router(
        path="/static", directories=[STATIC_DIR], name="static", include_in_schema=False
    )
    handlers = [handler for area in AREAS for handler in area.HANDLERS]
    return [Router("/", route_handlers=handlers, include_in_schema=False), static]
