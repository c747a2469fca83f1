"""Acme Books's sign-in: the consent page, the token endpoint and revocation (RFC 6749 / 7009 shapes).

* `GET /oauth/authorize` shows the consent page: the demo companys as radio buttons, Allow or
  Deny. Problems with the client or the redirect URI are shown on the page, never redirected.
* `POST /oauth/authorize` sends the browser back with `code` and `state`, or `error=access_denied`.
* `POST /oauth/token` takes `authorization_code` and `refresh_token` grants with HTTP Basic (or
  form) client credentials; the refresh token rotates on every use.
* `POST /oauth/revoke` ends the connection behind a token.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox.oauth import InvalidRequest, OAuthError, UnsupportedGrantType
from ledgerbridge_testing.sandbox.oauth_http import NO_STORE, client_credentials, json_response, with_query
from litestar import Request, Response, Router, get, post
from litestar.response import Redirect

if TYPE_CHECKING:
    from ledgerbridge_acme.sandbox.app import Sandbox

AUTHORIZE_PATH = "/oauth/authorize"
SCOPES = ("accounting",)


def _page(title: str, body: str, status: int = 200) -> Response[str]:
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body style='font-family:system-ui,sans-serif;margin:2rem'>{body}</body></html>")
    return Response(page, status_code=status, media_type="text/html")


def build_oauth_router(sandbox: Sandbox) -> Router:
    def checked(params: dict[str, str]) -> tuple[str, str] | Response[str]:
        """(client id, redirect URI) of a valid request, else the error page."""
        client = sandbox.oauth.client(params.get("client_id", ""))
        if client is None:
            return _page("Sign-in error", "<h1>Sign-in error</h1><p>unauthorized_client: unknown client_id</p>", 400)
        redirect_uri = params.get("redirect_uri", "")
        if not client.accepts_redirect(redirect_uri):
            return _page("Sign-in error", "<h1>Sign-in error</h1><p>invalid_request: redirect_uri is not "
                         "registered for this app</p>", 400)
        return client.client_id, redirect_uri

    def back(redirect_uri: str, params: dict[str, str], state: str | None) -> Redirect:
        if state is not None:
            params = {**params, "state": state}
        return Redirect(with_query(redirect_uri, params), status_code=302)

    @get(AUTHORIZE_PATH)
    async def consent_page(request: Request[Any, Any, Any]) -> Response[str] | Redirect:
        """Choose a company, then Allow or Deny."""
        params = dict(request.query_params)
        verdict = checked(params)
        if isinstance(verdict, Response):
            return verdict
        _, redirect_uri = verdict
        if params.get("response_type") != "code":
            return back(redirect_uri, {"error": "unsupported_response_type"}, params.get("state"))
        hidden = "".join(f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
                         for k, v in params.items())
        choices = "".join(
            f"<label><input type='radio' name='company' value='{html.escape(c.id)}'"
            f"{' checked' if index == 0 else ''}> {html.escape(c.name)}</label><br>"
            for index, c in enumerate(sandbox.books.companies.values()))
        return _page("Acme Books: allow access", (
            "<h1>LedgerBridge wants access to your Acme Books books</h1>"
            f"<form method='post' action='{AUTHORIZE_PATH}'>{hidden}"
            f"<fieldset><legend>Company</legend>{choices}</fieldset>"
            "<button type='submit' name='decision' value='approve'>Allow access</button> "
            "<button type='submit' name='decision' value='deny'>Deny</button></form>"))

    @post(AUTHORIZE_PATH, status_code=302)
    async def consent_decision(request: Request[Any, Any, Any]) -> Response[str] | Redirect:
        """Approve (a code for the chosen company) or deny (`access_denied`)."""
        params = {k: str(v) for k, v in (await request.form()).items()}
        verdict = checked(params)
        if isinstance(verdict, Response):
            return verdict
        client_id, redirect_uri = verdict
        state = params.get("state")
        if params.get("decision") != "approve":
            return back(redirect_uri, {"error": "access_denied"}, state)
        company = params.get("company", "")
        if company not in sandbox.books.companies:
            return _page("Sign-in error", "<h1>Sign-in error</h1><p>Choose a company.</p>", 400)
        scopes = tuple(params.get("scope", "").split()) or SCOPES
        code = sandbox.oauth.issue_code(client_id, redirect_uri, company, scopes)
        return back(redirect_uri, {"code": code}, state)

    @post("/oauth/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            client = sandbox.oauth.authenticate_client(*client_credentials(request, form))
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                issued = sandbox.oauth.exchange_code(client, form.get("code"), form.get("redirect_uri"))
            elif grant_type == "refresh_token":
                issued = sandbox.oauth.refresh(client, form.get("refresh_token"))
            elif not grant_type:
                raise InvalidRequest("grant_type is required")
            else:
                raise UnsupportedGrantType(f"grant_type {grant_type} is not supported")
        except OAuthError as exc:
            return json_response({"error": exc.error, "error_description": exc.description}, exc.status, NO_STORE)
        return json_response({
            "access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in,
            "refresh_token": issued.refresh_token, "refresh_expires_in": issued.refresh_expires_in,
            "scope": " ".join(issued.grant.scopes),
        }, 200, NO_STORE)

    @post("/oauth/revoke", status_code=200)
    async def revoke(request: Request[Any, Any, Any]) -> Response[bytes]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            client = sandbox.oauth.authenticate_client(*client_credentials(request, form))
            sandbox.oauth.revoke(client, form.get("token"))
        except OAuthError as exc:
            return json_response({"error": exc.error}, exc.status, NO_STORE)
        return json_response({}, 200, NO_STORE)

    return Router(path="", route_handlers=[consent_page, consent_decision, token, revoke], include_in_schema=False)
