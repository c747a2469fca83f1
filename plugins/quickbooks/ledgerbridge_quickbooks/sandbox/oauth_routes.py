"""Intuit's OAuth2 endpoints, at paths mirroring the real ones (FACTS.md QBO 1).

* ``GET/POST /connect/oauth2`` - the consent page: pick a company, Approve or Deny. Approval redirects
  to ``redirect_uri`` with ``code``, ``state`` and ``realmId``; denial with ``error=access_denied``.
  With the ``openid`` scope the page also asks who signs in ("Sign in with Intuit"): the tester types
  the Intuit account's email, whether Intuit verified it, and optionally its user id (``sub``; derived
  from the email when blank). A request with OpenID scopes only needs no company. ``nonce`` and a
  PKCE ``code_challenge`` are carried from the request to the code.
* ``POST /oauth2/v1/tokens/bearer`` - HTTP Basic (or ``client_secret_post``) client auth, form body,
  ``authorization_code`` and ``refresh_token`` grants; the success body has exactly the fields of
  Intuit's ``success_token_response.json`` and errors are ``{"error": ...}`` (400, or 401 for clients).
* ``POST /v2/oauth2/tokens/revoke`` - JSON ``{"token": ...}`` with Basic auth; ends the connection.
* discovery documents, JWKS and userinfo so OpenID clients can be pointed at the sandbox unchanged:
  Intuit's own paths, and the standard ``/.well-known/openid-configuration`` (at the root and under the
  issuer) that generic OpenID Connect clients derive from the issuer.

The ID token (RS256, signed with the key the JWKS publishes) carries ``iss``, ``aud``, ``sub``,
``realmid`` (with a company), ``email`` (with the ``email`` scope), ``nonce`` (when the request had
one), ``auth_time``, ``iat`` and ``exp``. Whether the email is verified is told by userinfo's
``emailVerified``, as Intuit's userinfo document names it. Tests bend the next ID tokens through
``QboSandbox.id_token_overrides`` and ``id_token_tamper``.
"""

from __future__ import annotations

import html
import uuid
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.oauth import (
    Grant,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    OAuthError,
    SignIn,
    UnsupportedGrantType,
)
from ledgerbridge_testing.sandbox.oauth_http import NO_STORE, client_credentials, json_response, with_query
from litestar import Request, Response, Router, get, post
from litestar.response import Redirect

from ledgerbridge_quickbooks.sandbox.config import ACCOUNTING_SCOPE, OPENID_SCOPES, PAYMENT_SCOPE

if TYPE_CHECKING:
    from ledgerbridge_quickbooks.sandbox.app import QboSandbox

INTUIT_ISSUER_PATH = "/op/v1"
DEFAULT_SIGN_IN_EMAIL = "sandbox.user@example.com"
COMPANY_SCOPES = frozenset({ACCOUNTING_SCOPE, PAYMENT_SCOPE})


def user_id_for(email: str) -> str:
    """A stable Intuit user id (``sub``) for an email, so the same tester is the same user every time."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"qbo-sandbox-user:{email.strip().lower()}"))


def subject_of(grant: Grant) -> str:
    """The ``sub`` of a grant: the person who signed in, else (older consents) one derived from the company."""
    if grant.sign_in is not None:
        return grant.sign_in.user_id
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"qbo-sandbox-user:{grant.subject}"))


def _sign_in_fields() -> str:
    """The consent page's "who signs in" part, shown when the app asks for the openid scope."""
    return (
        "<fieldset><legend>Sign in to the app as this Intuit account</legend>"
        f"<p><label for='email'>Email</label> <input id='email' type='email' name='email' "
        f"value='{DEFAULT_SIGN_IN_EMAIL}'></p>"
        "<p><label><input type='radio' name='email_verified' value='true' checked> Intuit has verified this email"
        "</label> <label><input type='radio' name='email_verified' value='false'> not verified</label></p>"
        "<p><label for='sub'>Intuit user id</label> <input id='sub' type='text' name='sub' value='' "
        "placeholder='blank: derived from the email'></p></fieldset>"
    )


def base_url(sandbox: QboSandbox, request: Request[Any, Any, Any]) -> str:
    """The sandbox's public URL: configured, or taken from the request."""
    if sandbox.config.public_base_url:
        return sandbox.config.public_base_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def build_oauth_router(sandbox: QboSandbox) -> Router:
    """All OAuth/OpenID routes of one sandbox instance."""
    allowed_scopes = {ACCOUNTING_SCOPE, PAYMENT_SCOPE, *OPENID_SCOPES, *sandbox.config.extra_scopes}

    def error_page(message: str, status: int = 400) -> Response[str]:
        body = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>Intuit sandbox: error</title></head>"
            f"<body><h1>Authorization error</h1><p>{html.escape(message)}</p></body></html>"
        )
        return Response(body, status_code=status, media_type="text/html")

    @get("/connect/oauth2")
    async def authorize_page(request: Request[Any, Any, Any]) -> Response[str] | Redirect:
        """Intuit's consent screen: choose a company, Approve or Deny."""
        query = request.query_params
        client_id = query.get("client_id")
        response_type = query.get("response_type")
        scope = query.get("scope")
        redirect_uri = query.get("redirect_uri")
        state = query.get("state")
        client = sandbox.oauth.client(client_id or "")
        if client is None:
            return error_page("Unknown client_id.")
        if not redirect_uri or not client.accepts_redirect(redirect_uri):
            return error_page("The redirect_uri is not registered for this app.")
        extra = {"state": state} if state is not None else {}
        if response_type != "code":
            return Redirect(with_query(redirect_uri, {"error": "unsupported_response_type", **extra}), status_code=302)
        scopes = (scope or "").split()
        if not scopes or any(s not in allowed_scopes for s in scopes):
            return Redirect(with_query(redirect_uri, {"error": InvalidScope.error, **extra}), status_code=302)
        needs_company = bool(COMPANY_SCOPES & set(scopes)) or not ({"openid"} & set(scopes))
        options = "" if not needs_company else "".join(
            f"<li><label><input type='radio' name='realm_id' value='{html.escape(c.realm_id)}'"
            f"{' checked' if i == 0 else ''}> {html.escape(c.preset.company_name)} "
            f"<small>(realmId {html.escape(c.realm_id)})</small></label></li>"
            for i, c in enumerate(sandbox.state.companies.values())
        )
        hidden = "".join(
            f"<input type='hidden' name='{name}' value='{html.escape(value or '')}'>"
            for name, value in (
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("scope", scope),
                ("state", state),
                ("response_type", response_type),
                ("nonce", query.get("nonce")),
                ("code_challenge", query.get("code_challenge")),
                ("code_challenge_method", query.get("code_challenge_method")),
            )
            if value is not None or name in ("client_id", "redirect_uri", "scope", "state", "response_type")
        )
        who = _sign_in_fields() if "openid" in scopes else ""
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Intuit sandbox: connect</title>"
            "</head><body style='font-family:system-ui,sans-serif;margin:2rem'>"
            f"<h1>Connect {html.escape(client.client_id)} to QuickBooks (sandbox)</h1>"
            f"<p>The app asks for: {html.escape(', '.join(scopes))}</p>"
            f"<form method='post' action='/connect/oauth2'>{hidden}{who}"
            f"{f'<ul>{options}</ul>' if options else ''}"
            "<button type='submit' name='decision' value='approve'>Approve</button> "
            "<button type='submit' name='decision' value='deny'>Deny</button></form></body></html>"
        )
        return Response(page, media_type="text/html")

    @post("/connect/oauth2", status_code=302)
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
        scopes = form.get("scope", "").split()
        if not scopes or any(s not in allowed_scopes for s in scopes):
            return Redirect(with_query(redirect_uri, {"error": InvalidScope.error, **extra}), status_code=302)
        needs_company = bool(COMPANY_SCOPES & set(scopes)) or "openid" not in scopes
        realm_id = form.get("realm_id", "")
        if needs_company and sandbox.state.company(realm_id) is None:
            return error_page("Choose a company to connect.")
        sign_in = None
        if "openid" in scopes:
            email = form.get("email", "").strip() or DEFAULT_SIGN_IN_EMAIL
            sign_in = SignIn(
                user_id=form.get("sub", "").strip() or user_id_for(email),
                email=email,
                email_verified=form.get("email_verified", "true") != "false",
                nonce=form.get("nonce") or None,
            )
        try:
            code = sandbox.oauth.issue_code(
                client.client_id, redirect_uri, realm_id if needs_company else "", scopes, sign_in=sign_in,
                code_challenge=form.get("code_challenge") or None,
                code_challenge_method=form.get("code_challenge_method") or "plain",
            )
        except OAuthError as exc:
            return Redirect(with_query(redirect_uri, {"error": exc.error, **extra}), status_code=302)
        params = {"code": code, **extra, **({"realmId": realm_id} if needs_company else {})}
        return Redirect(with_query(redirect_uri, params), status_code=302)

    @post("/oauth2/v1/tokens/bearer", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
        """The token endpoint: authorization_code and refresh_token grants."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            client = sandbox.oauth.authenticate_client(*client_credentials(request, form))
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                issued = sandbox.oauth.exchange_code(
                    client, form.get("code"), form.get("redirect_uri"), form.get("code_verifier")
                )
            elif grant_type == "refresh_token":
                issued = sandbox.oauth.refresh(client, form.get("refresh_token"))
            elif not grant_type:
                raise InvalidRequest("grant_type is required")
            else:
                raise UnsupportedGrantType(grant_type)
        except OAuthError as exc:
            return json_response({"error": exc.error}, status=exc.status, headers=NO_STORE)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "refresh_token": issued.refresh_token,
            "x_refresh_token_expires_in": issued.refresh_expires_in,
        }
        if request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true":
            body["x_refresh_token_hard_expires_in"] = issued.hard_expires_in
        body["access_token"] = issued.access_token
        if "openid" in issued.grant.scopes:
            body["id_token"] = id_token(issued.grant, client.client_id, issued.expires_in, request)
        return json_response(body, headers=NO_STORE)

    def id_token(grant: Grant, client_id: str, lifetime: int, request: Request[Any, Any, Any]) -> str:
        """The ID token for a grant, bent by the test controls when they are set."""
        now = int(sandbox.clock.now().timestamp())
        claims: dict[str, Any] = {
            "sub": subject_of(grant),
            "aud": [client_id],
            "realmid": grant.subject,
            "auth_time": now,
            "iss": base_url(sandbox, request) + INTUIT_ISSUER_PATH,
            "exp": now + lifetime,
            "iat": now,
        }
        if not grant.subject:
            del claims["realmid"]
        if grant.sign_in is not None:
            if "email" in grant.scopes:
                claims["email"] = grant.sign_in.email
            if grant.sign_in.nonce:
                claims["nonce"] = grant.sign_in.nonce
        for name, value in sandbox.id_token_overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        token_value = sandbox.signer.sign(claims)
        return sandbox.id_token_tamper(token_value) if sandbox.id_token_tamper else token_value

    @post("/v2/oauth2/tokens/revoke", status_code=200)
    async def revoke(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Revoke an access or refresh token, ending the connection."""
        try:
            client = sandbox.oauth.authenticate_client(*client_credentials(request, {}))
            raw = await request.body()
            try:
                data = jsoncodec.loads(raw) if raw.strip() else {}
            except jsoncodec.JSONBodyError as exc:
                raise InvalidRequest("body must be JSON") from exc
            token_value = data.get("token") if isinstance(data, dict) else None
            sandbox.oauth.revoke(client, token_value if isinstance(token_value, str) else None)
        except OAuthError as exc:
            return json_response({"error": exc.error}, status=exc.status)
        return Response(b"", status_code=200, media_type="application/json")

    def discovery(request: Request[Any, Any, Any]) -> Response[bytes]:
        base = base_url(sandbox, request)
        return json_response(
            {
                "issuer": base + INTUIT_ISSUER_PATH,
                "authorization_endpoint": base + "/connect/oauth2",
                "token_endpoint": base + "/oauth2/v1/tokens/bearer",
                "userinfo_endpoint": base + "/v1/openid_connect/userinfo",
                "revocation_endpoint": base + "/v2/oauth2/tokens/revoke",
                "jwks_uri": base + INTUIT_ISSUER_PATH + "/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile", "address", "phone"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
            }
        )

    @get([
        "/.well-known/openid_sandbox_configuration",
        "/.well-known/openid_configuration",
        "/.well-known/openid-configuration",
        INTUIT_ISSUER_PATH + "/.well-known/openid-configuration",
    ])
    async def discovery_document(request: Request[Any, Any, Any]) -> Response[bytes]:
        """OpenID discovery pointing at this sandbox's own endpoints."""
        return discovery(request)

    @get("/op/v1/jwks")
    async def jwks() -> Response[bytes]:
        """Public key for verifying ID tokens."""
        return json_response(sandbox.signer.jwks())

    @get("/v1/openid_connect/userinfo")
    async def userinfo(request: Request[Any, Any, Any]) -> Response[bytes]:
        """OpenID userinfo for tokens with the openid scope."""
        header = request.headers.get("authorization", "")
        token_value = header[7:].strip() if header.lower().startswith("bearer ") else None
        try:
            info = sandbox.oauth.validate_access(token_value)
        except InvalidToken:
            return json_response(
                {"error": "invalid_token"}, status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        scopes = set(info.grant.scopes)
        if "openid" not in scopes:
            return json_response({"error": "insufficient_scope"}, status=403)
        body: dict[str, Any] = {"sub": subject_of(info.grant)}
        if "email" in scopes:
            who = info.grant.sign_in
            body.update({"email": who.email if who else DEFAULT_SIGN_IN_EMAIL,
                         "emailVerified": who.email_verified if who else True})
        if "profile" in scopes:
            body.update({"givenName": "Sandbox", "familyName": "User"})
        if "phone" in scopes:
            body.update({"phoneNumber": "+1 6505550100", "phoneNumberVerified": False})
        if "address" in scopes:
            body["address"] = {
                "streetAddress": "2500 Garcia Ave",
                "locality": "Mountain View",
                "region": "CA",
                "postalCode": "94043",
                "country": "US",
            }
        return json_response(body)

    return Router(
        path="/",
        route_handlers=[authorize_page, authorize_decision, token, revoke, discovery_document, jwks, userinfo],
        include_in_schema=False,
    )
