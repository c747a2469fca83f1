"""Integrations: add one through the provider's consent page, pick its company, tune it, sync it,
reconnect or disconnect it.

The provider cards come from the plugin registry, so a third-party provider plugin appears here
by itself; what a connection offers (draft export, income accounts...) follows its provider's
`Capabilities`. Connecting itself is the core's `/connect/...` routes; these pages only send the
person there and read the outcome they bring back in the query string.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ledgerbridge import connections
from ledgerbridge.domain.connections import services as connections_services
from ledgerbridge.domain.connections.schemas import ConnectionPatch, SyncRequestIn
from ledgerbridge.errors import REASONS, LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.jobs import loads
from ledgerbridge.provider import Capabilities
from ledgerbridge.ratelimit import Usage
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import (
    Account,
    Connection,
    ConnectionStatus,
    NumberPolicy,
    ReissueNumber,
    RevertAction,
    RunState,
    SyncRun,
)
from litestar import Response, get, post
from litestar.params import FromPath

from ledgerbridge_web.common import (
    AnyRequest,
    capabilities,
    checked,
    failed,
    fragment,
    int_or_none,
    page,
    person,
    provider_name,
    providers,
    see_other,
    workspace_connection,
    workspace_of,
)
from ledgerbridge_web.runs import recent_runs

SYNC_CHOICES = (("customers", "Customers"), ("items", "Items"), ("invoices", "Invoices (status, payments, edits)"))


@dataclass
class ConnectionView:
    """One connection as the dashboard and the integrations page show it."""

    row: Connection
    provider: str
    caps: Capabilities
    usage: Usage | None
    next_sync: datetime | None

    @property
    def budget(self) -> list[tuple[str, int, int]]:
        """(window, used, limit) for every limit the provider declares."""
        if self.usage is None:
            return []
        out = []
        if self.caps.requests_per_minute:
            out.append(("this minute", self.usage.last_minute, self.caps.requests_per_minute))
        if self.caps.requests_per_day:
            out.append(("today", self.usage.last_day, self.caps.requests_per_day))
        return out

    @property
    def pending_tenants(self) -> list[dict[str, Any]]:
        """Companies a consent covered while none is chosen yet: the picker, not a reconnect, finishes it."""
        if self.row.tenant_id:
            return []
        return list(loads(self.row.provider_data).get("pending_tenants", []))

    @property
    def chooser_url(self) -> str:
        """Back to the company picker, for someone who left the page before choosing."""
        return f"/integrations?connection={self.row.id}&choose_tenant=1"


async def connection_views(workspace_id: int, connection_id: int | None = None) -> list[ConnectionView]:
    where = Connection.workspace == workspace_id
    if connection_id is not None:
        where = where & (Connection.id == connection_id)
    rows = await Connection.objects().where(where).order_by(Connection.id)
    interval = timedelta(seconds=get_settings().poll_interval_seconds)
    views = []
    for row in rows:
        usage = None
        try:
            usage = await connections.limiter().usage(connections.limiter_key(row))
        except Exception:  # the budget is a nicety; a missing limiter must not break the page
            usage = None
        next_sync = None
        if row.status == ConnectionStatus.connected:
            next_sync = (row.last_synced_at + interval) if row.last_synced_at else None
        views.append(ConnectionView(row, provider_name(row.provider), capabilities(row.provider), usage, next_sync))
    return views


async def busy_connections(workspace_id: int) -> list[int]:
    """Connections with a queued or running sync: their cards poll until it ends."""
    rows = await SyncRun.select(SyncRun.connection).where(
        (SyncRun.workspace == workspace_id) & SyncRun.state.is_in([RunState.queued, RunState.running])
        & SyncRun.connection.is_not_null()
    ).distinct()
    return [row["connection"] for row in rows]



@get("/integrations")
async def integrations_page(request: AnyRequest) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    views = await connection_views(ws)
    query = request.query_params
    chooser = None
    chosen = int_or_none(query.get("connection"))
    if chosen is not None and query.get("choose_tenant"):
        row = await workspace_connection(ws, chosen)
        chooser = {"connection": row, "tenants": loads(row.provider_data).get("pending_tenants", [])}
    connect_error = None
    if query.get("connect_error"):
        # Only the reason code is taken from the URL, and only a known one: its words are ours, never the link's.
        reason = REASONS.get(str(query.get("connect_error")))
        if reason is not None:
            connect_error = {"code": query.get("connect_error"), "message": f"{reason.message} {reason.fix}"}
    connected_id = chosen if chosen is not None and not query.get("choose_tenant") and not connect_error else None
    first_runs: list[dict[str, Any]] = []
    connected_caps = None
    if connected_id is not None:
        # The hint after the first import names only the steps this provider has (no mapping without accounts).
        connected_caps = next((view.caps for view in views if view.row.id == connected_id), None)
        # The first import starts with the connection; show it here so the newcomer sees it move.
        first_runs = await recent_runs(ws, where=SyncRun.connection == connected_id, limit=3)
        first_runs.sort(key=lambda run: run["id"])
    return page(
        request,
        "integrations.html",
        views=views,
        providers=providers(),
        chooser=chooser,
        connect_error=connect_error,
        connected_id=connected_id,
        connected_caps=connected_caps,
        first_runs=first_runs,
        busy=await busy_connections(ws),
    )


@get("/integrations/{connection_id:int}")
async def integration_page(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    await workspace_connection(ws, connection_id)
    view = (await connection_views(ws, connection_id))[0]
    accounts = []
    if view.caps.income_accounts:
        accounts = await Account.select(Account.id, Account.name, Account.code).where(
            (Account.connection == connection_id) & Account.active.eq(True)
        ).order_by(Account.name)
    runs = await recent_runs(ws, where=SyncRun.connection == connection_id, limit=10)
    return page(
        request,
        "integration.html",
        view=view,
        accounts=accounts,
        runs=runs,
        sync_choices=SYNC_CHOICES,
        number_policies=list(NumberPolicy),
        revert_actions=list(RevertAction),
        busy=await busy_connections(ws),
    )


@get("/integrations/{connection_id:int}/health")
async def health_fragment(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    """One connection's health card, for htmx to poll while its syncs run."""
    me = person(request)
    ws = workspace_of(me)
    await workspace_connection(ws, connection_id)
    view = (await connection_views(ws, connection_id))[0]
    return fragment("_health_live.html", view=view, busy=await busy_connections(ws))


@post("/integrations/{connection_id:int}/settings", opt=needs(Permission.connections_manage))
async def save_settings(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    back = f"/integrations/{connection_id}"
    row = await workspace_connection(workspace_of(me), connection_id)
    form = await request.form()
    caps = capabilities(row.provider)
    values: dict[str, Any] = {
        "auto_sync_customers": checked(form, "auto_sync_customers"),
        "auto_export_on_send": checked(form, "auto_export_on_send"),
    }
    if caps.draft_export:
        values["export_as_draft"] = str(form.get("export_as") or "") == "draft"
    if caps.income_accounts:
        values["default_income_account_id"] = int_or_none(form.get("default_income_account_id"))
    if str(form.get("number_policy", "")) in set(NumberPolicy):
        values["number_policy"] = NumberPolicy(str(form.get("number_policy")))
    if str(form.get("revert_action", "")) in set(RevertAction):
        values["revert_action"] = RevertAction(str(form.get("revert_action")))
    if str(form.get("reissue_number", "")) in set(ReissueNumber):
        values["reissue_number"] = ReissueNumber(str(form.get("reissue_number")))
    try:
        await connections_services.update_connection(me, connection_id=connection_id, data=ConnectionPatch(**values)
        )
    except LedgerBridgeError as exc:
        return failed(back, exc)
    return see_other(back, notice="Settings saved.")


@post("/integrations/{connection_id:int}/sync", opt=needs(Permission.exports_run))
async def sync_now(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    form = await request.form()
    back = str(form.get("return_to") or f"/integrations/{connection_id}")
    back = back if back.startswith("/") and not back.startswith("//") else f"/integrations/{connection_id}"
    wanted = [value for value in form.getall("what", []) if value in dict(SYNC_CHOICES)]
    try:
        result = await connections_services.sync(me, connection_id=connection_id, data=SyncRequestIn(what=wanted)
        )
    except LedgerBridgeError as exc:
        return failed(back, exc)
    runs = result.runs
    if len(runs) == 1:
        return see_other(f"/sync-history/{runs[0].id}", notice="Sync started.")
    return see_other(back, notice=f"{len(runs)} syncs started: " + ", ".join(f"#{run.id}" for run in runs) + ".")


@get("/integrations/{connection_id:int}/disconnect", opt=needs(Permission.connections_manage))
async def confirm_disconnect(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    row = await workspace_connection(workspace_of(me), connection_id)
    return page(request, "confirm_disconnect.html", row=row, provider=provider_name(row.provider))


@post("/integrations/{connection_id:int}/disconnect", opt=needs(Permission.connections_manage))
async def disconnect(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    row = await workspace_connection(workspace_of(me), connection_id)
    await connections.disconnect(row.id)
    return see_other(
        "/integrations",
        notice=f"{provider_name(row.provider)} ({row.tenant_name or row.tenant_id}) is disconnected. "
        f"Everything already in {provider_name(row.provider)} stays there.",
    )


HANDLERS = [integrations_page, integration_page, health_fragment, save_settings, sync_now, confirm_disconnect,
            disconnect]
