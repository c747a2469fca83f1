"""The workspace's members and API keys; only owners create and revoke keys."""

from __future__ import annotations

from typing import Any

from ledgerbridge import auth
from ledgerbridge.api.members import WorkspaceController
from ledgerbridge.tables import ApiKey
from litestar import Response, get, post
from litestar.params import FromPath

from ledgerbridge_web import in_process_api
from ledgerbridge_web.common import AnyRequest, page, person, see_other, workspace_of


def _owner(request: AnyRequest) -> auth.Caller:
    me = person(request)
    if not me.is_owner:
        raise auth.Forbidden("Only owners of this workspace can manage API keys.", fix="Ask an owner to do it.")
    return me


@get("/workspace/settings")
async def settings_page(request: AnyRequest) -> Response[Any]:
    me = person(request)
    members = await in_process_api.call(WorkspaceController.list_members, me)
    keys = await ApiKey.select().where(ApiKey.workspace == workspace_of(me)).order_by(ApiKey.id)
    return page(request, "members.html", members=members.items, keys=keys, new_key=None)


@post("/workspace/api-keys")
async def create_key(request: AnyRequest) -> Response[Any]:
    me = _owner(request)
    form = await request.form()
    name = str(form.get("name") or "").strip() or "API key"
    created = await auth.create_api_key(workspace_of(me), name[:120], me.user_id)
    members = await in_process_api.call(WorkspaceController.list_members, me)
    keys = await ApiKey.select().where(ApiKey.workspace == workspace_of(me)).order_by(ApiKey.id)
    # Shown once, on this answer only: the key is stored hashed.
    return page(request, "members.html", members=members.items, keys=keys, new_key=created.key)


@post("/workspace/api-keys/{key_id:int}/revoke")
async def revoke_key(request: AnyRequest, key_id: FromPath[int]) -> Response[Any]:
    me = _owner(request)
    await auth.revoke_api_key(workspace_of(me), key_id)
    return see_other("/workspace/settings", notice="API key revoked.")


HANDLERS = [settings_page, create_key, revoke_key]
