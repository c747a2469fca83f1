"""Owners create workspaces; a person lists and switches between the ones they belong to.

An agency keeps one workspace per client, so its books, connections and members never mix. Only a
signed-in owner may create one (an API key belongs to one workspace and must not mint others); the
creator becomes its first owner. Switching is the session's (`identity.services.switch_to`).
"""

from __future__ import annotations

from ledgerbridge.api.errors import Invalid
from ledgerbridge.db import write_transaction
from ledgerbridge.domain.workspaces.schemas import WorkspaceChoiceOut, WorkspaceIn, WorkspaceList
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.memberships import create_workspace as new_workspace
from ledgerbridge.identity.memberships import workspaces_of
from ledgerbridge.identity.permissions import require_owner, require_person
from ledgerbridge.identity.services import switch_to
from ledgerbridge.tables import Membership, Role


async def list_workspaces(caller: Caller) -> WorkspaceList:
    """A person's workspaces; an API key sees only its own."""
    if caller.user_id is None:
        return WorkspaceList(items=[WorkspaceChoiceOut(id=caller.workspace_id or 0, name=caller.workspace_name or "",
                                                       role=Role.member, current=True)])
    return WorkspaceList(items=[
        WorkspaceChoiceOut(id=choice.id, name=choice.name, role=choice.role, current=choice.id == caller.workspace_id)
        for choice in await workspaces_of(caller.user_id)
    ])


async def create_workspace(caller: Caller, *, data: WorkspaceIn) -> tuple[WorkspaceChoiceOut, Caller]:
    """A new workspace owned by the caller; returns it and the caller as it is after the switch."""
    require_person(caller, why="An API key cannot create workspaces; a signed-in owner must.",
                   fix="Sign in to LedgerBridge and create it from the Workspaces page.")
    require_owner(caller)
    name = data.name.strip()
    if not name:
        raise Invalid("name", "a workspace needs a name")
    assert caller.user_id is not None
    async with write_transaction():
        workspace = await new_workspace(name)
        await Membership(user=caller.user_id, workspace=workspace.id, role=Role.owner).save()
    after = await switch_to(caller, workspace.id) if data.switch and caller.session_token else caller
    return WorkspaceChoiceOut(id=workspace.id, name=workspace.name, role=Role.owner,
                              current=after.workspace_id == workspace.id), after
