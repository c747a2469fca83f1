"""The "Sign in with Intuit" (or any configured issuer) buttons' two pages: off to the issuer, and back.

Both are plain GETs a browser follows (a link, then the issuer's redirect); the work is in
`ledgerbridge.identity.oidc`. A refusal shows the sign-in page with the reason and what to do, with
the status the check gives (never a server error), and the flow cookie is dropped either way, so an
answer is used at most once.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity import oidc
from ledgerbridge.identity.errors import LoginThrottled, SignInBusy, SignInRefused
from ledgerbridge.identity.passwords import client_address
from ledgerbridge.identity.sessions import SESSION_COOKIE, session_cookie
from ledgerbridge.settings import Settings
from litestar import Response, get
from litestar.datastructures import Cookie
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from ledgerbridge_web.common import AnyRequest, page, safe_next, see_other

INVITATION_PARAM = "invitation"


def _settings(request: AnyRequest) -> Settings:
    return request.app.state.settings


def _flow_cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(key=oidc.FLOW_COOKIE, value=value, path=oidc.FLOW_PATH, httponly=True, samesite="lax",
                  secure=settings.session_cookie_secure, max_age=max_age)


def sign_in_choices(settings: Settings) -> list[dict[str, str]]:
    """The issuer buttons the sign-in and invitation pages show (none unless configured)."""
    return [{"key": issuer.key, "name": issuer.name} for issuer in settings.sign_in_issuers()]


def _refused(request: AnyRequest, exc: LedgerBridgeError, target: str = "/") -> Response[Any]:
    if isinstance(exc, SignInRefused):
        status = exc.status
    elif isinstance(exc, LoginThrottled | SignInBusy):
        status = 429
    else:
        status = 400
    answer = page(request, "login.html", status=status, next=target, email="", error=exc,
                  sign_in_with=sign_in_choices(_settings(request)))
    answer.cookies.append(_flow_cookie(_settings(request), "", 0))
    return answer


@get(oidc.FLOW_PATH + "/{key:str}")
async def start(request: AnyRequest, key: FromPath[str]) -> Response[Any]:
    """Off to the issuer, with this browser's state, nonce and PKCE verifier kept in a signed cookie."""
    target = safe_next(request.query_params.get("next"))
    invitation = str(request.query_params.get(INVITATION_PARAM) or "").strip()
    try:
        started = await oidc.begin(key[:40], next_path=target, invitation=invitation)
    except LedgerBridgeError as exc:
        return _refused(request, exc, target)
    return Redirect(started.authorize_url, status_code=HTTP_303_SEE_OTHER,
                    cookies=[_flow_cookie(_settings(request), started.flow, oidc.FLOW_SECONDS)])


@get(oidc.FLOW_PATH + "/{key:str}/callback")
async def callback(request: AnyRequest, key: FromPath[str]) -> Response[Any]:
    """Back from the issuer: signed in and on to where they were going, or the sign-in page saying why not."""
    query = {name: str(value)[:2000] for name, value in request.query_params.items()}
    try:
        signed = await oidc.finish(
            key[:40], query=query, flow=request.cookies.get(oidc.FLOW_COOKIE), client=client_address(request),
            user_agent=request.headers.get("user-agent", ""), old_session=request.cookies.get(SESSION_COOKIE))
    except LedgerBridgeError as exc:
        return _refused(request, exc)
    problem = signed.problem
    answer = see_other(safe_next(signed.next_path), notice=None if problem else signed.notice,
                       error=problem.message if problem else None, fix=problem.fix if problem else None)
    answer.cookies.extend([session_cookie(_settings(request), signed.session_token),
                           _flow_cookie(_settings(request), "", 0)])
    return answer


HANDLERS = [start, callback]
