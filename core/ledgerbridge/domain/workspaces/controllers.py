"""The HTTP face of workspaces: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.workspaces import services
from ledgerbridge.domain.workspaces.schemas import WorkspaceChoiceOut, WorkspaceIn, WorkspaceList
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class WorkspacesController(Controller):
    path = "/workspaces"
    tags = ["workspace"]

    @get("/", summary="The workspaces the caller belongs to", responses=error_responses())
    async def list_workspaces(self, caller: CallerDep) -> WorkspaceList:
        return await services.list_workspaces(caller)

    @post(
        "/",
        summary="Create a workspace (signed-in owners only); switch to it with POST /auth/workspace",
        description="The creator becomes its owner. With `switch` (the default) the session moves to it at once.",
        responses=error_responses(403),
        opt=needs(Permission.members_manage),
    )
    async def create_workspace(self, caller: CallerDep, data: JSONBody[WorkspaceIn]) -> WorkspaceChoiceOut:
        created, _ = await services.create_workspace(caller, data=data)
        return created
