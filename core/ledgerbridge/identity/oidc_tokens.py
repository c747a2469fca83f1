"""Checking an ID token before anyone is signed in with it.

The signature is checked against the issuer's published keys (joserfc, which authlib's own OpenID
client uses), then the claims by authlib's `CodeIDToken` rules: the issuer the discovery document
names, our client id as the audience, not expired, and the nonce this browser's sign-in was started
with (so a token captured from another sign-in cannot be replayed into this one). Each failed check
becomes a `SignInRefused` naming it, with what to do.
"""

from __future__ import annotations

from typing import Any

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingKeyError,
    UnsupportedAlgorithmError,
)
from joserfc.jws import JWSRegistry

from ledgerbridge.identity.errors import SignInRefused
from ledgerbridge.identity.oidc_issuers import IssuerEndpoints, signing_keys
from ledgerbridge.settings import SignInIssuer

LEEWAY_SECONDS = 60  # clocks of two servers differ a little


def _start_again(issuer: SignInIssuer) -> str:
    return f"Start again with the \"Sign in with {issuer.name}\" button."


def _claim_refusal(issuer: SignInIssuer, endpoints: IssuerEndpoints, exc: ClaimError,
                   claims: dict[str, Any]) -> SignInRefused:
    name = issuer.name
    if isinstance(exc, ExpiredTokenError):
        return SignInRefused(
            "expired", f"The ID token from {name} has expired.",
            fix=f"{_start_again(issuer)} If it happens every time, check this server's clock.")
    if exc.claim in ("aud", "azp"):
        return SignInRefused(
            "wrong_audience", f"The ID token from {name} was issued to another app, not to this LedgerBridge "
            f"(audience {claims.get('aud')!r}).",
            fix=f"Check that the client id configured for {name} is this app's own.")
    if exc.claim == "iss":
        return SignInRefused(
            "wrong_issuer", f"The ID token was issued by {claims.get('iss')!r}, not by {name} ({endpoints.issuer}).",
            fix=_start_again(issuer))
    if exc.claim == "nonce":
        return SignInRefused(
            "nonce_mismatch", f"The ID token from {name} does not answer the sign-in this browser started "
                              "(its nonce differs).",
            fix=_start_again(issuer))
    if exc.claim in ("iat", "nbf"):
        return SignInRefused(
            "not_yet_valid", f"The ID token from {name} is dated in the future.",
            fix=f"{_start_again(issuer)} If it happens every time, check this server's clock.")
    return SignInRefused(
        "invalid_claim", f"The ID token from {name} is not valid ({exc.description}).", fix=_start_again(issuer))


async def verified_claims(issuer: SignInIssuer, endpoints: IssuerEndpoints, id_token: str, *, nonce: str,
                          access_token: str | None) -> dict[str, Any]:
    """The ID token's claims once its signature and every rule above hold; `SignInRefused` otherwise."""
    registry = JWSRegistry(algorithms=list(endpoints.algorithms), strict_check_header=False)
    keys = await signing_keys(issuer, endpoints)
    try:
        try:
            token = jwt.decode(id_token, keys, registry=registry)
        except (InvalidKeyIdError, MissingKeyError, ValueError):
            # A key id we do not know yet: the issuer may have rotated its keys since we fetched them.
            token = jwt.decode(id_token, await signing_keys(issuer, endpoints, fresh=True), registry=registry)
    except (BadSignatureError, InvalidKeyIdError, MissingKeyError, UnsupportedAlgorithmError):
        # A wrong signature, a key the issuer does not publish, or an algorithm it does not sign with ("none").
        raise SignInRefused(
            "bad_signature", f"The ID token is not signed by {issuer.name}'s published keys.",
            fix=f"{_start_again(issuer)} A token changed on its way here is refused.") from None
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise SignInRefused(
            "malformed_token", f"{issuer.name} sent an ID token that cannot be read ({type(exc).__name__}).",
            fix=_start_again(issuer)) from None
    claims = dict(token.claims)
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": endpoints.issuer},
        "aud": {"essential": True, "value": issuer.client_id},
        "sub": {"essential": True},
    }
    params = {"nonce": nonce, "client_id": issuer.client_id, "access_token": access_token}
    try:
        CodeIDToken(claims, token.header, options, params).validate(leeway=LEEWAY_SECONDS)
    except ClaimError as exc:
        raise _claim_refusal(issuer, endpoints, exc, claims) from None
    except (JoseError, ValueError, TypeError, KeyError) as exc:  # claims of the wrong JSON types
        raise SignInRefused(
            "invalid_claim", f"The ID token from {issuer.name} is not valid ({type(exc).__name__}).",
            fix=_start_again(issuer)) from None
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SignInRefused("invalid_claim", f"The ID token from {issuer.name} names nobody (no sub).",
                            fix=_start_again(issuer))
    return claims
