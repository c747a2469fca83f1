"""The HTTP face of members: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.members import services
from ledgerbridge.domain.members.schemas import MemberList, MemberOut, MemberPatch, PasswordResetOut, WorkspaceOut
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.guards import owner_only
from ledgerbridge.identity.permissions import Permission, needs


class WorkspaceController(Controller):
    path = "/workspace"
    tags = ["workspace"]

    @get("/", summary="The current workspace", responses=error_responses())
    async def current(self, caller: CallerDep) -> WorkspaceOut:
        return await services.current(caller)

    @get("/members", summary="Members and their roles", responses=error_responses())
    async def list_members(self, caller: CallerDep) -> MemberList:
        return await services.list_members(caller)

    @patch(
        "/members/{user_id:int}",
        opt=needs(Permission.members_manage),
        guards=[owner_only],
        summary="Change a member's role (owners only)",
        responses=error_responses(403, 404, 409),
    )
    async def change_role(self, caller: CallerDep, user_id: FromPath[int], data: JSONBody[MemberPatch]) -> MemberOut:
        return await services.change_role(caller, user_id=user_id, data=data)

    @delete(
        "/members/{user_id:int}",
        opt=needs(Permission.members_manage),
        guards=[owner_only],
        summary="Remove a member (owners only); the user account stays",
        responses=error_responses(403, 404, 409),
    )
    async def remove_member(self, caller: CallerDep, user_id: FromPath[int]) -> None:
        return await services.remove_member(caller, user_id=user_id)

    @post(
        "/members/{user_id:int}/password",
        opt=needs(Permission.members_manage),
        guards=[owner_only],
        status_code=HTTP_200_OK,
        summary="Reset a member's password (owners signed in as people only); the one-time password is in "
                "this answer only",
        description="The member's sessions end and they must choose their own password at their next sign-in. "
                    "Allowed only for someone whose every workspace the caller also owns, never for one's own "
                    "account (use `POST /auth/password`), and never with an API key: no scope grants managing "
                    "people, so a leaked key cannot take over an account.",
        responses=error_responses(403, 404, 409),
    )
    async def reset_password(self, caller: CallerDep, user_id: FromPath[int]) -> PasswordResetOut:
        return await services.reset_password(caller, user_id=user_id)
