"""Connections to providers: start connecting, read them, change their settings, sync, disconnect.

Tokens never leave the server: the response type has no field for them. Consent itself happens
in the person's browser: `authorize` hands back the provider's consent URL, and the provider
returns the browser to `/oauth/callback` (see `ledgerbridge.connect`)."""

from __future__ import annotations

from ledgerbridge import audit, connect, connections, jobs
from ledgerbridge.api.errors import Invalid
from ledgerbridge.api.schemas import given_fields
from ledgerbridge.api.scoping import in_workspace
from ledgerbridge.api.sync_state import run_out
from ledgerbridge.db import write_transaction
from ledgerbridge.domain.connections.schemas import (
    AuthorizeIn,
    AuthorizeOut,
    ConnectionList,
    ConnectionOut,
    ConnectionPatch,
    SyncRequestIn,
    SyncRunList,
)
from ledgerbridge.domain.invoices.exports import NotConnected
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require, require_person
from ledgerbridge.plugins import get_registry
from ledgerbridge.tables import (
    Account,
    Connection,
    ConnectionStatus,
    NumberPolicy,
    ReissueNumber,
    RevertAction,
    RunKind,
    utcnow,
)

SYNC_KINDS: dict[str, RunKind] = {
    "customers": RunKind.import_customers,
    "items": RunKind.import_items,
    "accounts": RunKind.import_accounts,
    "tax_rates": RunKind.import_tax_rates,
    "invoices": RunKind.poll_status,  # exported invoices: read back status, payments, edits
}


def connection_out(row: Connection) -> ConnectionOut:
    info = get_registry().providers.get(row.provider)
    return ConnectionOut(
        id=row.id,
        provider=row.provider,
        provider_name=get_registry().name_of(row.provider),
        environment=row.environment,
        tenant_id=row.tenant_id,
        tenant_name=row.tenant_name,
        status=row.status,
        status_reason=row.status_reason,
        reconnect_before=row.reconnect_before,
        auto_sync_customers=row.auto_sync_customers,
        auto_export_on_send=row.auto_export_on_send,
        export_as_draft=row.export_as_draft,
        default_income_account_id=row.default_income_account_id,
        number_policy=NumberPolicy(row.number_policy),
        revert_action=RevertAction(row.revert_action),
        is_books=bool(row.is_books),
        reissue_number=ReissueNumber(row.reissue_number),
        currency=row.currency,
        last_synced_at=row.last_synced_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        syncs_time=bool(info is not None and info.capabilities.time_activities),
    )


async def list_connections(caller: Caller) -> ConnectionList:
    require(caller, Permission.read)
    rows = await Connection.objects().where(Connection.workspace == caller.workspace_id).order_by(Connection.id)
    return ConnectionList(items=[connection_out(row) for row in rows])


async def get_connection(caller: Caller, *, connection_id: int) -> ConnectionOut:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    return connection_out(await in_workspace(Connection, connection_id, caller.workspace_id, "connection"))


async def update_connection(caller: Caller, *, connection_id: int, data: ConnectionPatch) -> ConnectionOut:
    require(caller, Permission.connections_manage)
    assert caller.workspace_id is not None
    connection = await in_workspace(Connection, connection_id, caller.workspace_id, "connection")
    values = given_fields(data)
    account_id = values.get("default_income_account_id")
    if account_id is not None and not await Account.exists().where(
        (Account.id == account_id) & (Account.connection == connection.id)
    ):
        raise Invalid(
            "default_income_account_id",
            f"there is no income account with id {account_id} in this connection",
            fix="Pick one of GET /api/v1/accounts?connection_id=" + str(connection.id),
        )
    if values:
        async with write_transaction():
            before, after = audit.changed({name: getattr(connection, name) for name in values}, values)
            await audit.record(caller, "connection.settings", target_type="connection", target_id=connection.id,
                               before=before, after=after)
            await Connection.update(
                {
                    **{getattr(Connection, name): value for name, value in values.items()},
                    Connection.updated_at: utcnow(),
                }
            ).where(Connection.id == connection.id)
    return connection_out(await in_workspace(Connection, connection_id, caller.workspace_id, "connection"))


async def authorize(caller: Caller, *, data: AuthorizeIn) -> AuthorizeOut:
    require_person(caller, why="An API key cannot give consent; a signed-in person must.",
                   fix="Open LedgerBridge in a browser, sign in and connect from Integrations.")
    require(caller, Permission.connections_manage)
    url = await connect.consent_url(
        caller, data.provider, environment=data.environment, connection_id=data.connection_id,
        return_to=connect.local_path(data.return_to),
    )
    return AuthorizeOut(url=url)


async def disconnect(caller: Caller, *, connection_id: int) -> ConnectionOut:
    require(caller, Permission.connections_manage)
    assert caller.workspace_id is not None
    row = await in_workspace(Connection, connection_id, caller.workspace_id, "connection")

    async def audited() -> None:
        await audit.record(caller, "connection.disconnect", target_type="connection", target_id=connection_id,
                           before={"status": row.status, "provider": row.provider, "tenant": row.tenant_name},
                           after={"status": ConnectionStatus.disconnected})

    await connections.disconnect(connection_id, also=audited)
    return connection_out(await in_workspace(Connection, connection_id, caller.workspace_id, "connection"))


async def sync(caller: Caller, *, connection_id: int, data: SyncRequestIn | None = None) -> SyncRunList:
    require(caller, Permission.exports_run)
    ws = caller.workspace_id
    assert ws is not None
    connection = await in_workspace(Connection, connection_id, ws, "connection")
    if connection.status != ConnectionStatus.connected:
        raise NotConnected(
            f"The {connection.provider} connection is {connection.status.replace('_', ' ')}.",
            fix="Reconnect it from Integrations, then sync again.",
        )
    wanted = list(dict.fromkeys(data.what)) if data is not None else []
    kinds = [SYNC_KINDS[what] for what in wanted] or [RunKind.import_all]
    async with jobs.transaction() as tx:
        await audit.record(caller, "connection.sync", target_type="connection", target_id=connection.id,
                           after={"what": [str(kind) for kind in kinds]})
        runs = [
            await tx.record(
                kind,
                workspace_id=ws,
                connection_id=connection.id,
                trigger=caller.trigger,
                dedupe_key=f"{kind}:{connection.id}",
            )
            for kind in kinds
        ]
    return SyncRunList(runs=[run_out(run) for run in runs])
