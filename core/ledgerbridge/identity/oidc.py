"""Signing in with an OpenID Connect issuer ("Sign in with Intuit", or any issuer configured).

The authorization-code flow, with every check the protocol asks of a client:

* `begin` makes a fresh `state`, `nonce` and PKCE verifier (S256) and puts them in a short-lived
  signed cookie of this browser only (`FLOW_COOKIE`), so the answer is accepted only by the browser
  that started it: a callback link sent to someone else, or replayed later, is refused.
* `finish` compares the callback's `state` with the cookie's, trades the code (with the verifier) at
  the issuer's token endpoint, checks the ID token (`oidc_tokens`), reads userinfo when the ID token
  lacks the email or whether it is verified (Intuit says `emailVerified` there), and finds the
  account (`oidc_accounts`: linked identity, else verified email, else an invitation being accepted).
* It then signs in as the password form does: the attempt is reserved with the sign-in throttle
  before anything is sent to the issuer (per address and server-wide; there is no password to guess,
  so no per-account pause that a stranger could trigger), and `sign_ins` opens the session and records
  "signed in with <issuer>" in the audit trail.

Requests go over our own httpx client with authlib's RFC 6749/7636 helpers, as `ledgerbridge.oauth`
does for provider connections.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from itsdangerous import BadData, URLSafeTimedSerializer

from ledgerbridge.db import write_transaction
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity import clock
from ledgerbridge.identity.errors import LoginThrottled, SignInRefused
from ledgerbridge.identity.oidc_accounts import IssuerAccount, account_for
from ledgerbridge.identity.oidc_issuers import IssuerEndpoints, endpoints_of, issuer_named, unreachable
from ledgerbridge.identity.oidc_tokens import verified_claims
from ledgerbridge.identity.sign_ins import open_signed_in_session
from ledgerbridge.identity.throttling import Refusal, reserve, succeeded
from ledgerbridge.settings import SignInIssuer, get_settings
from ledgerbridge.tables import User

log = logging.getLogger(__name__)

FLOW_COOKIE = "lb_oidc"
FLOW_PATH = "/login/oidc"
FLOW_SECONDS = 10 * 60  # from the button to the callback
FLOW_SALT = "ledgerbridge.oidc-flow"
TOKEN_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
INVITATION_KEPT = 200  # characters of an invitation token carried through the flow


def callback_path(key: str) -> str:
    return f"{FLOW_PATH}/{key}/callback"


def callback_url(issuer: SignInIssuer) -> str:
    """The redirect URI to register at the issuer."""
    return f"{get_settings().base_url}{callback_path(issuer.key)}"


def _flows() -> URLSafeTimedSerializer:
    # Salted: a value signed with the same secret key for another purpose is never a valid flow.
    return URLSafeTimedSerializer(get_settings().secret_key, salt=FLOW_SALT)


def not_configured(key: str) -> SignInRefused:
    return SignInRefused("not_configured", f"Signing in with \"{key}\" is not configured on this server.",
                         fix="Sign in with your email and password, or ask your administrator to configure it.",
                         status=404)


def _issuer(key: str) -> SignInIssuer:
    issuer = issuer_named(key)
    if issuer is None:
        raise not_configured(key)
    return issuer


@dataclass(frozen=True)
class Started:
    """Where to send the browser, and the flow cookie's value to set on it."""

    authorize_url: str
    flow: str


async def begin(key: str, *, next_path: str = "/", invitation: str = "") -> Started:
    """Start signing in with issuer `key`: the issuer's authorization URL and this browser's flow."""
    issuer = _issuer(key)
    endpoints = await endpoints_of(issuer)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), generate_token(64)
    url = prepare_grant_uri(
        endpoints.authorization_endpoint, issuer.client_id, "code", redirect_uri=callback_url(issuer),
        scope=list(issuer.scopes), state=state, nonce=nonce,
        code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256",
    )
    flow = _flows().dumps({"k": key, "s": state, "n": nonce, "v": verifier, "next": next_path,
                           "inv": invitation[:INVITATION_KEPT]})
    return Started(url, flow)


def _read_flow(issuer: SignInIssuer, flow: str | None) -> dict[str, Any]:
    refused = SignInRefused(
        "no_flow", f"This browser has no sign-in with {issuer.name} in progress, or it took longer than "
        f"{FLOW_SECONDS // 60} minutes.",
        fix=f"Start again with the \"Sign in with {issuer.name}\" button, in the browser you will use LedgerBridge in.")
    if not flow:
        raise refused
    try:
        data = _flows().loads(flow, max_age=FLOW_SECONDS)
    except BadData:
        raise refused from None
    if not isinstance(data, dict) or not all(isinstance(data.get(name), str) for name in ("k", "s", "n", "v")):
        raise refused
    return data


@dataclass(frozen=True)
class SignedIn:
    """The session opened, where to go, and what to tell the person there."""

    session_token: str
    user_id: int
    next_path: str
    notice: str
    problem: LedgerBridgeError | None = None  # an invitation that could not be used; the sign-in stands


async def _exchange(issuer: SignInIssuer, endpoints: IssuerEndpoints, code: str, verifier: str) -> dict[str, Any]:
    """Trade the code for tokens at the issuer's token endpoint (RFC 6749 4.1.3, RFC 7636 4.5)."""
    body = prepare_token_request("authorization_code", code=code, redirect_uri=callback_url(issuer),
                                 code_verifier=verifier)
    headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
    url, headers, body = ClientAuth(issuer.client_id, issuer.client_secret, endpoints.token_auth_method).prepare(
        "POST", endpoints.token_endpoint, headers, body)
    try:
        async with httpx.AsyncClient(timeout=TOKEN_TIMEOUT) as http:
            response = await http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise unreachable(issuer, f"token endpoint: {type(exc).__name__}") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code >= 500 or not isinstance(answer, dict):
        raise unreachable(issuer, f"token endpoint answered HTTP {response.status_code}")
    if response.status_code != 200:
        error = str(answer.get("error") or response.status_code)[:80]
        raise SignInRefused(
            "token_refused", f"{issuer.name} refused to complete the sign-in ({error}).",
            fix=f"Start again with the \"Sign in with {issuer.name}\" button; a sign-in link works only once. "
                f"If it keeps failing, check the client id and secret configured for {issuer.name}.")
    return answer


def _verified(value: Any) -> bool:
    """`email_verified` is a boolean, though some issuers send the string "true"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


async def _userinfo(issuer: SignInIssuer, endpoints: IssuerEndpoints, access_token: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=TOKEN_TIMEOUT) as http:
            response = await http.get(endpoints.userinfo_endpoint, headers={
                "Authorization": f"Bearer {access_token}", "Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise unreachable(issuer, f"userinfo: {type(exc).__name__}") from exc
    try:
        info = response.json()
    except ValueError:
        info = None
    if response.status_code != 200 or not isinstance(info, dict):
        raise unreachable(issuer, f"userinfo answered HTTP {response.status_code}")
    return info


def _name(claims: Mapping[str, Any]) -> str:
    if isinstance(claims.get("name"), str):
        return str(claims["name"])
    parts = [claims.get(k) for k in ("given_name", "givenName", "family_name", "familyName")]
    return " ".join(str(p) for p in parts if isinstance(p, str) and p)


async def _who(issuer: SignInIssuer, endpoints: IssuerEndpoints, claims: dict[str, Any],
               access_token: str | None) -> IssuerAccount:
    """Who signed in: the ID token's claims, completed from userinfo when they lack the email or its
    verification (Intuit's ID tokens do; its userinfo names the flag `emailVerified`)."""
    merged = dict(claims)
    has_flag = "email_verified" in claims or "emailVerified" in claims
    if (not claims.get("email") or not has_flag) and endpoints.userinfo_endpoint and access_token:
        info = await _userinfo(issuer, endpoints, access_token)
        if info.get("sub") != claims["sub"]:  # OpenID Connect Core 5.3.2: else the answer is not about them
            raise SignInRefused(
                "userinfo_mismatch", f"{issuer.name}'s userinfo describes someone else than the ID token.",
                fix=f"Start again with the \"Sign in with {issuer.name}\" button.")
        merged.update({k: v for k, v in info.items() if k != "sub"})
    verified = merged.get("email_verified", merged.get("emailVerified"))
    email = merged.get("email")
    return IssuerAccount(issuer=str(claims["iss"]), subject=str(claims["sub"]),
                         email=email.strip()[:254] if isinstance(email, str) else "",
                         email_verified=_verified(verified), name=_name(merged)[:200])


def _issuer_said_no(issuer: SignInIssuer, query: Mapping[str, str]) -> SignInRefused:
    error = query.get("error", "")[:80]
    if error == "access_denied":
        return SignInRefused("declined", f"You declined on {issuer.name}'s page, so you are not signed in.",
                             fix=f"Start again and approve on {issuer.name}'s page, or sign in with your password.")
    return SignInRefused("issuer_error", f"{issuer.name} did not sign you in ({error}).",
                         fix=f"Start again with the \"Sign in with {issuer.name}\" button.")


async def finish(key: str, *, query: Mapping[str, str], flow: str | None, client: str, user_agent: str = "",
                 old_session: str | None = None) -> SignedIn:
    """Complete the sign-in the callback answers; `SignInRefused` (or `LoginThrottled`) says why not."""
    issuer = _issuer(key)
    data = _read_flow(issuer, flow)
    if query.get("error"):
        raise _issuer_said_no(issuer, query)
    if data["k"] != key or not secrets.compare_digest(str(query.get("state", "")).encode(), data["s"].encode()):
        raise SignInRefused(
            "state_mismatch", f"This answer from {issuer.name} does not belong to the sign-in this browser "
            "started (its state differs).",
            fix=f"Start again with the \"Sign in with {issuer.name}\" button. If someone sent you this link, do not "
                "use it: it could sign you in as them.")
    code = str(query.get("code", ""))
    if not code:
        raise SignInRefused("no_code", f"{issuer.name}'s answer carries no authorization code.",
                            fix=f"Start again with the \"Sign in with {issuer.name}\" button.")
    # No password to guess here, so the attempt's own key stands in for the account: only the limits per
    # address and for the whole server apply, and nobody can pause someone else's sign-in.
    reservation = await reserve(f"oidc:{key}:{data['n']}", client)
    if isinstance(reservation, Refusal):
        raise LoginThrottled(reservation.wait, reservation.scope)
    endpoints = await endpoints_of(issuer)
    tokens = await _exchange(issuer, endpoints, code, data["v"])
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise SignInRefused("no_id_token", f"{issuer.name} answered without an ID token.",
                            fix="Check that the app at the issuer may use the openid scope.")
    access_token = tokens.get("access_token") if isinstance(tokens.get("access_token"), str) else None
    claims = await verified_claims(issuer, endpoints, id_token, nonce=data["n"], access_token=access_token)
    who = await _who(issuer, endpoints, claims, access_token)
    linked = await account_for(issuer, who, invitation=str(data.get("inv") or ""), ip=client, user_agent=user_agent)
    await succeeded(reservation)
    async with write_transaction():
        await User.update({User.last_login_at: clock.now()}).where(User.id == linked.user_id)
    token = await open_signed_in_session(
        linked.user_id, signed_in_with=issuer.name, client=client, user_agent=user_agent, old_session=old_session,
        workspace_id=linked.workspace_id, details={"issuer": who.issuer, "linked": linked.linked_now})
    log.info("signed in with %s (user %s)", issuer.name, linked.user_id)
    notice = (f"You joined {linked.joined.workspace_name} as {linked.joined.role}." if linked.joined
              else f"Signed in with {issuer.name}.")
    return SignedIn(token, linked.user_id, str(data.get("next") or "/"), notice, linked.invitation_problem)
