"""OAuth and identity: consent flow, 12-hour tokens, single-use refresh, revoke, business choice."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fb_harness import ACCOUNT, ACCOUNT_2, SAM, FbHarness

CLIENT = {"client_id": "ledgerbridge-demo-client", "client_secret": "ledgerbridge-demo-secret"}
REDIRECT = "http://localhost:5173/oauth/freshbooks/callback"


def _jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a compact JWS (signature not checked: FreshBooks publishes no JWKS)."""
    header, payload, signature = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["alg"] == "RS256" and signature
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def token(fb: FbHarness, **fields: str) -> httpx.Response:
    return fb.http.post("/auth/oauth/token", data={**CLIENT, **fields})


def test_consent_flow_issues_user_tokens_with_body_credentials(fb: FbHarness) -> None:
    page = fb.http.get("/oauth/authorize", params={"client_id": CLIENT["client_id"], "response_type": "code",
                                                   "redirect_uri": REDIRECT, "state": "xyz"})
    assert page.status_code == 200 and "Sam" in page.text
    decision = fb.http.post("/oauth/authorize", data={"client_id": CLIENT["client_id"], "redirect_uri": REDIRECT,
                                                      "state": "xyz", "identity_id": str(SAM), "decision": "approve"})
    assert decision.status_code == 302
    query = parse_qs(urlsplit(decision.headers["location"]).query)
    assert query["state"] == ["xyz"]
    basic = httpx.post(fb.base_url + "/auth/oauth/token", auth=tuple(CLIENT.values()),
                       data={"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT})
    assert basic.status_code == 401 and basic.json()["error"] == "invalid_client"
    issued = token(fb, grant_type="authorization_code", code=query["code"][0], redirect_uri=REDIRECT)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 12 * 3600
    assert body["scope"].startswith("user:profile:read")
    # the SDK fixture's key set: FreshBooks answers an OpenID Connect ID token beside the access token
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "scope", "created_at", "id_token"}
    claims = _jwt_claims(body["id_token"])
    assert claims["aud"] == CLIENT["client_id"] and claims["sub"].endswith(f"{SAM:012d}")
    assert claims["exp"] - claims["iat"] == body["expires_in"] and claims["email"]
    reused = token(fb, grant_type="authorization_code", code=query["code"][0], redirect_uri=REDIRECT)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    with httpx.Client(base_url=fb.base_url, headers={"Authorization": f"Bearer {body['access_token']}"}) as sam:
        me = sam.get("/auth/api/v1/users/me").json()["response"]
        assert [m["business"]["account_id"] for m in me["business_memberships"]] == [ACCOUNT_2]
        assert sam.get(f"/accounting/account/{ACCOUNT}/users/clients").status_code == 403
        assert sam.get(f"/accounting/account/{ACCOUNT_2}/users/clients").status_code == 200


def test_user_with_several_businesses_picks_one_from_users_me(fb: FbHarness) -> None:
    me = fb.ok(fb.http.get("/auth/api/v1/users/me"))["response"]
    businesses = [m["business"] for m in me["business_memberships"]]
    assert [b["account_id"] for b in businesses] == [ACCOUNT, ACCOUNT_2]
    for business in businesses:
        assert isinstance(business["id"], int) and business["business_uuid"]
        clients = fb.http.get(f"/accounting/account/{business['account_id']}/users/clients")
        assert clients.status_code == 200
        ledger = fb.http.get(f"/accounting/businesses/{business['business_uuid']}/ledger_accounts/accounts")
        assert ledger.status_code == 200
    first = fb.listing("users/clients")["clients"][0]["organization"]
    second = fb.ok(fb.http.get(f"/accounting/account/{ACCOUNT_2}/users/clients"))["response"]["result"]
    assert first not in {c["organization"] for c in second["clients"]}


def test_refresh_tokens_are_single_use_without_grace(fb: FbHarness) -> None:
    old = fb.tokens.refresh_token
    first = token(fb, grant_type="refresh_token", refresh_token=old)
    assert first.status_code == 200
    again = token(fb, grant_type="refresh_token", refresh_token=old)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    newer = token(fb, grant_type="refresh_token", refresh_token=first.json()["refresh_token"])
    assert newer.status_code == 200


def test_access_tokens_live_twelve_hours(fb: FbHarness) -> None:
    fb.sandbox.advance(12 * 3600 - 1)
    assert fb.http.get("/auth/api/v1/users/me").status_code == 200
    fb.sandbox.advance(1)
    expired = fb.http.get("/auth/api/v1/users/me")
    assert expired.status_code == 401 and expired.json()["error"] == "unauthenticated"
    assert token(fb, grant_type="refresh_token", refresh_token=fb.tokens.refresh_token).status_code == 200


def test_revoke_ends_the_connection(fb: FbHarness) -> None:
    revoked = fb.http.post("/auth/oauth/revoke", data={**CLIENT, "token": fb.tokens.refresh_token})
    assert revoked.status_code == 200
    assert fb.get("users/clients").status_code == 401
    refreshed = token(fb, grant_type="refresh_token", refresh_token=fb.tokens.refresh_token)
    assert refreshed.json()["error"] == "invalid_grant"


def test_new_authorization_ends_the_older_one(fb: FbHarness) -> None:
    fb.sandbox.connect()
    assert fb.get("users/clients").status_code == 401
    assert token(fb, grant_type="refresh_token", refresh_token=fb.tokens.refresh_token).status_code == 400


def test_expiry_is_configurable(fb_factory) -> None:  # type: ignore[no-untyped-def]
    from ledgerbridge_freshbooks.sandbox import SandboxConfig

    fb = fb_factory(config=SandboxConfig(access_token_ttl=60))
    assert fb.tokens.expires_in == 60
    fb.sandbox.advance(60)
    assert fb.get("users/clients").status_code == 401
