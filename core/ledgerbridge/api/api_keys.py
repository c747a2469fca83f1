"""The workspace's API keys (owners only). A key is shown once, when it is created."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from ledgerbridge.api.errors import NotFound
from ledgerbridge.api.schemas import ApiKeyCreatedOut, ApiKeyIn, ApiKeyList, ApiKeyOut, error_responses
from ledgerbridge.auth import CallerDep, create_api_key, owner_only, revoke_api_key
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


class ApiKeyController(Controller):
    path = "/workspace/api-keys"
    tags = ["workspace"]
    guards = [owner_only]

    @get("/", summary="List API keys (owners only)", responses=error_responses(403))
    async def list_keys(self, caller: CallerDep) -> ApiKeyList:
        rows = await ApiKey.objects().where(ApiKey.workspace == caller.workspace_id).order_by(ApiKey.id)
        return ApiKeyList(items=[api_key_out(row) for row in rows])

    @post("/", summary="Create an API key; the full key is in this answer only", responses=error_responses(403))
    async def create_key(self, caller: CallerDep, data: JSONBody[ApiKeyIn]) -> ApiKeyCreatedOut:
        assert caller.workspace_id is not None
        new = await create_api_key(caller.workspace_id, data.name, caller.user_id)
        return ApiKeyCreatedOut(api_key=api_key_out(new.record), key=new.key)

    @delete(
        "/{key_id:int}",
        status_code=HTTP_200_OK,
        summary="Revoke an API key; it is refused from now on",
        responses=error_responses(403, 404),
    )
    async def revoke_key(self, caller: CallerDep, key_id: FromPath[int]) -> ApiKeyOut:
        assert caller.workspace_id is not None
        row = await revoke_api_key(caller.workspace_id, key_id)
        if row is None:
            raise NotFound("API key", key_id)
        return api_key_out(row)
