"""Sign-in, sign-out and the workspace switcher.

They use the same functions as the JSON API (`ledgerbridge.auth`), so throttling, sessions and
their cookies behave identically in both.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge import auth
from ledgerbridge.settings import Settings
from litestar import Response, get, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from ledgerbridge_web.common import AnyRequest, page, person, safe_next


def _settings(request: AnyRequest) -> Settings:
    return request.app.state.settings


@get("/login")
async def login_page(request: AnyRequest) -> Response[Any]:
    me = auth.caller_of(request)
    if me is not None and me.user_id is not None:
        return Redirect(safe_next(request.query_params.get("next")), status_code=HTTP_303_SEE_OTHER)
    return page(request, "login.html", next=safe_next(request.query_params.get("next")), email="", error=None)


@post("/login", status_code=HTTP_303_SEE_OTHER)
async def login_submit(request: AnyRequest) -> Response[Any]:
    form = await request.form()
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "") or "/"))
    try:
        user = await auth.authenticate(email, password)
    except (auth.BadCredentials, auth.LoginThrottled) as exc:
        status = 429 if isinstance(exc, auth.LoginThrottled) else 401
        return page(request, "login.html", status=status, next=target, email=email, error=exc)
    old = request.cookies.get(auth.SESSION_COOKIE)
    if old:
        await auth.close_session(old)
    token = await auth.open_session(user.id)
    return Redirect(target, status_code=HTTP_303_SEE_OTHER, cookies=[auth.session_cookie(_settings(request), token)])


@post("/logout", status_code=HTTP_303_SEE_OTHER)
async def logout_submit(request: AnyRequest) -> Response[Any]:
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        await auth.close_session(token)
    return Redirect("/login", status_code=HTTP_303_SEE_OTHER, cookies=[auth.expired_session_cookie(_settings(request))])


@post("/workspace", status_code=HTTP_303_SEE_OTHER)
async def switch_workspace(request: AnyRequest) -> Response[Any]:
    """The header's switcher: a plain form, so it works without JavaScript."""
    me = auth.caller_of(request)
    if me is None or me.user_id is None or me.session_token is None:
        person(request)  # raises: strangers go to sign in
        raise AssertionError("unreachable")
    form = await request.form()
    raw = str(form.get("workspace_id", ""))
    back = safe_next(str(form.get("next", "") or "/"))
    if raw.isdigit():
        await auth.switch_workspace(me.session_token, me.user_id, int(raw))
    return Redirect(back, status_code=HTTP_303_SEE_OTHER)


HANDLERS = [login_page, login_submit, logout_submit, switch_workspace]
