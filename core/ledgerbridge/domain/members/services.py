"""The current workspace and its members. Everyone may look; owners manage.

People join by invitation only (`ledgerbridge.domain.invitations`): an owner cannot add an account
by typing its email, so nobody learns which accounts exist or pulls another workspace's user in.

The last owner can neither leave nor be demoted: a workspace nobody can administer could only be
rescued from the command line."""

from __future__ import annotations

from ledgerbridge import audit
from ledgerbridge.api.errors import Conflict, NotFound
from ledgerbridge.db import write_transaction
from ledgerbridge.domain.members.schemas import MemberList, MemberOut, MemberPatch, WorkspaceOut
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require, require_owner
from ledgerbridge.tables import Membership, Role, Workspace


async def _members(workspace_id: int) -> list[MemberOut]:
    rows = (
        await Membership.select(
            Membership.user.id.as_alias("user_id"),
            Membership.user.email.as_alias("email"),
            Membership.user.name.as_alias("name"),
            Membership.role,
        )
        .where(Membership.workspace == workspace_id)
        .order_by(Membership.user.email)
    )
    return [MemberOut(user_id=r["user_id"], email=r["email"], name=r["name"], role=Role(r["role"])) for r in rows]


async def _membership(workspace_id: int, user_id: int) -> Membership:
    membership = (
        await Membership.objects().where((Membership.workspace == workspace_id) & (Membership.user == user_id)).first()
    )
    if membership is None:
        raise NotFound("member", user_id)
    return membership


async def _keep_an_owner(workspace_id: int, leaving_user_id: int) -> None:
    """Refuse a change that would leave the workspace without an owner; call in the transaction."""
    others = await Membership.count().where(
        (Membership.workspace == workspace_id) & (Membership.role == Role.owner) & (Membership.user != leaving_user_id)
    )
    if others == 0:
        raise Conflict(
            "This is the workspace's last owner.",
            fix="Make another member an owner first.",
        )


async def current(caller: Caller) -> WorkspaceOut:
    workspace = await Workspace.objects().where(Workspace.id == caller.workspace_id).first()
    assert workspace is not None
    return WorkspaceOut(id=workspace.id, name=workspace.name, slug=workspace.slug)


async def list_members(caller: Caller) -> MemberList:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    return MemberList(items=await _members(caller.workspace_id))


async def change_role(caller: Caller, *, user_id: int, data: MemberPatch) -> MemberOut:
    require_owner(caller)
    ws = caller.workspace_id
    assert ws is not None
    async with write_transaction():
        membership = await _membership(ws, user_id)
        if membership.role == Role.owner and data.role != Role.owner:
            await _keep_an_owner(ws, user_id)
        await Membership.update({Membership.role: data.role}).where(Membership.id == membership.id)
        if membership.role != data.role:
            await audit.record(caller, "member.role", target_type="user", target_id=user_id,
                               before={"role": membership.role}, after={"role": data.role})
    return next(member for member in await _members(ws) if member.user_id == user_id)


async def remove_member(caller: Caller, *, user_id: int) -> None:
    require_owner(caller)
    ws = caller.workspace_id
    assert ws is not None
    async with write_transaction():
        membership = await _membership(ws, user_id)
        if membership.role == Role.owner:
            await _keep_an_owner(ws, user_id)
        await audit.record(caller, "member.remove", target_type="user", target_id=user_id,
                           before={"role": membership.role})
        await Membership.delete().where(Membership.id == membership.id)


async def member_to_remove(caller: Caller, *, user_id: int) -> MemberOut:
    """The member a removal would take out, for a confirmation step; only owners may remove, so
    only owners get this far."""
    require_owner(caller)
    assert caller.workspace_id is not None
    await _membership(caller.workspace_id, user_id)
    return next(member for member in await _members(caller.workspace_id) if member.user_id == user_id)
