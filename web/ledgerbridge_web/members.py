"""The workspace's members and API keys. Everyone may look; only owners add, change or remove.

Member actions run the REST API's own handlers in-process, so the rules (the last owner can be
neither demoted nor removed, an email is a member once) are exactly the API's, and its refusal is
what the page shows. The API's `owner_only` guard does not run on an in-process call, so every
action here checks for an owner itself before calling it.
"""

from __future__ import annotations

import secrets
from typing import Any

from ledgerbridge import auth
from ledgerbridge.api.errors import Invalid
from ledgerbridge.api.members import WorkspaceController
from ledgerbridge.api.schemas import MemberIn, MemberOut, MemberPatch
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.tables import ApiKey, Role, User
from litestar import Response, get, post
from litestar.params import FromPath

from ledgerbridge_web import in_process_api
from ledgerbridge_web.common import AnyRequest, failed, page, person, see_other, workspace_of

SETTINGS = "/workspace/settings"


def _owner(request: AnyRequest, what: str = "manage members and API keys") -> auth.Caller:
    me = person(request)
    if not me.is_owner:
        raise auth.Forbidden(f"Only owners of this workspace can {what}.", fix="Ask an owner to do it.")
    return me


def _role(value: Any) -> Role:
    """The role a form asked for; anything else is refused in the API's words rather than guessed."""
    try:
        return Role(str(value or ""))
    except ValueError:
        raise LedgerBridgeError("Choose a role: owner or member.", code="validation_failed",
                                fix="Pick one of the roles offered.") from None


async def _settings(request: AnyRequest, me: auth.Caller, **shown: Any) -> Response[Any]:
    """The page with whatever is shown once (a new API key, a new person's password) on this answer only."""
    members = await in_process_api.call(WorkspaceController.list_members, me)
    keys = await ApiKey.select().where(ApiKey.workspace == workspace_of(me)).order_by(ApiKey.id)
    owners = sum(1 for member in members.items if member.role == Role.owner)
    context: dict[str, Any] = {"new_key": None, "new_member": None, "new_password": None, **shown}
    return page(request, "members.html", members=members.items, keys=keys, owners=owners, roles=list(Role), **context)


async def _member(me: auth.Caller, user_id: int) -> MemberOut:
    members = await in_process_api.call(WorkspaceController.list_members, me)
    for member in members.items:
        if member.user_id == user_id:
            return member
    raise LedgerBridgeError(f"There is no member {user_id} in this workspace.", code="not_found",
                            fix="Open Members and pick one from the list.")


@get("/workspace/settings")
async def settings_page(request: AnyRequest) -> Response[Any]:
    return await _settings(request, person(request))


@post("/workspace/members")
async def add_member(request: AnyRequest) -> Response[Any]:
    """Add someone by email; a person new to LedgerBridge gets a generated password, shown here once.

    The API needs the initial password from its caller; a page should not ask an owner to invent
    one, so it generates a strong one and shows it on this answer only (it is stored hashed).
    """
    me = _owner(request)
    form = await request.form()
    try:
        role = _role(form.get("role"))
        email = auth.normalize_email(str(form.get("email") or ""))
        if len(email) > 254:  # a Struct built here skips the API's own length check
            raise Invalid("email", "is longer than 254 characters")
        name = str(form.get("name") or "").strip()[:200]
        is_new = not await User.exists().where(User.email == email)
        password = secrets.token_urlsafe(12) if is_new else None
        added = await in_process_api.call(
            WorkspaceController.add_member, me, data=MemberIn(email=email, role=role, name=name, password=password)
        )
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    if password is None:
        return see_other(SETTINGS, notice=f"{added.email} added as {added.role}; they sign in with their own password.")
    return await _settings(request, me, new_member=added, new_password=password)


@post("/workspace/members/{user_id:int}/role")
async def change_role(request: AnyRequest, user_id: FromPath[int]) -> Response[Any]:
    me = _owner(request)
    form = await request.form()
    try:
        changed = await in_process_api.call(
            WorkspaceController.change_role, me, user_id=user_id, data=MemberPatch(role=_role(form.get("role")))
        )
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    return see_other(SETTINGS, notice=f"{changed.email} is now {'an' if changed.role == Role.owner else 'a'} "
                                      f"{changed.role}.")


@get("/workspace/members/{user_id:int}/remove")
async def confirm_remove(request: AnyRequest, user_id: FromPath[int]) -> Response[Any]:
    """The confirmation as its own page, so removing someone takes two deliberate steps without JavaScript."""
    me = _owner(request)
    return page(request, "confirm_remove_member.html", member=await _member(me, user_id))


@post("/workspace/members/{user_id:int}/remove")
async def remove_member(request: AnyRequest, user_id: FromPath[int]) -> Response[Any]:
    me = _owner(request)
    try:
        member = await _member(me, user_id)
        await in_process_api.call(WorkspaceController.remove_member, me, user_id=user_id)
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    if user_id == me.user_id:
        # They left this workspace: its pages are no longer theirs to see.
        return see_other("/", notice=f"You left {me.workspace_name}.")
    return see_other(SETTINGS, notice=f"{member.email} removed from this workspace; their account stays.")


@post("/workspace/api-keys")
async def create_key(request: AnyRequest) -> Response[Any]:
    me = _owner(request, "manage API keys")
    form = await request.form()
    name = str(form.get("name") or "").strip() or "API key"
    created = await auth.create_api_key(workspace_of(me), name[:120], me.user_id)
    # Shown once, on this answer only: the key is stored hashed.
    return await _settings(request, me, new_key=created.key)


@post("/workspace/api-keys/{key_id:int}/revoke")
async def revoke_key(request: AnyRequest, key_id: FromPath[int]) -> Response[Any]:
    me = _owner(request, "manage API keys")
    await auth.revoke_api_key(workspace_of(me), key_id)
    return see_other(SETTINGS, notice="API key revoked.")


HANDLERS = [settings_page, add_member, change_role, confirm_remove, remove_member, create_key, revoke_key]
