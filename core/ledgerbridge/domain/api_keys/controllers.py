"""The HTTP face of api keys: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.api_keys import services
from ledgerbridge.domain.api_keys.schemas import ApiKeyCreatedOut, ApiKeyIn, ApiKeyList, ApiKeyOut
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class ApiKeyController(Controller):
    path = "/workspace/api-keys"
    tags = ["workspace"]
    opt = needs(Permission.api_keys_manage)  # listing keys too: only who manages them sees them

    @get("/", summary="List API keys (owners only)", responses=error_responses(403))
    async def list_keys(self, caller: CallerDep) -> ApiKeyList:
        return await services.list_keys(caller)

    @post(
        "/", summary="Create an API key; the full key is in this answer only", responses=error_responses(403),
        opt=needs(Permission.api_keys_manage),
    )
    async def create_key(self, caller: CallerDep, data: JSONBody[ApiKeyIn]) -> ApiKeyCreatedOut:
        return await services.create_key(caller, data=data)

    @delete(
        "/{key_id:int}",
        opt=needs(Permission.api_keys_manage),
        status_code=HTTP_200_OK,
        summary="Revoke an API key; it is refused from now on",
        responses=error_responses(403, 404),
    )
    async def revoke_key(self, caller: CallerDep, key_id: FromPath[int]) -> ApiKeyOut:
        return await services.revoke_key(caller, key_id=key_id)
