"""The HTTP face of invitations: owners make and withdraw them, the invitee accepts one."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.invitations import services
from ledgerbridge.domain.invitations.schemas import (
    AcceptIn,
    InvitationCreatedOut,
    InvitationIn,
    InvitationList,
    JoinedOut,
)
from ledgerbridge.identity.callers import CallerDep, caller_of, refusal
from ledgerbridge.identity.permissions import Permission, needs


class InvitationController(Controller):
    path = "/workspace/invitations"
    tags = ["workspace"]
    opt = needs(Permission.members_manage)

    @get("/", summary="Invitations waiting to be accepted (owners only)", responses=error_responses(403))
    async def list_invitations(self, caller: CallerDep) -> InvitationList:
        return await services.list_invitations(caller)

    @post(
        "/",
        summary="Invite someone: the link in this answer is shown once (owners only)",
        description="Nobody joins by email alone: the invitee opens `accept_url` and accepts, signed in or "
        "creating their account there.",
        responses=error_responses(403),
        opt=needs(Permission.members_manage),
    )
    async def create_invitation(self, caller: CallerDep, data: JSONBody[InvitationIn]) -> InvitationCreatedOut:
        return await services.create_invitation(caller, data=data)

    @delete(
        "/{invitation_id:int}",
        summary="Withdraw an invitation not yet accepted (owners only)",
        responses=error_responses(403, 404),
        opt=needs(Permission.members_manage),
    )
    async def revoke_invitation(self, caller: CallerDep, invitation_id: FromPath[int]) -> None:
        await services.revoke_invitation(caller, invitation_id=invitation_id)


class AcceptController(Controller):
    path = "/invitations"
    tags = ["workspace"]

    @post(
        "/accept",
        status_code=HTTP_200_OK,
        summary="Accept an invitation as the signed-in person",
        description="Works for someone in no workspace yet, so it does not need a current workspace.",
        responses=error_responses(403, 409, 410),
        opt=needs(Permission.own_account),
    )
    async def accept(self, request: Request[Any, Any, Any], data: JSONBody[AcceptIn]) -> JoinedOut:
        caller = caller_of(request)
        if caller is None:
            raise refusal(request)
        return await services.accept(caller, token=data.token)
