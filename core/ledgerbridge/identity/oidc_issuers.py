"""Where a sign-in issuer's endpoints and signing keys are: its discovery document and JWKS, cached.

Issuers publish both as JSON (OpenID Connect Discovery 1.0). They change rarely, so each is kept for
an hour; a token signed with a key id we have not seen makes the keys be fetched again at once (the
issuer rotated them). Requests go over our own httpx client, as the OAuth token requests in
`ledgerbridge.oauth` do, so the only transport errors to handle are httpx's. An issuer that cannot be
reached, or answers nonsense, refuses the sign-in with a message naming it: never a server error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ledgerbridge.identity.errors import SignInRefused
from ledgerbridge.settings import SignInIssuer, get_settings

CACHE_SECONDS = 3600.0
FETCH_TIMEOUT = httpx.Timeout(15.0, connect=10.0)
DEFAULT_ALGORITHMS = ("RS256",)


@dataclass(frozen=True)
class IssuerEndpoints:
    """What the discovery document says, reduced to what signing in uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str  # "" when the issuer has none
    jwks_uri: str
    algorithms: tuple[str, ...]
    token_auth_method: str  # client_secret_basic or client_secret_post


_endpoints: dict[str, tuple[float, IssuerEndpoints]] = {}
_keys: dict[str, tuple[float, KeySet]] = {}


def issuer_named(key: str) -> SignInIssuer | None:
    """The configured issuer whose key is in the sign-in path, or None (not configured)."""
    return next((issuer for issuer in get_settings().sign_in_issuers() if issuer.key == key), None)


def unreachable(issuer: SignInIssuer, what: str) -> SignInRefused:
    return SignInRefused(
        "issuer_unavailable", f"{issuer.name} could not be reached to sign you in ({what}).",
        fix=f"Try again in a moment, or sign in with your password. If it persists, check {issuer.name}'s status "
            "and this server's network access to it.",
        status=502,
    )


async def _get_json(issuer: SignInIssuer, url: str, what: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise unreachable(issuer, f"{what}: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise unreachable(issuer, f"{what} answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise unreachable(issuer, f"{what} is not a JSON object")
    return body


def _read_endpoints(issuer: SignInIssuer, document: dict[str, Any]) -> IssuerEndpoints:
    def text(name: str, required: bool = True) -> str:
        value = document.get(name)
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            return value
        if required:
            raise unreachable(issuer, f"its discovery document has no usable {name}")
        return ""

    announced = text("issuer")
    if issuer.issuer and announced.rstrip("/") != issuer.issuer.rstrip("/"):
        raise SignInRefused(
            "issuer_mismatch", f"The discovery document at {issuer.discovery_url} names the issuer {announced}, "
            f"not {issuer.issuer}.", fix="Set LEDGERBRIDGE_OIDC_ISSUER to the issuer URL exactly as the provider "
            "publishes it.", status=502)
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    algorithms = document.get("id_token_signing_alg_values_supported") or list(DEFAULT_ALGORITHMS)
    return IssuerEndpoints(
        issuer=announced,
        authorization_endpoint=text("authorization_endpoint"),
        token_endpoint=text("token_endpoint"),
        userinfo_endpoint=text("userinfo_endpoint", required=False),
        jwks_uri=text("jwks_uri"),
        # "none" would accept unsigned tokens: never, whatever the document offers.
        algorithms=tuple(str(alg) for alg in algorithms if str(alg).lower() != "none") or DEFAULT_ALGORITHMS,
        token_auth_method="client_secret_basic" if "client_secret_basic" in methods else "client_secret_post",
    )


async def endpoints_of(issuer: SignInIssuer) -> IssuerEndpoints:
    """The issuer's endpoints, from its discovery document (cached for an hour)."""
    cached = _endpoints.get(issuer.discovery_url)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    found = _read_endpoints(issuer, await _get_json(issuer, issuer.discovery_url, "discovery document"))
    _endpoints[issuer.discovery_url] = (time.monotonic(), found)
    return found


async def signing_keys(issuer: SignInIssuer, endpoints: IssuerEndpoints, *, fresh: bool = False) -> KeySet:
    """The issuer's published public keys (cached for an hour; `fresh` fetches them again)."""
    cached = _keys.get(endpoints.jwks_uri)
    if not fresh and cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    document = await _get_json(issuer, endpoints.jwks_uri, "signing keys")
    try:
        keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise unreachable(issuer, "its signing keys are not a JWK set") from exc
    _keys[endpoints.jwks_uri] = (time.monotonic(), keys)
    return keys
