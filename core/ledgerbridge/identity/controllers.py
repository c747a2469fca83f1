"""The JSON sign-in endpoints: CSRF token, login, logout, who am I, switch workspace, and one's own
password and linked sign-in accounts.

The admin UI has its own form pages built on the same functions (`ledgerbridge_web.signin`).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from litestar.types import BeforeRequestHookHandler

from ledgerbridge.api.decoding import refuse_out_of_range
from ledgerbridge.api.schemas import error_responses
from ledgerbridge.identity import linked_accounts
from ledgerbridge.identity.callers import Caller, caller_of, session_caller
from ledgerbridge.identity.guards import person_only, signed_in
from ledgerbridge.identity.middleware import CSRF_FORM_FIELD, CSRF_HEADER, csrf_token_of
from ledgerbridge.identity.passwords import authenticate, client_address
from ledgerbridge.identity.permissions import Permission, needs, open_before_password_change
from ledgerbridge.identity.schemas import (
    CsrfOut,
    FirstPasswordIn,
    LinkedAccountOut,
    LoginIn,
    MeOut,
    PasswordChangeIn,
    SignInMethodsOut,
    SwitchWorkspaceIn,
    WorkspaceChoiceOut,
)
from ledgerbridge.identity.services import change_own_password, switch_to
from ledgerbridge.identity.sessions import (
    SESSION_COOKIE,
    close_session,
    expired_session_cookie,
    session_cookie,
)
from ledgerbridge.identity.sign_ins import PASSWORD, open_signed_in_session
from ledgerbridge.settings import Settings


def me_out(caller: Caller, csrf_token: str = "") -> MeOut:
    return MeOut(
        via=caller.via,
        workspace_id=caller.workspace_id,
        workspace_name=caller.workspace_name,
        role=caller.role,
        user_id=caller.user_id,
        email=caller.email,
        name=caller.name,
        api_key_prefix=caller.api_key_prefix,
        workspaces=[WorkspaceChoiceOut(id=c.id, name=c.name, role=c.role) for c in caller.workspaces],
        csrf_token=csrf_token,
        must_change_password=caller.must_change_password,
    )


def _settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings



class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]
    # An id beyond 64 bits in the path is a 400 naming it, as on /api/v1, not a database overflow (500).
    before_request: BeforeRequestHookHandler | None = refuse_out_of_range

    @get("/csrf", summary="A CSRF token for cookie-authenticated clients", opt=open_before_password_change())
    async def csrf_token(self, request: Request[Any, Any, Any]) -> CsrfOut:
        """Also sets the CSRF cookie, which must accompany the token on unsafe requests."""
        return CsrfOut(csrf_token=csrf_token_of(request), header=CSRF_HEADER, form_field=CSRF_FORM_FIELD)

    @post(
        "/login",
        opt=open_before_password_change(needs(Permission.public)),
        status_code=HTTP_200_OK,
        summary="Sign in with email and password (starts a session cookie)",
        responses=error_responses(403, 429),
    )
    async def login(self, request: Request[Any, Any, Any], data: JSONBody[LoginIn]) -> Response[MeOut]:
        user = await authenticate(data.email, data.password, client=client_address(request))
        token = await open_signed_in_session(user.id, signed_in_with=PASSWORD, client=client_address(request),
                                             user_agent=request.headers.get("user-agent", ""),
                                             old_session=request.cookies.get(SESSION_COOKIE))
        caller = await session_caller(token)
        assert caller is not None
        return Response(me_out(caller, csrf_token_of(request)), cookies=[session_cookie(_settings(request), token)])

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="End the session",
          opt=open_before_password_change(needs(Permission.public)),
          # An empty answer: without this, `Response[None]` is documented as a JSON `null` body.
          responses={HTTP_204_NO_CONTENT: ResponseSpec(data_container=None, description="Signed out; the "
                                                       "session cookie is expired.")})
    async def logout(self, request: Request[Any, Any, Any]) -> Response[None]:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await close_session(token)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[expired_session_cookie(_settings(request))])

    @get("/me", guards=[signed_in], summary="Who is calling", responses=error_responses(),
         opt=open_before_password_change())
    async def me(self, request: Request[Any, Any, Any]) -> MeOut:
        caller = caller_of(request)
        assert caller is not None
        return me_out(caller, csrf_token_of(request))

    @post(
        "/workspace",
        opt=needs(Permission.own_account),
        guards=[person_only],
        status_code=HTTP_200_OK,
        summary="Switch the session's current workspace",
        responses=error_responses(403),
    )
    async def switch_workspace(self, request: Request[Any, Any, Any], data: JSONBody[SwitchWorkspaceIn]) -> MeOut:
        caller = caller_of(request)
        assert caller is not None
        updated = await switch_to(caller, data.workspace_id)
        return me_out(updated, csrf_token_of(request))


    @post(
        "/password",
        guards=[person_only],
        status_code=HTTP_204_NO_CONTENT,
        summary="Change your own password (ends your other sessions)",
        responses=error_responses(403, 429),
        opt=open_before_password_change(needs(Permission.own_account)),
    )
    async def change_password(self, request: Request[Any, Any, Any], data: JSONBody[PasswordChangeIn]) -> None:
        caller = caller_of(request)
        assert caller is not None
        await change_own_password(
            caller, data.current_password, data.new_password, client=client_address(request)
        )

    @get("/sign-in-methods", guards=[person_only], summary="Your password (whether you have one) and linked "
         "sign-in accounts", responses=error_responses(403))
    async def sign_in_methods(self, request: Request[Any, Any, Any]) -> SignInMethodsOut:
        caller = caller_of(request)
        assert caller is not None
        methods = await linked_accounts.sign_in_methods(caller)
        return SignInMethodsOut(has_password=methods.has_password, can_unlink=methods.can_unlink,
                                linked_accounts=[_linked_out(account) for account in methods.accounts])

    @delete(
        "/linked-accounts/{identity_id:int}",
        guards=[person_only],
        status_code=HTTP_200_OK,
        summary="Unlink one of your sign-in accounts (never your last way to sign in)",
        responses=error_responses(403, 404, 409),
        opt=needs(Permission.own_account),
    )
    async def unlink(self, request: Request[Any, Any, Any], identity_id: FromPath[int]) -> LinkedAccountOut:
        caller = caller_of(request)
        assert caller is not None
        return _linked_out(await linked_accounts.unlink(caller, identity_id))

    @post(
        "/password/first",
        guards=[person_only],
        status_code=HTTP_204_NO_CONTENT,
        summary="Set a first password, without a current one: only while you have none (joined through an issuer)",
        responses=error_responses(403, 409),
        opt=needs(Permission.own_account),
    )
    async def set_first_password(self, request: Request[Any, Any, Any], data: JSONBody[FirstPasswordIn]) -> None:
        caller = caller_of(request)
        assert caller is not None
        await linked_accounts.set_first_password(caller, data.new_password)


def _linked_out(account: linked_accounts.LinkedAccount) -> LinkedAccountOut:
    return LinkedAccountOut(id=account.id, issuer=account.issuer, issuer_name=account.issuer_name,
                            email=account.email, linked_at=account.linked_at, last_used_at=account.last_used_at)
