"""Sign-in, sign-out and the workspace switcher.

They use the same functions as the JSON API (`ledgerbridge.identity`), so throttling, sessions and
their cookies behave identically in both.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.identity.callers import caller_of
from ledgerbridge.identity.errors import BadCredentials, LoginThrottled, SignInBusy
from ledgerbridge.identity.passwords import authenticate, client_address
from ledgerbridge.identity.permissions import Permission, needs, open_before_password_change
from ledgerbridge.identity.services import switch_to
from ledgerbridge.identity.sessions import (
    SESSION_COOKIE,
    close_session,
    expired_session_cookie,
    session_cookie,
)
from ledgerbridge.identity.sign_ins import PASSWORD, open_signed_in_session
from ledgerbridge.settings import Settings
from litestar import Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from ledgerbridge_web.common import AnyRequest, page, person, safe_next
from ledgerbridge_web.oidc_signin import sign_in_choices


def _settings(request: AnyRequest) -> Settings:
    return request.app.state.settings


@get("/login")
async def login_page(request: AnyRequest) -> Response[Any]:
    me = caller_of(request)
    if me is not None and me.user_id is not None:
        return Redirect(safe_next(request.query_params.get("next")), status_code=HTTP_303_SEE_OTHER)
    return page(request, "login.html", next=safe_next(request.query_params.get("next")), email="", error=None,
                sign_in_with=sign_in_choices(_settings(request)))


@post("/login", status_code=HTTP_303_SEE_OTHER, opt=open_before_password_change(needs(Permission.public)))
async def login_submit(request: AnyRequest) -> Response[Any]:
    form = await request.form()
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "") or "/"))
    try:
        user = await authenticate(email, password, client=client_address(request))
    except (BadCredentials, LoginThrottled, SignInBusy) as exc:
        status = 401 if isinstance(exc, BadCredentials) else 429
        return page(request, "login.html", status=status, next=target, email=email, error=exc,
                    sign_in_with=sign_in_choices(_settings(request)))
    token = await open_signed_in_session(user.id, signed_in_with=PASSWORD, client=client_address(request),
                                         user_agent=request.headers.get("user-agent", ""),
                                         old_session=request.cookies.get(SESSION_COOKIE))
    return Redirect(target, status_code=HTTP_303_SEE_OTHER, cookies=[session_cookie(_settings(request), token)])


@post("/logout", status_code=HTTP_303_SEE_OTHER, opt=open_before_password_change(needs(Permission.public)))
async def logout_submit(request: AnyRequest) -> Response[Any]:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await close_session(token)
    return Redirect("/login", status_code=HTTP_303_SEE_OTHER, cookies=[expired_session_cookie(_settings(request))])


@post("/workspace", status_code=HTTP_303_SEE_OTHER, opt=needs(Permission.own_account))
async def switch_workspace(request: AnyRequest) -> Response[Any]:
    """The header's switcher: a plain form, so it works without JavaScript."""
    me = caller_of(request)
    if me is None or me.user_id is None or me.session_token is None:
        person(request)  # raises: strangers go to sign in
        raise AssertionError("unreachable")
    form = await request.form()
    raw = str(form.get("workspace_id", ""))
    back = safe_next(str(form.get("next", "") or "/"))
    if raw.isdigit():
        await switch_to(me, int(raw))
    return Redirect(back, status_code=HTTP_303_SEE_OTHER)


HANDLERS = [login_page, login_submit, logout_submit, switch_workspace]
