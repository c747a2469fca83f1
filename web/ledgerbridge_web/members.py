"""The workspace's members and API keys. Everyone may look; only owners add, change or remove.

Every action calls the same service functions as the REST API, so the rules (only owners manage,
the last owner can be neither demoted nor removed, an email is a member once) are decided there and
the page shows their refusal: a refused role answers 403 with the service's words, any other
refusal returns to the page with its message and fix.
"""

from __future__ import annotations

import secrets
from typing import Any

from ledgerbridge.api.errors import Invalid
from ledgerbridge.domain.api_keys import services as api_keys_services
from ledgerbridge.domain.api_keys.schemas import ApiKeyIn
from ledgerbridge.domain.members import services as members_services
from ledgerbridge.domain.members.schemas import MemberIn, MemberPatch
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.errors import Forbidden
from ledgerbridge.identity.passwords import normalize_email
from ledgerbridge.identity.permissions import may_manage_workspace
from ledgerbridge.tables import ApiKey, Role, User
from litestar import Response, get, post
from litestar.params import FromPath

from ledgerbridge_web.common import AnyRequest, failed, page, person, see_other, workspace_of

SETTINGS = "/workspace/settings"


def _role(value: Any) -> Role:
    """The role a form asked for; anything else is refused in the API's words rather than guessed."""
    try:
        return Role(str(value or ""))
    except ValueError:
        raise LedgerBridgeError("Choose a role: owner or member.", code="validation_failed",
                                fix="Pick one of the roles offered.") from None


async def _settings(request: AnyRequest, me: Caller, **shown: Any) -> Response[Any]:
    """The page with whatever is shown once (a new API key, a new person's password) on this answer only."""
    members = await members_services.list_members(me)
    keys = await ApiKey.select().where(ApiKey.workspace == workspace_of(me)).order_by(ApiKey.id)
    owners = sum(1 for member in members.items if member.role == Role.owner)
    context: dict[str, Any] = {"new_key": None, "new_member": None, "new_password": None, **shown}
    # One-time secrets arrive through the session's flash (post/redirect/get), so a reload cannot mint another.
    flash = getattr(request.state, "flash", None)
    secret = dict(flash.secret) if flash is not None else {}
    if secret.get("kind") == "api_key":
        context["new_key"] = secret["value"]
        flash.secret = {}  # type: ignore[union-attr]
    elif secret.get("kind") == "first_password":
        context["new_member"] = {"email": secret.get("email", ""), "role": secret.get("role", "")}
        context["new_password"] = secret["value"]
        flash.secret = {}  # type: ignore[union-attr]
    return page(request, "members.html", members=members.items, keys=keys, owners=owners, roles=list(Role),
                can_manage=may_manage_workspace(me), **context)


@get("/workspace/settings")
async def settings_page(request: AnyRequest) -> Response[Any]:
    return await _settings(request, person(request))


@post("/workspace/members")
async def add_member(request: AnyRequest) -> Response[Any]:
    """Add someone by email; a person new to LedgerBridge gets a generated password, shown here once.

    The API needs the initial password from its caller; a page should not ask an owner to invent
    one, so it generates a strong one and shows it on this answer only (it is stored hashed).
    """
    me = person(request)
    form = await request.form()
    try:
        role = _role(form.get("role"))
        email = normalize_email(str(form.get("email") or ""))
        if len(email) > 254:  # a Struct built here skips the API's own length check
            raise Invalid("email", "is longer than 254 characters")
        name = str(form.get("name") or "").strip()[:200]
        is_new = not await User.exists().where(User.email == email)
        password = secrets.token_urlsafe(12) if is_new else None
        data = MemberIn(email=email, role=role, name=name, password=password)
        added = await members_services.add_member(me, data=data)
    except Forbidden:
        raise
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    if password is None:
        return see_other(SETTINGS, notice=f"{added.email} added as {added.role}; they sign in with their own password.")
    return see_other(SETTINGS, secret={"kind": "first_password", "label": "First password", "value": password,
                                       "email": added.email, "role": str(getattr(added.role, "value", added.role))})


@post("/workspace/members/{user_id:int}/role")
async def change_role(request: AnyRequest, user_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    form = await request.form()
    try:
        changed = await members_services.change_role(me, user_id=user_id, data=MemberPatch(role=_role(form.get("role")))
        )
    except Forbidden:
        raise
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    return see_other(SETTINGS, notice=f"{changed.email} is now {'an' if changed.role == Role.owner else 'a'} "
                                      f"{changed.role}.")


@get("/workspace/members/{user_id:int}/remove")
async def confirm_remove(request: AnyRequest, user_id: FromPath[int]) -> Response[Any]:
    """The confirmation as its own page, so removing someone takes two deliberate steps without JavaScript."""
    me = person(request)
    member = await members_services.member_to_remove(me, user_id=user_id)
    return page(request, "confirm_remove_member.html", member=member)


@post("/workspace/members/{user_id:int}/remove")
async def remove_member(request: AnyRequest, user_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    try:
        member = await members_services.member_to_remove(me, user_id=user_id)
        await members_services.remove_member(me, user_id=user_id)
    except Forbidden:
        raise
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    if user_id == me.user_id:
        # They left this workspace: its pages are no longer theirs to see.
        return see_other("/", notice=f"You left {me.workspace_name}.")
    return see_other(SETTINGS, notice=f"{member.email} removed from this workspace; their account stays.")


@post("/workspace/api-keys")
async def create_key(request: AnyRequest) -> Response[Any]:
    me = person(request)
    form = await request.form()
    name = str(form.get("name") or "").strip() or "API key"
    created = await api_keys_services.create_key(me, data=ApiKeyIn(name=name[:120]))
    # Shown once, on the next page only (the flash is deleted as it is read): the key is stored hashed.
    return see_other(SETTINGS, secret={"kind": "api_key", "label": "New API key", "value": created.key})


@post("/workspace/api-keys/{key_id:int}/revoke")
async def revoke_key(request: AnyRequest, key_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    try:
        await api_keys_services.revoke_key(me, key_id=key_id)
    except Forbidden:
        raise
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    return see_other(SETTINGS, notice="API key revoked.")


HANDLERS = [settings_page, add_member, change_role, confirm_remove, remove_member, create_key, revoke_key]
