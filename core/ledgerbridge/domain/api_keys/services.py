"""The workspace's API keys (owners only). A key is shown once, when it is created."""

from __future__ import annotations

from ledgerbridge.api.errors import NotFound
from ledgerbridge.domain.api_keys.schemas import ApiKeyCreatedOut, ApiKeyIn, ApiKeyList, ApiKeyOut
from ledgerbridge.identity.api_keys import create_api_key, revoke_api_key
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
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
    )


async def list_keys(caller: Caller) -> ApiKeyList:
    require(caller, Permission.api_keys_manage)
    rows = await ApiKey.objects().where(ApiKey.workspace == caller.workspace_id).order_by(ApiKey.id)
    return ApiKeyList(items=[api_key_out(row) for row in rows])


async def create_key(caller: Caller, *, data: ApiKeyIn) -> ApiKeyCreatedOut:
    require(caller, Permission.api_keys_manage)
    assert caller.workspace_id is not None
    new = await create_api_key(caller.workspace_id, data.name, caller.user_id)
    return ApiKeyCreatedOut(api_key=api_key_out(new.record), key=new.key)


async def revoke_key(caller: Caller, *, key_id: int) -> ApiKeyOut:
    require(caller, Permission.api_keys_manage)
    assert caller.workspace_id is not None
    row = await revoke_api_key(caller.workspace_id, key_id)
    if row is None:
        raise NotFound("API key", key_id)
    return api_key_out(row)
