"""The workspace's members and API keys. Everyone may look; only owners invite, change or remove.

People join by an invitation link they accept themselves (`ledgerbridge_web.invitations`). Every
action calls the same service functions as the REST API, so the rules (only owners manage, the last
owner can be neither demoted nor removed, an invitation is used once) are decided there and
the page shows their refusal: a refused role answers 403 with the service's words, any other
refusal returns to the page with its message and fix.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledgerbridge.domain.api_keys import services as api_keys_services
from ledgerbridge.domain.api_keys.schemas import ApiKeyIn
from ledgerbridge.domain.invitations import services as invitations_services
from ledgerbridge.domain.invitations.schemas import InvitationIn
from ledgerbridge.domain.members import services as members_services
from ledgerbridge.domain.members.schemas import MemberPatch
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import (
    DEFAULT_KEY_SCOPES,
    ROLE_LABELS,
    Permission,
    Scope,
    allows,
    may_manage_workspace,
    needs,
)
from ledgerbridge.tables import Role
from litestar import Response, get, post
from litestar.params import FromPath

from ledgerbridge_web.common import AnyRequest, failed, page, person, see_other

SETTINGS = "/workspace/settings"


def _role(value: Any) -> Role:
    """The role a form asked for; anything else is refused in the API's words rather than guessed."""
    try:
        return Role(str(value or ""))
    except ValueError:
        raise LedgerBridgeError(f"Choose a role: {', '.join(role.value for role in Role)}.", code="validation_failed",
                                fix="Pick one of the roles offered.") from None


async def _settings(request: AnyRequest, me: Caller, **shown: Any) -> Response[Any]:
    """The page with whatever is shown once (a new API key, a new person's password) on this answer only."""
    members = await members_services.list_members(me)
    can_manage = may_manage_workspace(me)
    keys = (await api_keys_services.list_keys(me)).items if allows(me, Permission.api_keys_manage) else []
    invitations = (await invitations_services.list_invitations(me)).items if can_manage else []
    owners = sum(1 for member in members.items if member.role == Role.owner)
    context: dict[str, Any] = {"new_key": None, "new_invitation": None, **shown}
    # One-time secrets arrive through the session's flash (post/redirect/get), so a reload cannot mint another.
    flash = getattr(request.state, "flash", None)
    secret = dict(flash.secret) if flash is not None else {}
    if secret.get("kind") == "api_key":
        context["new_key"] = secret["value"]
        flash.secret = {}  # type: ignore[union-attr]
    elif secret.get("kind") == "invitation":
        context["new_invitation"] = {
            "accept_url": secret["value"],
            "invitation": {"role": secret.get("role", ""), "note": secret.get("note", ""),
                           "expires_at": datetime.fromisoformat(secret["expires_at"])},
        }
        flash.secret = {}  # type: ignore[union-attr]
    return page(request, "members.html", members=members.items, keys=keys, owners=owners, roles=list(Role),
                role_labels=ROLE_LABELS, scopes=list(Scope), default_scopes=DEFAULT_KEY_SCOPES,
                invitations=invitations, can_manage=can_manage, **context)


@get("/workspace/settings")
async def settings_page(request: AnyRequest) -> Response[Any]:
    return await _settings(request, person(request))


@post("/workspace/invitations", opt=needs(Permission.members_manage))
async def invite(request: AnyRequest) -> Response[Any]:
    """Make an invitation link, shown on this answer only: the owner passes it on, the invitee accepts."""
    me = person(request)
    form = await request.form()
    try:
        data = InvitationIn(role=_role(form.get("role")), note=str(form.get("note") or "").strip()[:200])
        created = await invitations_services.create_invitation(me, data=data)
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    invitation = created.invitation
    return see_other(SETTINGS, secret={
        "kind": "invitation", "label": "Invitation link", "value": created.accept_url,
        "role": str(getattr(invitation.role, "value", invitation.role)), "note": invitation.note,
        "expires_at": invitation.expires_at.isoformat(),
    })


@post("/workspace/invitations/{invitation_id:int}/revoke", opt=needs(Permission.members_manage))
async def revoke_invitation(request: AnyRequest, invitation_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    try:
        await invitations_services.revoke_invitation(me, invitation_id=invitation_id)
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    return see_other(SETTINGS, notice="Invitation withdrawn; its link no longer works.")


@post("/workspace/members/{user_id:int}/role", opt=needs(Permission.members_manage))
async def change_role(request: AnyRequest, user_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    form = await request.form()
    try:
        changed = await members_services.change_role(me, user_id=user_id, data=MemberPatch(role=_role(form.get("role")))
        )
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    return see_other(SETTINGS, notice=f"{changed.email} is now {'an' if changed.role == Role.owner else 'a'} "
                                      f"{changed.role}.")


@get("/workspace/members/{user_id:int}/remove", opt=needs(Permission.members_manage))
async def confirm_remove(request: AnyRequest, user_id: FromPath[int]) -> Response[Any]:
    """The confirmation as its own page, so removing someone takes two deliberate steps without JavaScript."""
    me = person(request)
    member = await members_services.member_to_remove(me, user_id=user_id)
    return page(request, "confirm_remove_member.html", member=member)


@post("/workspace/members/{user_id:int}/remove", opt=needs(Permission.members_manage))
async def remove_member(request: AnyRequest, user_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    try:
        member = await members_services.member_to_remove(me, user_id=user_id)
        await members_services.remove_member(me, user_id=user_id)
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    if user_id == me.user_id:
        # They left this workspace: its pages are no longer theirs to see.
        return see_other("/", notice=f"You left {me.workspace_name}.")
    return see_other(SETTINGS, notice=f"{member.email} removed from this workspace; their account stays.")


@get("/workspace/members/{user_id:int}/password", opt=needs(Permission.members_manage))
async def confirm_reset_password(request: AnyRequest, user_id: FromPath[int]) -> Response[Any]:
    """The confirmation as its own page: a reset signs the member out everywhere, so it takes two steps."""
    me = person(request)
    try:
        member = await members_services.member_to_reset(me, user_id=user_id)
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    return page(request, "confirm_reset_password.html", member=member)


@post("/workspace/members/{user_id:int}/password", opt=needs(Permission.members_manage))
async def reset_password(request: AnyRequest, user_id: FromPath[int]) -> Response[Any]:
    """A new one-time password, shown once through the flash after the redirect: a reload makes no other."""
    me = person(request)
    try:
        reset = await members_services.reset_password(me, user_id=user_id)
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    return see_other(
        SETTINGS,
        notice=f"{reset.email}'s password was reset and their sessions ended. Give them this password privately: "
               "they choose their own when they next sign in.",
        secret={"kind": "password", "label": f"One-time password for {reset.email}", "value": reset.password},
    )


@post("/workspace/api-keys", opt=needs(Permission.api_keys_manage))
async def create_key(request: AnyRequest) -> Response[Any]:
    me = person(request)
    form = await request.form()
    name = str(form.get("name") or "").strip() or "API key"
    try:
        scopes = [Scope(value) for value in form.getall("scopes", [])]
    except ValueError:
        return failed(SETTINGS, LedgerBridgeError("Choose scopes from the list.", code="validation_failed",
                                                  fix="Tick the scopes the key needs."))
    if not scopes:
        return failed(SETTINGS, LedgerBridgeError("A key needs at least one scope.", code="validation_failed",
                                                  fix="Tick the scopes the key needs, e.g. read."))
    created = await api_keys_services.create_key(me, data=ApiKeyIn(name=name[:120], scopes=scopes))
    # Shown once, on the next page only (the flash is deleted as it is read): the key is stored hashed.
    return see_other(SETTINGS, secret={"kind": "api_key", "label": "New API key", "value": created.key})


@post("/workspace/api-keys/{key_id:int}/revoke", opt=needs(Permission.api_keys_manage))
async def revoke_key(request: AnyRequest, key_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    try:
        await api_keys_services.revoke_key(me, key_id=key_id)
    except LedgerBridgeError as exc:
        return failed(SETTINGS, exc)
    return see_other(SETTINGS, notice="API key revoked.")


HANDLERS = [
    settings_page, invite, revoke_invitation, change_role, confirm_remove, remove_member, confirm_reset_password,
    reset_password, create_key, revoke_key
]
