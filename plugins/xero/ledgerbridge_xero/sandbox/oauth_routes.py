"""Xero's OAuth2 and identity endpoints at paths mirroring the real hosts (FACTS Xero 1).

* ``GET/POST /identity/connect/authorize`` (login.xero.com): consent page where the user ticks one or
  several organisations and approves or denies;
* ``POST /connect/token`` and ``POST /connect/revocation`` (identity.xero.com): HTTP Basic client auth
  (``client_secret_post`` accepted too), form bodies, ``{"error": ...}`` on failure;
* ``GET /connections`` and ``DELETE /connections/{id}`` (api.xero.com);
* ``/.well-known/openid-configuration`` and its JWKS so OpenID clients can be pointed here unchanged.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox.oauth import InvalidRequest, InvalidToken, OAuthError, UnsupportedGrantType
from ledgerbridge_testing.sandbox.oauth_http import NO_STORE, client_credentials, json_response, with_query
from litestar import Request, Response, Router, delete, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from ledgerbridge_xero.sandbox.config import KNOWN_SCOPES
from ledgerbridge_xero.sandbox.errors import XeroApiError
from ledgerbridge_xero.sandbox.identity import shared_signer

if TYPE_CHECKING:
    from ledgerbridge_xero.sandbox.app import XeroSandbox

AUTHORIZE_PATH = "/identity/connect/authorize"


def bearer(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def api_error_response(exc: XeroApiError) -> Response[Any]:
    if isinstance(exc.body, str):
        return Response(exc.body, status_code=exc.status, media_type="text/plain", headers=exc.headers)
    return json_response(exc.body, exc.status, exc.headers)


def build_oauth_router(sandbox: XeroSandbox) -> Router:
    """All identity routes of one sandbox instance."""
    allowed_scopes = set(KNOWN_SCOPES) | set(sandbox.config.extra_scopes)

    def error_page(message: str, status: int = 400) -> Response[str]:
        body = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Xero sandbox: error</title></head>"
            f"<body><h1>Authorisation error</h1><p>{html.escape(message)}</p></body></html>"
        )
        return Response(body, status_code=status, media_type="text/html")

    def check_request(params: dict[str, str]) -> tuple[str, str, tuple[str, ...]] | Response[str]:
        """Validate client and redirect first (errors shown on the page, never redirected)."""
        client = sandbox.oauth.client(params.get("client_id", ""))
        if client is None:
            return error_page("unauthorized_client: unknown client_id")
        redirect_uri = params.get("redirect_uri", "")
        if not client.accepts_redirect(redirect_uri):
            return error_page("invalid_request: redirect_uri is not registered for this app")
        scopes = tuple(params.get("scope", "").split())
        return client.client_id, redirect_uri, scopes

    def redirect_error(redirect_uri: str, error: str, state: str | None) -> Redirect:
        params = {"error": error}
        if state is not None:
            params["state"] = state
        return Redirect(with_query(redirect_uri, params), status_code=302)

    @get(AUTHORIZE_PATH)
    async def authorize_page(request: Request[Any, Any, Any]) -> Response[str] | Redirect:
        """The consent page: tick organisations, Allow access or Cancel."""
        params = dict(request.query_params)
        checked = check_request(params)
        if isinstance(checked, Response):
            return checked
        _, redirect_uri, scopes = checked
        state = params.get("state")
        if params.get("response_type") != "code":
            return redirect_error(redirect_uri, "unsupported_response_type", state)
        if not scopes or any(s not in allowed_scopes for s in scopes):
            return redirect_error(redirect_uri, "invalid_scope", state)
        if params.get("code_challenge") and params.get("code_challenge_method", "plain") != "S256":
            return redirect_error(redirect_uri, "invalid_request", state)
        hidden = "".join(
            f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
            for k, v in params.items()
            if k
            in {
                "client_id",
                "redirect_uri",
                "scope",
                "state",
                "code_challenge",
                "code_challenge_method",
                "response_type",
                "nonce",
            }
        )
        orgs = "".join(
            f"<label><input type='checkbox' name='tenant' value='{html.escape(o.tenant_id)}'"
            f"{' checked' if i == 0 else ''}> {html.escape(o.preset.name)}</label><br>"
            for i, o in enumerate(sandbox.service.organisations.values())
        )
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Xero sandbox: allow access</title></head>"
            "<body style='font-family:system-ui,sans-serif;margin:2rem'>"
            f"<h1>{html.escape(sandbox.app_name(params.get('client_id', '')))} wants access to your Xero data</h1>"
            f"<p>Scopes: {html.escape(' '.join(scopes))}</p>"
            f"<form method='post' action='{AUTHORIZE_PATH}'>{hidden}<fieldset><legend>Organisations</legend>"
            f"{orgs}</fieldset><button type='submit' name='decision' value='approve'>Allow access</button> "
            "<button type='submit' name='decision' value='deny'>Cancel</button></form></body></html>"
        )
        return Response(page, media_type="text/html")

    @post(AUTHORIZE_PATH, status_code=302)
    async def authorize_decision(request: Request[Any, Any, Any]) -> Response[str] | Redirect:
        """Approve (code + state to the redirect URI) or deny (``error=access_denied``)."""
        form = await request.form()
        params = {k: str(v) for k, v in form.items() if k != "tenant"}
        tenants = tuple(str(t) for t in form.getall("tenant")) if hasattr(form, "getall") else ()
        checked = check_request(params)
        if isinstance(checked, Response):
            return checked
        client_id, redirect_uri, scopes = checked
        state = params.get("state")
        if params.get("decision") != "approve":
            return redirect_error(redirect_uri, "access_denied", state)
        if not scopes or any(s not in allowed_scopes for s in scopes):
            return redirect_error(redirect_uri, "invalid_scope", state)
        unknown = [t for t in tenants if t not in sandbox.service.organisations]
        if unknown:
            return error_page(f"unknown organisation {unknown[0]}")
        if not tenants and any(s.startswith("accounting.") for s in scopes):
            return error_page("choose at least one organisation")
        code = sandbox.identity.approve(client_id, redirect_uri, tenants, scopes, params.get("code_challenge") or None)
        result = {"code": code, "scope": " ".join(scopes)}
        if state is not None:
            result["state"] = state
        return Redirect(with_query(redirect_uri, result), status_code=302)

    @post("/connect/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
        """authorization_code (with PKCE) and refresh_token grants."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            client_id, secret = client_credentials(request, form)
            client = sandbox.oauth.authenticate_client(client_id, secret)
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                issued = sandbox.identity.exchange(
                    client.client_id, form.get("code"), form.get("redirect_uri"), form.get("code_verifier")
                )
            elif grant_type == "refresh_token":
                issued = sandbox.oauth.refresh(client, form.get("refresh_token"))
            elif not grant_type:
                raise InvalidRequest("grant_type is required")
            else:
                raise UnsupportedGrantType(f"grant_type {grant_type} is not supported")
        except OAuthError as exc:
            return json_response({"error": exc.error}, exc.status, NO_STORE)
        body: dict[str, Any] = {}
        if "openid" in issued.grant.scopes:
            body["id_token"] = sandbox.identity.id_token(issued, form.get("nonce"))
        body.update(
            access_token=sandbox.identity.access_jwt(issued),
            expires_in=issued.expires_in,
            token_type="Bearer",
        )
        if "offline_access" in issued.grant.scopes:
            body["refresh_token"] = issued.refresh_token
        body["scope"] = " ".join(issued.grant.scopes)
        return json_response(body, 200, NO_STORE)

    @post("/connect/revocation", status_code=200)
    async def revocation(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Revoke a refresh token: the app loses every connection of the user."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            client_id, secret = client_credentials(request, form)
            client = sandbox.oauth.authenticate_client(client_id, secret)
            sandbox.identity.revoke(client.client_id, form.get("token"))
        except OAuthError as exc:
            return json_response({"error": exc.error}, exc.status, NO_STORE)
        return Response(b"", status_code=200, media_type="application/json")

    def access(request: Request[Any, Any, Any]) -> str:
        try:
            return sandbox.identity.validate(bearer(request)).client_id
        except InvalidToken as exc:
            raise sandbox.unauthorized_for(exc, bearer(request)) from exc

    @get("/connections")
    async def list_connections(request: Request[Any, Any, Any]) -> Response[Any]:
        """Organisations this app may call, optionally only those of one consent."""
        try:
            client_id = access(request)
        except XeroApiError as exc:
            return api_error_response(exc)
        event = request.query_params.get("authEventId")
        return json_response([c.to_json() for c in sandbox.identity.connections(client_id, event)])

    @delete("/connections/{connection_id:str}", status_code=200)
    async def remove_connection(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Response[Any]:
        """Disconnect one organisation."""
        try:
            client_id = access(request)
        except XeroApiError as exc:
            return api_error_response(exc)
        if not sandbox.identity.disconnect(client_id, connection_id):
            return api_error_response(XeroApiError(404, "The resource you're looking for cannot be found"))
        return Response(b"", status_code=204)

    @get("/.well-known/openid-configuration")
    async def discovery(request: Request[Any, Any, Any]) -> Response[bytes]:
        """OpenID discovery pointing at this server."""
        base = sandbox.base_url(str(request.base_url))
        return json_response(
            {
                "issuer": base,
                "authorization_endpoint": base + AUTHORIZE_PATH,
                "token_endpoint": base + "/connect/token",
                "revocation_endpoint": base + "/connect/revocation",
                "jwks_uri": base + "/.well-known/openid-configuration/jwks",
                "scopes_supported": sorted(allowed_scopes),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        )

    @get("/.well-known/openid-configuration/jwks")
    async def jwks() -> Response[bytes]:
        """Public key for access and ID tokens."""
        return json_response(shared_signer().jwks())

    return Router(
        path="",
        route_handlers=[
            authorize_page,
            authorize_decision,
            token,
            revocation,
            list_connections,
            remove_connection,
            discovery,
            jwks,
        ],
        include_in_schema=False,
    )
