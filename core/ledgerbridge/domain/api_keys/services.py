"""The workspace's API keys (owners only). A key is shown once, when it is created."""

from __future__ import annotations

from ledgerbridge import audit
from ledgerbridge.api.errors import NotFound
from ledgerbridge.domain.api_keys.schemas import ApiKeyCreatedOut, ApiKeyIn, ApiKeyList, ApiKeyOut
from ledgerbridge.identity.api_keys import create_api_key, revoke_api_key, scope_list
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require, scopes_of
from ledgerbridge.tables import ApiKey


def api_key_out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_by=row.created_by,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        scopes=sorted(scopes_of(scope_list(row.scopes))),
    )


async def list_keys(caller: Caller) -> ApiKeyList:
    require(caller, Permission.api_keys_manage)
    rows = await ApiKey.objects().where(ApiKey.workspace == caller.workspace_id).order_by(ApiKey.id)
    return ApiKeyList(items=[api_key_out(row) for row in rows])


async def create_key(caller: Caller, *, data: ApiKeyIn) -> ApiKeyCreatedOut:
    require(caller, Permission.api_keys_manage)
    assert caller.workspace_id is not None
    scopes = sorted({scope.value for scope in data.scopes})

    async def audited(record: ApiKey) -> None:
        await audit.record(caller, "api_key.create", target_type="api_key", target_id=record.id,
                           after={"name": record.name, "prefix": record.prefix, "scopes": scopes})

    new = await create_api_key(caller.workspace_id, data.name, caller.user_id, scopes, also=audited)
    return ApiKeyCreatedOut(api_key=api_key_out(new.record), key=new.key)


async def revoke_key(caller: Caller, *, key_id: int) -> ApiKeyOut:
    require(caller, Permission.api_keys_manage)
    assert caller.workspace_id is not None

    async def audited(record: ApiKey) -> None:
        await audit.record(caller, "api_key.revoke", target_type="api_key", target_id=record.id,
                           before={"name": record.name, "prefix": record.prefix, "revoked_at": None},
                           after={"revoked_at": record.revoked_at})

    row = await revoke_api_key(caller.workspace_id, key_id, also=audited)
    if row is None:
        raise NotFound("API key", key_id)
    return api_key_out(row)
