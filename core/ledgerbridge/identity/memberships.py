"""Users, workspaces and the roles that join them."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from ledgerbridge import audit
from ledgerbridge.api.errors import Invalid
from ledgerbridge.db import write_transaction
from ledgerbridge.identity.passwords import check_password_rules, hash_password, normalize_email
from ledgerbridge.tables import Membership, Role, User, Workspace, utcnow

log = logging.getLogger(__name__)

COMMAND_LINE_RESET = "command line (ledgerbridge createadmin --reset-password)"
"""How the audit trail names whoever reset a password with the CLI: they hold the server, not an account."""


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:70] or "workspace"


async def create_workspace(name: str) -> Workspace:
    """A workspace with a unique slug; call inside a write transaction."""
    base = slugify(name)
    slug, n = base, 1
    while await Workspace.exists().where(Workspace.slug == slug):
        n += 1
        slug = f"{base}-{n}"
    workspace = Workspace(name=name, slug=slug, created_at=utcnow())
    await workspace.save()
    return workspace


async def create_admin(
    email: str, password: str, workspace_name: str, *, reset_password: bool = False,
    must_change_password: bool = False,
) -> tuple[User, Workspace]:
    """Make sure `email` can sign in as an owner of the workspace named `workspace_name`.

    Idempotent, because `make run` calls it on every first start and people re-run the CLI: an
    existing user keeps their password unless `reset_password` is set, an existing workspace of
    that name is reused, and an existing membership is raised to owner.

    `must_change_password` marks a password chosen for the person (a reset from the CLI, the first
    owner's generated password): they must choose their own at first sign-in (`first_passwords`).

    A reset of an existing account is audited as `member.password_reset` in every workspace the person
    belongs to, in the transaction that changes it, by the command line (`COMMAND_LINE_RESET`): their
    owners see who reset it and when, as for an owner's reset, and never the password.
    """
    email = normalize_email(email)
    name = workspace_name.strip()
    if not name:
        raise Invalid("workspace_name", "must not be empty")
    existing = await User.objects().where(User.email == email).first()
    new_hash = None
    if existing is None or reset_password:
        check_password_rules(password)
        new_hash = await asyncio.to_thread(hash_password, password)
    async with write_transaction():
        user = await User.objects().where(User.email == email).first()
        reset_done = user is not None and reset_password and new_hash is not None
        if user is None:
            assert new_hash is not None
            user = User(email=email, name="", password_hash=new_hash, is_active=True, created_at=utcnow(),
                        must_change_password=must_change_password)
            await user.save()
        elif reset_password and new_hash is not None and must_change_password:
            from ledgerbridge.identity.first_passwords import impose_password

            await impose_password(user.id, new_hash)
            user.password_hash = new_hash
            user.is_active = True
            user.must_change_password = True
        elif reset_password and new_hash is not None:
            await User.update({User.password_hash: new_hash, User.is_active: True}).where(User.id == user.id)
            # Whoever knew the old password may be signed in with it: a reset ends every session.
            # Lazy, deliberately: `sessions` imports this module for `WorkspaceChoice`.
            from ledgerbridge.identity.sessions import close_sessions_of

            await close_sessions_of(user.id)
            user.password_hash = new_hash
            user.is_active = True
        workspace = await Workspace.objects().where(Workspace.name == name).order_by(Workspace.id).first()
        if workspace is None:
            workspace = await create_workspace(name)
        membership = (
            await Membership.objects()
            .where((Membership.user == user.id) & (Membership.workspace == workspace.id))
            .first()
        )
        if membership is None:
            await Membership(user=user.id, workspace=workspace.id, role=Role.owner).save()
        elif membership.role != Role.owner:
            await Membership.update({Membership.role: Role.owner}).where(Membership.id == membership.id)
        if reset_done:
            await _record_command_line_reset(user, imposed=must_change_password)
    if reset_done:
        log.info("password of user %s reset from the command line; their sessions ended", user.id)
    return user, workspace


async def _record_command_line_reset(user: User, *, imposed: bool) -> None:
    """One audit entry per workspace of the person; call in the transaction of the reset."""
    # Lazy, deliberately: `callers` imports this module for `WorkspaceChoice`.
    from ledgerbridge.identity.callers import system_caller

    rows = await Membership.select(Membership.workspace).where(Membership.user == user.id).order_by(
        Membership.workspace)
    for row in rows:
        await audit.record(system_caller(COMMAND_LINE_RESET, row["workspace"]), "member.password_reset",
                           target_type="user", target_id=user.id,
                           after={"email": user.email, "must_change_at_sign_in": imposed})


@dataclass(frozen=True)
class WorkspaceChoice:
    id: int
    name: str
    role: Role


async def workspaces_of(user_id: int) -> list[WorkspaceChoice]:
    rows = (
        await Membership.select(
            Membership.workspace.id.as_alias("id"),
            Membership.workspace.name.as_alias("name"),
            Membership.role,
        )
        .where(Membership.user == user_id)
        .order_by(Membership.workspace.name)
    )
    return [WorkspaceChoice(id=row["id"], name=row["name"], role=Role(row["role"])) for row in rows]
