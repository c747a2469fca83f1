"""The HTTP face of connections: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.connections import services
from ledgerbridge.domain.connections.schemas import (
    AuthorizeIn,
    AuthorizeOut,
    ConnectionList,
    ConnectionOut,
    ConnectionPatch,
    SyncRequestIn,
    SyncRunList,
)
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class ConnectionController(Controller):
    path = "/connections"
    tags = ["connections"]

    @get("/", summary="List connections", responses=error_responses())
    async def list_connections(self, caller: CallerDep) -> ConnectionList:
        return await services.list_connections(caller)

    @get("/{connection_id:int}", summary="Get a connection", responses=error_responses(404))
    async def get_connection(self, caller: CallerDep, connection_id: FromPath[int]) -> ConnectionOut:
        return await services.get_connection(caller, connection_id=connection_id)

    @patch(
        "/{connection_id:int}", summary="Change a connection's settings", responses=error_responses(404),
        opt=needs(Permission.connections_manage),
    )
    async def update_connection(
        self, caller: CallerDep, connection_id: FromPath[int], data: JSONBody[ConnectionPatch]
    ) -> ConnectionOut:
        return await services.update_connection(caller, connection_id=connection_id, data=data)

    @post(
        "/authorize",
        opt=needs(Permission.connections_manage),
        status_code=HTTP_200_OK,
        summary="Start connecting (or reconnecting) a provider",
        description="Returns the provider's consent URL. Needs a signed-in person: consent is given in a browser.",
        responses=error_responses(404),
    )
    async def authorize(self, caller: CallerDep, data: JSONBody[AuthorizeIn]) -> AuthorizeOut:
        return await services.authorize(caller, data=data)

    @post(
        "/{connection_id:int}/disconnect",
        opt=needs(Permission.connections_manage),
        status_code=HTTP_200_OK,
        summary="Disconnect: revoke the tokens, keep every record",
        description="Records and links stay on both sides; reconnecting the same company picks up where it left.",
        responses=error_responses(404),
    )
    async def disconnect(self, caller: CallerDep, connection_id: FromPath[int]) -> ConnectionOut:
        return await services.disconnect(caller, connection_id=connection_id)

    @post(
        "/{connection_id:int}/sync",
        opt=needs(Permission.exports_run),
        status_code=HTTP_200_OK,
        summary="Read records from the provider now",
        description="One run per kind asked for; an identical run already waiting is reused.",
        responses=error_responses(404, 409),
    )
    async def sync(
        self, caller: CallerDep, connection_id: FromPath[int], data: JSONBody[SyncRequestIn | None] = None
    ) -> SyncRunList:
        return await services.sync(caller, connection_id=connection_id, data=data)
