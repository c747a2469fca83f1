"""FreshBooks' OAuth2 and identity endpoints (FACTS.md "FreshBooks 1").

* ``GET/POST /oauth/authorize`` - the consent page (stands in for ``auth.freshbooks.com/oauth/authorize``):
  sign in as one of the demo users and Approve or Deny; approval redirects with ``code`` and ``state``.
  Tokens belong to the user, not to a business: the app picks a business from ``users/me``.
* ``POST /auth/oauth/token`` - form or JSON body with the client credentials in the body (HTTP Basic is
  not accepted), ``authorization_code`` and ``refresh_token`` grants. Access tokens live 12 hours; each
  refresh token works exactly once, with no grace period.
* ``POST /auth/oauth/revoke`` - ``client_id``, ``client_secret``, ``token``; ends the connection.
* ``GET /auth/api/v1/users/me`` - the identity with its business memberships.
"""

from __future__ import annotations

import html
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.idtoken import IdTokenSigner
from ledgerbridge_testing.sandbox.oauth import InvalidRequest, OAuthError, UnsupportedGrantType
from ledgerbridge_testing.sandbox.oauth_http import NO_STORE, json_response, with_query
from litestar import Request, Response, Router, get, post
from litestar.response import Redirect

from ledgerbridge_freshbooks.sandbox.config import KNOWN_SCOPES, PROFILE_SCOPE
from ledgerbridge_freshbooks.sandbox.guard import IDENTITY_KEY
from ledgerbridge_freshbooks.sandbox.store import utc_iso

if TYPE_CHECKING:
    from ledgerbridge_freshbooks.sandbox.app import FbSandbox

DESCRIPTIONS = {
    "invalid_grant": "The provided authorization grant is invalid, expired, revoked, or was issued to another client.",
    "invalid_client": "Client authentication failed due to unknown client, no client authentication included, "
                      "or unsupported authentication method.",
    "invalid_request": "The request is missing a required parameter.",
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
}


async def request_fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Form (Python SDK) or JSON (Node SDK) body as strings."""
    if request.headers.get("content-type", "").startswith("application/json"):
        raw = await request.body()
        try:
            data = jsoncodec.loads(raw) if raw.strip() else {}
        except jsoncodec.JSONBodyError:
            return {}
        return {k: str(v) for k, v in data.items() if v is not None} if isinstance(data, dict) else {}
    return {k: str(v) for k, v in (await request.form()).items()}


def build_oauth_router(sandbox: FbSandbox) -> Router:
    """OAuth and identity routes of one sandbox instance."""
    allowed = {*KNOWN_SCOPES, *sandbox.config.extra_scopes}

    def error_page(message: str) -> Response[str]:
        body = ("<!doctype html><html><head><meta charset='utf-8'><title>FreshBooks sandbox: error</title></head>"
                f"<body><h1>Authorization error</h1><p>{html.escape(message)}</p></body></html>")
        return Response(body, status_code=400, media_type="text/html")

    @get("/oauth/authorize")
    async def authorize_page(request: Request[Any, Any, Any]) -> Response[str] | Redirect:
        """Sign in as a demo user and approve the app."""
        query = request.query_params
        client = sandbox.oauth.client(query.get("client_id") or "")
        redirect_uri = query.get("redirect_uri") or ""
        if client is None:
            return error_page("Unknown client_id.")
        if not client.accepts_redirect(redirect_uri):
            return error_page("The redirect_uri is not registered for this app.")
        state = query.get("state")
        extra = {"state": state} if state is not None else {}
        if query.get("response_type") != "code":
            return Redirect(with_query(redirect_uri, {"error": "unsupported_response_type", **extra}), status_code=302)
        scopes = (query.get("scope") or "").split()
        if any(s not in allowed for s in scopes):
            return Redirect(with_query(redirect_uri, {"error": "invalid_scope", **extra}), status_code=302)
        users = "".join(
            f"<li><label><input type='radio' name='identity_id' value='{i.identity_id}'{' checked' if n == 0 else ''}>"
            f" {html.escape(i.first_name)} {html.escape(i.last_name)} &lt;{html.escape(i.email)}&gt; - "
            f"{html.escape(', '.join(sandbox.state.businesses[a].preset.name for a in i.account_ids))}</label></li>"
            for n, i in enumerate(sandbox.state.identities.values())
        )
        hidden = "".join(
            f"<input type='hidden' name='{name}' value='{html.escape(query.get(name) or '')}'>"
            for name in ("client_id", "redirect_uri", "scope", "state")
        )
        page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>FreshBooks sandbox: sign in</title>"
                "</head><body style='font-family:system-ui,sans-serif;margin:2rem'>"
                f"<h1>Connect {html.escape(client.client_id)} to FreshBooks (sandbox)</h1>"
                f"<p>The app asks for: {html.escape(', '.join(scopes) or 'its configured scopes')}</p>"
                f"<form method='post' action='/oauth/authorize'>{hidden}<p>Sign in as:</p><ul>{users}</ul>"
                "<button type='submit' name='decision' value='approve'>Allow</button> "
                "<button type='submit' name='decision' value='deny'>Deny</button></form></body></html>")
        return Response(page, media_type="text/html")

    @post("/oauth/authorize", status_code=302)
    async def authorize_decision(request: Request[Any, Any, Any]) -> Response[str] | Redirect:
        """Handle the consent form and redirect back to the app."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        client = sandbox.oauth.client(form.get("client_id", ""))
        redirect_uri = form.get("redirect_uri", "")
        if client is None or not client.accepts_redirect(redirect_uri):
            return error_page("Unknown client_id or unregistered redirect_uri.")
        extra = {"state": form["state"]} if form.get("state") else {}
        if form.get("decision") != "approve":
            return Redirect(with_query(redirect_uri, {"error": "access_denied", **extra}), status_code=302)
        try:
            identity_id = int(form.get("identity_id", ""))
        except ValueError:
            return error_page("Choose a user to sign in as.")
        if identity_id not in sandbox.state.identities:
            return error_page("Choose a user to sign in as.")
        scopes = form.get("scope", "").split() or list(KNOWN_SCOPES)
        code = sandbox.issue_code(client.client_id, redirect_uri, identity_id, scopes)
        return Redirect(with_query(redirect_uri, {"code": code, **extra}), status_code=302)

    @post("/auth/oauth/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
        """authorization_code and refresh_token grants; credentials in the body only."""
        fields = await request_fields(request)
        try:
            client = sandbox.oauth.authenticate_client(fields.get("client_id"), fields.get("client_secret"))
            grant_type = fields.get("grant_type")
            if grant_type == "authorization_code":
                issued = sandbox.exchange_code(client, fields.get("code"), fields.get("redirect_uri"))
            elif grant_type == "refresh_token":
                issued = sandbox.oauth.refresh(client, fields.get("refresh_token"))
            elif not grant_type:
                raise InvalidRequest("grant_type is required")
            else:
                raise UnsupportedGrantType(grant_type)
        except OAuthError as exc:
            body = {"error": exc.error, "error_description": DESCRIPTIONS.get(exc.error, exc.description)}
            return json_response(body, status=exc.status, headers=NO_STORE)
        scopes = [PROFILE_SCOPE, *[s for s in issued.grant.scopes if s != PROFILE_SCOPE]]
        now = int(sandbox.clock.now().timestamp())
        identity_id = int(issued.grant.subject)
        identity = sandbox.state.identities.get(identity_id)
        id_token = _signer().sign(
            {
                "iss": sandbox.web_url(request),
                "sub": f"00000000-0000-4000-8000-{identity_id:012d}",
                "aud": client.client_id,
                "iat": now,
                "exp": now + issued.expires_in,
                "email": identity.email if identity else None,
            }
        )
        return json_response(
            {
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
                "refresh_token": issued.refresh_token,
                "scope": " ".join(scopes),
                "created_at": now,
                "id_token": id_token,
            },
            headers=NO_STORE,
        )

    @post("/auth/oauth/revoke", status_code=200)
    async def revoke(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Revoke an access or refresh token: the whole connection ends."""
        fields = await request_fields(request)
        try:
            client = sandbox.oauth.authenticate_client(fields.get("client_id"), fields.get("client_secret"))
            sandbox.oauth.revoke(client, fields.get("token"))
        except OAuthError as exc:
            body = {"error": exc.error, "error_description": DESCRIPTIONS.get(exc.error, exc.description)}
            return json_response(body, status=exc.status)
        return json_response({})

    @get("/auth/api/v1/users/me")
    async def me(request: Request[Any, Any, Any]) -> Response[bytes]:
        """The signed-in user and the businesses they can pick from."""
        identity_id = request.scope["state"][IDENTITY_KEY]  # type: ignore[index]
        return json_response({"response": sandbox.identity_document(identity_id)})

    return Router(path="/", route_handlers=[authorize_page, authorize_decision, token, revoke, me],
                  include_in_schema=False)


@lru_cache(maxsize=1)
def _signer() -> IdTokenSigner:
    """One RSA key per process for FreshBooks ID tokens: generating a key per sandbox would slow every
    test that connects, and FreshBooks publishes no JWKS a client could check the key against."""
    return IdTokenSigner()


def identity_document(sandbox: FbSandbox, identity_id: int) -> dict[str, Any]:
    """``users/me`` with the SDK fixture's key set."""
    identity = sandbox.state.identities[identity_id]
    created = utc_iso(sandbox.started_at)
    businesses = [sandbox.state.businesses[a] for a in identity.account_ids]
    profession = {"id": identity_id + 50000, "business_id": None, "title": "Owner",
                  "company": businesses[0].preset.name if businesses else "", "designation": None}
    memberships = [
        {
            "id": 140000 + b.preset.business_id,
            "role": "owner",
            "unacknowledged_change": False,
            "business": {
                "id": b.preset.business_id,
                "business_uuid": b.preset.business_uuid,
                "name": b.preset.name,
                "account_id": b.account_id,
                "date_format": "mm/dd/yyyy",
                "address": {"id": 70000 + b.preset.business_id, "street": "1 Demo Street", "city": "Springfield",
                            "province": "", "country": b.preset.country, "postal_code": "00000"},
                "phone_number": {"id": 60000 + b.preset.business_id, "phone_number": "555-0100"},
                "business_clients": [],
            },
        }
        for b in businesses
    ]
    return {
        "id": identity_id,
        "profile": {"setup_complete": True, "first_name": identity.first_name, "last_name": identity.last_name,
                    "phone_number": None, "address": None, "professions": [profession], "has_password": True},
        "identity_id": identity_id,
        "identity_uuid": f"00000000-0000-4000-8000-{identity_id:012d}",
        "first_name": identity.first_name,
        "last_name": identity.last_name,
        "email": identity.email,
        "language": "en",
        "confirmed_at": created,
        "created_at": created,
        "unconfirmed_email": None,
        "setup_complete": True,
        "phone_numbers": [{"title": "", "phone_number": None}],
        "addresses": [None],
        "profession": profession,
        "links": {"me": f"/service/auth/api/v1/users?id={identity_id}",
                  "roles": f"/service/auth/api/v1/users/role/{identity_id}"},
        "permissions": {b.account_id: {} for b in businesses},
        "groups": [
            {"id": 12000 + b.preset.business_id, "group_id": 7000 + b.preset.business_id, "role": "owner",
             "identity_id": identity_id, "identity_uuid": f"00000000-0000-4000-8000-{identity_id:012d}",
             "business_id": b.preset.business_id, "active": True}
            for b in businesses
        ],
        "subscription_statuses": {b.account_id: "active" for b in businesses},
        "integrations": {},
        "business_memberships": memberships,
        "identity_origin": None,
        "roles": [
            {"id": 61000 + b.preset.business_id, "role": "admin", "systemid": 650000 + b.preset.business_id,
             "userid": 1, "created_at": created,
             "links": {"destroy": f"/service/auth/api/v1/users/role/{61000 + b.preset.business_id}"},
             "accountid": b.account_id}
            for b in businesses
        ],
    }
