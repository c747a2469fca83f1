"""The current workspace and its members. Everyone may look; owners manage.

People join by invitation only (`ledgerbridge.domain.invitations`): an owner cannot add an account
by typing its email, so nobody learns which accounts exist or pulls another workspace's user in.

The last owner can neither leave nor be demoted: a workspace nobody can administer could only be
rescued from the command line.

An owner may reset a member's password (`reset_password`): the member gets a one-time password to
change at first sign-in, and every session of theirs ends. Only for someone whose every workspace
the owner also owns, since a password opens all of a person's workspaces, not only this one."""

from __future__ import annotations

from ledgerbridge import audit
from ledgerbridge.api.errors import Conflict, NotFound
from ledgerbridge.db import write_transaction
from ledgerbridge.domain.members.schemas import MemberList, MemberOut, MemberPatch, PasswordResetOut, WorkspaceOut
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.errors import Forbidden
from ledgerbridge.identity.first_passwords import impose_password, one_time_password
from ledgerbridge.identity.passwords import hash_password, run_hashing
from ledgerbridge.identity.permissions import Permission, require, require_owner, require_person
from ledgerbridge.tables import Membership, Role, User, Workspace


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


async def _resettable(caller: Caller, user_id: int) -> MemberOut:
    """The member whose password the caller may reset, or the refusal saying why not.

    Never an API key, whatever its scopes: a key is a host app's credential, stored in its config and
    used unattended, and a reset hands over the account (and every workspace of it) to whoever reads
    the answer. A person resets in a browser, where the owner's own sign-in stands behind it.
    """
    require_person(caller, why="Only an owner signed in as a person can reset a password, not an API key.",
                   fix="Sign in to LedgerBridge as an owner and reset it on the Members page, or with "
                       "`POST /api/v1/workspace/members/{user_id}/password` from that session.")
    require_owner(caller)
    ws = caller.workspace_id
    assert ws is not None
    await _membership(ws, user_id)
    if user_id == caller.user_id:
        raise Conflict("This is your own account.", fix="Change your own password under your email in the header.")
    owned = {choice.id for choice in caller.workspaces if choice.role == Role.owner}
    theirs = {row["workspace"] for row in await Membership.select(Membership.workspace).where(
        Membership.user == user_id)}
    if not theirs <= owned:
        raise Forbidden(
            "This person also belongs to a workspace you do not own, so you cannot reset their password.",
            fix="Ask them to change it themselves, or an administrator to run `ledgerbridge createadmin "
                "--reset-password`.",
        )
    return next(member for member in await _members(ws) if member.user_id == user_id)


async def member_to_reset(caller: Caller, *, user_id: int) -> MemberOut:
    """The member a password reset would apply to, for its confirmation step (refused as the reset would be)."""
    return await _resettable(caller, user_id)


async def reset_password(caller: Caller, *, user_id: int) -> PasswordResetOut:
    """Give a member a new one-time password; their sessions end and they choose their own at sign-in.

    The password is returned once, never stored in clear or written to the audit trail: the page
    shows it through the flash, so a reload cannot mint another.
    """
    member = await _resettable(caller, user_id)
    password = one_time_password()
    new_hash = await run_hashing(hash_password, password)
    async with write_transaction():
        if not await User.exists().where(User.id == user_id):
            raise NotFound("member", user_id)
        await impose_password(user_id, new_hash)
        await audit.record(caller, "member.password_reset", target_type="user", target_id=user_id,
                           after={"email": member.email, "must_change_at_sign_in": True})
    return PasswordResetOut(user_id=user_id, email=member.email, password=password)
