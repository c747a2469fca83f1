"""Invitations: an owner makes a link, the invitee accepts it; nobody is added by email alone.

The link carries a random token shown once to the owner (only its SHA-256 is stored), so an owner
learns nothing about other accounts on the server and cannot pull another workspace's user in: the
person joins only by opening the link themselves, signed in, or by creating their account with it.
An invitation is used once and lapses after `INVITATION_VALID_FOR`.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from datetime import timedelta

from ledgerbridge import audit
from ledgerbridge.api.errors import Conflict, NotFound
from ledgerbridge.db import write_transaction
from ledgerbridge.domain.invitations.schemas import (
    InvitationCreatedOut,
    InvitationIn,
    InvitationList,
    InvitationOut,
    JoinedOut,
    JoinIn,
)
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.digests import digest
from ledgerbridge.identity.passwords import NO_PASSWORD, check_password_rules, hash_password, normalize_email
from ledgerbridge.identity.permissions import Permission, require, require_person
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Invitation, Membership, Role, User, Workspace, utcnow

INVITATION_VALID_FOR = timedelta(days=7)
TOKEN_START = "lbi_"
ACCEPT_PATH = "/invitations/accept"


class InvitationUnusable(LedgerBridgeError):
    """The link was used, revoked, expired or never existed; the invitee needs a new one."""

    code = "invitation_unusable"

    def __init__(self, message: str) -> None:
        super().__init__(message, fix="Ask an owner of the workspace for a new invitation link.")


def invitation_out(row: Invitation, workspace_name: str) -> InvitationOut:
    return InvitationOut(
        id=row.id,
        workspace_name=workspace_name,
        role=Role(row.role),
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def accept_url(token: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}{ACCEPT_PATH}?token={token}"


async def create_invitation(caller: Caller, *, data: InvitationIn) -> InvitationCreatedOut:
    require(caller, Permission.members_manage)
    assert caller.workspace_id is not None
    token = TOKEN_START + secrets.token_urlsafe(32)
    now = utcnow()
    row = Invitation(
        workspace=caller.workspace_id,
        role=data.role,
        note=data.note.strip(),
        token_hash=digest(token),
        created_by=caller.user_id,
        created_at=now,
        expires_at=now + INVITATION_VALID_FOR,
    )
    async with write_transaction():
        await row.save()
        await audit.record(caller, "invitation.create", target_type="invitation", target_id=row.id,
                           after={"role": data.role, "note": row.note, "expires_at": row.expires_at})
    return InvitationCreatedOut(
        invitation=invitation_out(row, caller.workspace_name), token=token, accept_url=accept_url(token)
    )


async def list_invitations(caller: Caller) -> InvitationList:
    """The invitations still waiting to be accepted."""
    require(caller, Permission.members_manage)
    rows = await Invitation.objects().where(
        (Invitation.workspace == caller.workspace_id)
        & Invitation.accepted_at.is_null()
        & Invitation.revoked_at.is_null()
        & (Invitation.expires_at > utcnow())
    ).order_by(Invitation.id)
    return InvitationList(items=[invitation_out(row, caller.workspace_name) for row in rows])


async def revoke_invitation(caller: Caller, *, invitation_id: int) -> None:
    require(caller, Permission.members_manage)
    async with write_transaction():
        revoked = await Invitation.update({Invitation.revoked_at: utcnow()}).where(
            (Invitation.id == invitation_id)
            & (Invitation.workspace == caller.workspace_id)
            & Invitation.accepted_at.is_null()
            & Invitation.revoked_at.is_null()
        ).returning(Invitation.id, Invitation.role, Invitation.note)
        if not revoked:
            raise NotFound("invitation", invitation_id)
        await audit.record(caller, "invitation.revoke", target_type="invitation", target_id=invitation_id,
                           before={"role": revoked[0]["role"], "note": revoked[0]["note"]})


async def _usable(token: str) -> Invitation:
    """The pending invitation a token opens; call inside the accepting transaction."""
    row = await Invitation.objects().where(Invitation.token_hash == digest(token.strip())).first()
    if row is None:
        raise InvitationUnusable("This invitation link is not known.")
    if row.accepted_at is not None:
        raise InvitationUnusable("This invitation has already been used.")
    if row.revoked_at is not None:
        raise InvitationUnusable("This invitation was withdrawn.")
    if row.expires_at <= utcnow():
        raise InvitationUnusable("This invitation has expired.")
    return row


async def preview(token: str) -> InvitationOut:
    """What accepting would do, for the page that asks the invitee to confirm."""
    row = await _usable(token)
    workspace = await Workspace.objects().where(Workspace.id == row.workspace).first()
    assert workspace is not None
    return invitation_out(row, workspace.name)


async def _join(caller: Caller, row: Invitation, user_id: int) -> JoinedOut:
    """Make the membership and use up the invitation; call inside the transaction."""
    if await Membership.exists().where((Membership.workspace == row.workspace) & (Membership.user == user_id)):
        raise Conflict("You are already a member of this workspace.",
                       fix="Switch to it from the workspace menu; an owner can change your role.")
    used = await Invitation.update({Invitation.accepted_at: utcnow(), Invitation.accepted_by: user_id}).where(
        (Invitation.id == row.id) & Invitation.accepted_at.is_null()
    ).returning(Invitation.id)
    if not used:  # someone else accepted it a moment ago
        raise InvitationUnusable("This invitation has already been used.")
    await Membership(user=user_id, workspace=row.workspace, role=row.role).save()
    await audit.record(caller, "member.join", target_type="user", target_id=user_id, workspace_id=row.workspace,
                       after={"role": row.role, "invitation_id": row.id})
    workspace = await Workspace.objects().where(Workspace.id == row.workspace).first()
    assert workspace is not None
    return JoinedOut(workspace_id=workspace.id, workspace_name=workspace.name, role=Role(row.role), user_id=user_id)


async def accept(caller: Caller, *, token: str) -> JoinedOut:
    """The signed-in person accepts: they join with the invitation's role."""
    require_person(caller, why="An invitation is accepted by the person invited, signed in, not by an API key.")
    assert caller.user_id is not None
    async with write_transaction():
        return await _join(caller, await _usable(token), caller.user_id)


async def join(data: JoinIn, *, ip: str = "", user_agent: str = "") -> JoinedOut:
    """Someone new accepts by creating their account; the token is their only credential here, so
    an email that already has an account is refused (they sign in and accept instead)."""
    email = normalize_email(data.email)
    check_password_rules(data.password)
    await _usable(data.token)  # refuse a bad link before spending time on the password hash
    password_hash = await asyncio.to_thread(hash_password, data.password)
    async with write_transaction():
        row = await _usable(data.token)
        if await User.exists().where(User.email == email):
            raise Conflict(f"{email} already has a LedgerBridge account.",
                           fix="Sign in with it, then open the invitation link again to accept.")
        user = User(email=email, name=data.name.strip(), password_hash=password_hash, is_active=True,
                    created_at=utcnow())
        await user.save()
        newcomer = Caller(via="session", workspace_id=row.workspace, workspace_name="", role=None,
                          user_id=user.id, email=email, name=user.name)
        return await _join(replace(newcomer, ip=ip, user_agent=user_agent), row, user.id)


async def join_verified(token: str, *, email: str, name: str = "", ip: str = "", user_agent: str = "") -> JoinedOut:
    """Someone new accepts with an email an OpenID Connect issuer has verified ("Join with Intuit").

    Their account has no password (`NO_PASSWORD`): they sign in with that issuer, and may set one on
    their account page (`identity.linked_accounts.set_first_password`). As with `join`, an email that
    already has an account is refused here; the sign-in flow signs that person in and uses `accept` instead.
    """
    email = normalize_email(email)
    async with write_transaction():
        row = await _usable(token)
        if await User.exists().where(User.email == email):
            raise Conflict(f"{email} already has a LedgerBridge account.",
                           fix="Sign in with it, then open the invitation link again to accept.")
        user = User(email=email, name=name.strip()[:200], password_hash=NO_PASSWORD, is_active=True,
                    created_at=utcnow())
        await user.save()
        newcomer = Caller(via="session", workspace_id=row.workspace, workspace_name="", role=None,
                          user_id=user.id, email=email, name=user.name, ip=ip, user_agent=user_agent)
        return await _join(newcomer, row, user.id)
