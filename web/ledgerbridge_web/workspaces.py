"""Workspaces: the ones a person belongs to, a switch button each, and (for owners) a new one.

An agency keeps one workspace per client; creating one here is the same service as the REST API's,
so only a signed-in owner may, and the new workspace opens at once.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.domain.workspaces import services as workspaces_services
from ledgerbridge.domain.workspaces.schemas import WorkspaceIn
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, may_manage_workspace, needs
from litestar import Response, get, post

from ledgerbridge_web.common import AnyRequest, failed, page, person, see_other


@get("/workspaces")
async def workspaces_page(request: AnyRequest) -> Response[Any]:
    me = person(request)
    listing = await workspaces_services.list_workspaces(me)
    return page(request, "workspaces.html", workspaces=listing.items, can_create=may_manage_workspace(me))


@post("/workspaces", opt=needs(Permission.members_manage))
async def create(request: AnyRequest) -> Response[Any]:
    me = person(request)
    form = await request.form()
    try:
        created, _ = await workspaces_services.create_workspace(
            me, data=WorkspaceIn(name=str(form.get("name") or "")[:200], switch=True)
        )
    except LedgerBridgeError as exc:
        return failed("/workspaces", exc)
    return see_other("/integrations", notice=f"Workspace {created.name} is ready: connect its books here.")


HANDLERS = [workspaces_page, create]
