"""Accepting an invitation: the page the link opens, for someone signed in or someone new.

The link's token is the only thing that lets anyone in, so the page shows what it offers
(workspace, role) and joins only on a deliberate POST: signed in, the person accepts as themselves;
otherwise they create their account with it and are signed in. Both go through the invitation
services, which use the token once.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.domain.invitations import services as invitations_services
from ledgerbridge.domain.invitations.schemas import JoinIn
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.callers import caller_of
from ledgerbridge.identity.errors import NotSignedIn
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.identity.services import switch_to
from ledgerbridge.identity.sessions import open_session, session_cookie
from litestar import Response, get, post

from ledgerbridge_web.common import AnyRequest, page, see_other
from ledgerbridge_web.oidc_signin import sign_in_choices

ACCEPT = "/invitations/accept"


def _token_of(value: Any) -> str:
    return str(value or "").strip()[:200]


async def _offer(request: AnyRequest, token: str, status: int = 200, error: LedgerBridgeError | None = None,
                 email: str = "", name: str = "") -> Response[Any]:
    try:
        invitation = await invitations_services.preview(token)
    except LedgerBridgeError as exc:
        return page(request, "invitation.html", status=410, invitation=None, token="", error=exc, email="", name="")
    me = caller_of(request)
    signed_in = me is not None and me.user_id is not None
    return page(request, "invitation.html", status=status, invitation=invitation, token=token, error=error,
                signed_in=signed_in, email=email, name=name,
                sign_in_with=sign_in_choices(request.app.state.settings))


@get(ACCEPT)
async def invitation_page(request: AnyRequest) -> Response[Any]:
    return await _offer(request, _token_of(request.query_params.get("token")))


@post(ACCEPT, opt=needs(Permission.own_account))
async def accept(request: AnyRequest) -> Response[Any]:
    me = caller_of(request)
    if me is None or me.user_id is None:
        raise NotSignedIn()
    form = await request.form()
    token = _token_of(form.get("token"))
    try:
        joined = await invitations_services.accept(me, token=token)
    except LedgerBridgeError as exc:
        return await _offer(request, token, status=409, error=exc)
    if me.session_token:
        await switch_to(me, joined.workspace_id)
    return see_other("/", notice=f"You joined {joined.workspace_name} as {joined.role}.")


@post("/invitations/join", opt=needs(Permission.public))
async def join(request: AnyRequest) -> Response[Any]:
    """Someone new: their account is created with the invitation, and they are signed in."""
    form = await request.form()
    token = _token_of(form.get("token"))
    email = str(form.get("email") or "").strip()[:254]
    name = str(form.get("name") or "").strip()[:200]
    data = JoinIn(token=token, email=email, password=str(form.get("password") or "")[:1000], name=name)
    ip = request.client.host if request.client else ""
    try:
        joined = await invitations_services.join(data, ip=ip, user_agent=request.headers.get("user-agent", "")[:300])
    except LedgerBridgeError as exc:
        return await _offer(request, token, status=400, error=exc, email=email, name=name)
    session = await open_session(joined.user_id, joined.workspace_id)
    welcome = see_other("/", notice=f"Welcome to {joined.workspace_name}.")
    welcome.set_cookie(session_cookie(request.app.state.settings, session))
    return welcome


HANDLERS = [invitation_page, accept, join]
