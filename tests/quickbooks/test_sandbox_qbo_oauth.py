"""OAuth2 against the sandbox over real HTTP: consent page, token endpoint, rotation, revocation."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from ledgerbridge_quickbooks.sandbox import OAuthClientConfig, SandboxConfig
from ledgerbridge_testing.sandbox.clock import SandboxClock
from qbo_harness import REALM, REALM_2, START, QboHarness, loads

CLIENT_ID = "test-app"
CLIENT_SECRET = "test-secret"
REDIRECT = "https://app.example.com/qbo/callback"
SCOPE = "com.intuit.quickbooks.accounting"


def oauth_config(**overrides: object) -> SandboxConfig:
    return SandboxConfig(clients=(OAuthClientConfig(CLIENT_ID, CLIENT_SECRET, (REDIRECT,)),), **overrides)  # type: ignore[arg-type]


class FormParser(HTMLParser):
    """Collects the consent form's inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.realms: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = dict(attrs)
        if tag == "input" and data.get("type") == "hidden":
            self.fields[data["name"] or ""] = data.get("value") or ""
        if tag == "input" and data.get("type") == "radio":
            self.realms.append(data.get("value") or "")


def basic(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def authorize(
    http: httpx.Client, decision: str = "approve", realm: str = REALM, state: str = "st-123"
) -> httpx.Response:
    page = http.get(
        "/connect/oauth2",
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": REDIRECT,
            "state": state,
        },
    )
    assert page.status_code == 200
    form = FormParser()
    form.feed(page.text)
    assert set(form.realms) == {REALM, REALM_2}  # every demo company is offered
    return http.post("/connect/oauth2", data={**form.fields, "realm_id": realm, "decision": decision})


def exchange(http: httpx.Client, code: str) -> httpx.Response:
    return http.post(
        "/oauth2/v1/tokens/bearer",
        headers=basic(),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    )


def refresh(http: httpx.Client, token: str, **headers: str) -> httpx.Response:
    return http.post(
        "/oauth2/v1/tokens/bearer",
        headers={**basic(), **headers},
        data={"grant_type": "refresh_token", "refresh_token": token},
    )


def connect(http: httpx.Client, realm: str = REALM) -> dict:
    redirect = authorize(http, realm=realm)
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
    response = exchange(http, code)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def sandbox(qbo_factory) -> QboHarness:  # type: ignore[no-untyped-def]
    return qbo_factory(oauth_config())


@pytest.fixture
def http(sandbox: QboHarness):  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=sandbox.base_url, follow_redirects=False, timeout=10) as client:
        yield client


def test_happy_path_code_state_and_realm_then_api_call(sandbox: QboHarness, http: httpx.Client) -> None:
    redirect = authorize(http, realm=REALM_2)
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    params = parse_qs(location.query)
    assert params["state"] == ["st-123"] and params["realmId"] == [REALM_2] and params["code"][0]
    response = exchange(http, params["code"][0])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "refresh_token", "x_refresh_token_expires_in", "access_token"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 100 * 86400
    assert response.headers["cache-control"] == "no-store"
    api = http.get(
        f"/v3/company/{REALM_2}/companyinfo/{REALM_2}",
        headers={"Authorization": f"Bearer {body['access_token']}", "Accept": "application/json"},
    )
    assert api.status_code == 200
    assert loads(api.text)["CompanyInfo"]["CompanyName"] == "Sandbox Company US 2 (custom numbers)"


def test_token_response_has_the_documented_fields(http: httpx.Client, provider_specs) -> None:  # type: ignore[no-untyped-def]
    documented = json.loads(
        (provider_specs / "quickbooks/oauth2-documents/success_token_response.json").read_text(encoding="utf-8-sig")
    )
    body = connect(http)
    assert set(body) == set(documented) - {"id_token"}  # id_token only with the openid scope
    for key, value in documented.items():
        if key in body:
            assert type(body[key]) is type(value), key


def test_denial_redirects_with_access_denied(http: httpx.Client) -> None:
    redirect = authorize(http, decision="deny")
    assert redirect.status_code == 302
    params = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert params == {"error": ["access_denied"], "state": ["st-123"]}


def test_unregistered_redirect_uri_is_not_redirected_to(http: httpx.Client) -> None:
    page = http.get(
        "/connect/oauth2",
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": "https://evil.example/cb",
            "state": "s",
        },
    )
    assert page.status_code == 400 and "location" not in page.headers


def test_bad_scope_redirects_with_invalid_scope(http: httpx.Client) -> None:
    page = http.get(
        "/connect/oauth2",
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "com.intuit.unknown",
            "redirect_uri": REDIRECT,
            "state": "s",
        },
    )
    assert page.status_code == 302
    assert parse_qs(urlsplit(page.headers["location"]).query)["error"] == ["invalid_scope"]


def test_code_reuse_is_invalid_grant(http: httpx.Client) -> None:
    code = parse_qs(urlsplit(authorize(http).headers["location"]).query)["code"][0]
    assert exchange(http, code).status_code == 200
    again = exchange(http, code)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant"}


def test_wrong_client_secret_is_invalid_client_401(http: httpx.Client) -> None:
    code = parse_qs(urlsplit(authorize(http).headers["location"]).query)["code"][0]
    response = http.post(
        "/oauth2/v1/tokens/bearer",
        headers=basic(secret="nope"),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    )
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}


def test_unsupported_grant_type(http: httpx.Client) -> None:
    response = http.post("/oauth2/v1/tokens/bearer", headers=basic(), data={"grant_type": "password"})
    assert response.status_code == 400 and response.json() == {"error": "unsupported_grant_type"}


def test_refresh_rotates_and_superseded_token_fails(http: httpx.Client) -> None:
    first = connect(http)
    second = refresh(http, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    stale = refresh(http, first["refresh_token"])
    assert stale.status_code == 400 and stale.json() == {"error": "invalid_grant"}
    assert refresh(http, rotated["refresh_token"]).status_code == 200


def test_hard_expiry_field_on_request(http: httpx.Client) -> None:
    first = connect(http)
    response = refresh(http, first["refresh_token"], **{"x-include-refresh-token-hard-expires-in": "true"})
    body = response.json()
    assert body["x_refresh_token_hard_expires_in"] == 5 * 365 * 86400
    assert "x_refresh_token_hard_expires_in" not in first


def test_revoke_ends_the_connection(http: httpx.Client) -> None:
    tokens = connect(http)
    revoked = http.post(
        "/v2/oauth2/tokens/revoke",
        headers={**basic(), "Accept": "application/json"},
        json={"token": tokens["refresh_token"]},
    )
    assert revoked.status_code == 200
    api = http.get(
        f"/v3/company/{REALM}/companyinfo/{REALM}", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert api.status_code == 401
    assert refresh(http, tokens["refresh_token"]).json() == {"error": "invalid_grant"}


def test_revoke_needs_client_auth(http: httpx.Client) -> None:
    tokens = connect(http)
    response = http.post("/v2/oauth2/tokens/revoke", json={"token": tokens["refresh_token"]})
    assert response.status_code == 401 and response.json() == {"error": "invalid_client"}


def test_short_lifetimes_expire_access_then_refresh(qbo_factory) -> None:  # type: ignore[no-untyped-def]
    clock = SandboxClock(scale=0, start=START)
    harness = qbo_factory(oauth_config(access_token_ttl=60, refresh_token_ttl=300), clock)
    with httpx.Client(base_url=harness.base_url, timeout=10) as http:
        tokens = connect(http)
        assert tokens["expires_in"] == 60 and tokens["x_refresh_token_expires_in"] == 300
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert http.get(f"/v3/company/{REALM}/preferences", headers=headers).status_code == 200
        clock.advance(61)
        expired = http.get(f"/v3/company/{REALM}/preferences", headers=headers)
        assert expired.status_code == 401
        assert expired.headers["www-authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
        body = expired.json()
        assert body["fault"]["error"][0]["code"] == "3200"
        assert body["fault"]["type"] == "AUTHENTICATION"
        assert set(body) == {
            "warnings",
            "intuitObject",
            "fault",
            "report",
            "queryResponse",
            "batchItemResponse",
            "attachableResponse",
            "syncErrorResponse",
            "requestId",
            "time",
            "status",
            "cdcresponse",
        }
        assert isinstance(body["time"], int)
        renewed = refresh(http, tokens["refresh_token"]).json()
        clock.advance(301)
        assert refresh(http, renewed["refresh_token"]).json() == {"error": "invalid_grant"}


def test_token_for_one_company_cannot_read_another(sandbox: QboHarness, http: httpx.Client) -> None:
    tokens = connect(http, realm=REALM)
    response = http.get(
        f"/v3/company/{REALM_2}/preferences", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 403
    assert loads(response.text)["Fault"]["Error"][0]["code"] == "120"


def test_discovery_points_at_the_sandbox(sandbox: QboHarness, http: httpx.Client) -> None:
    for path in ("/.well-known/openid_sandbox_configuration", "/.well-known/openid_configuration"):
        body = http.get(path).json()
        for key in (
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
            "issuer",
        ):
            assert body[key].startswith(sandbox.base_url), key
        assert body["token_endpoint"].endswith("/oauth2/v1/tokens/bearer")
        assert body["revocation_endpoint"].endswith("/v2/oauth2/tokens/revoke")
        assert body["authorization_endpoint"].endswith("/connect/oauth2")
        assert "client_secret_basic" in body["token_endpoint_auth_methods_supported"]


def test_discovery_has_the_documented_fields(http: httpx.Client, provider_specs) -> None:  # type: ignore[no-untyped-def]
    documented = json.loads(
        (provider_specs / "quickbooks/oauth2-documents/discovery.json").read_text(encoding="utf-8-sig")
    )
    body = http.get("/.well-known/openid_sandbox_configuration").json()
    assert set(body) == set(documented)
    for key in (
        "response_types_supported",
        "scopes_supported",
        "claims_supported",
        "token_endpoint_auth_methods_supported",
        "id_token_signing_alg_values_supported",
    ):
        assert sorted(body[key]) == sorted(documented[key]), key


def openid_connect(http: httpx.Client) -> dict:
    page = http.get(
        "/connect/oauth2",
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": f"{SCOPE} openid email profile phone address",
            "redirect_uri": REDIRECT,
            "state": "s",
        },
    )
    form = FormParser()
    form.feed(page.text)
    redirect = http.post("/connect/oauth2", data={**form.fields, "realm_id": REALM, "decision": "approve"})
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
    return exchange(http, code).json()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_openid_id_token_is_signed_with_the_published_key(sandbox: QboHarness, http: httpx.Client) -> None:
    body = openid_connect(http)
    header_b64, payload_b64, signature_b64 = body["id_token"].split(".")
    claims = json.loads(unb64(payload_b64))
    assert claims["realmid"] == REALM and claims["aud"] == [CLIENT_ID]
    assert claims["iss"] == http.get("/.well-known/openid_configuration").json()["issuer"]
    jwk = http.get("/op/v1/jwks").json()["keys"][0]
    assert json.loads(unb64(header_b64))["kid"] == jwk["kid"]
    public = rsa.RSAPublicNumbers(
        int.from_bytes(unb64(jwk["e"]), "big"), int.from_bytes(unb64(jwk["n"]), "big")
    ).public_key()
    public.verify(unb64(signature_b64), f"{header_b64}.{payload_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
    info = http.get("/v1/openid_connect/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert set(info.json()) == {
        "sub",
        "email",
        "emailVerified",
        "givenName",
        "familyName",
        "phoneNumber",
        "phoneNumberVerified",
        "address",
    }
    assert re.fullmatch(r"[0-9a-f-]{36}", info.json()["sub"])
    plain = connect(http)
    denied = http.get("/v1/openid_connect/userinfo", headers={"Authorization": f"Bearer {plain['access_token']}"})
    assert denied.status_code == 403  # no openid scope


def test_openid_documents_match_the_fixtures(http: httpx.Client, provider_specs) -> None:  # type: ignore[no-untyped-def]
    folder = provider_specs / "quickbooks/oauth2-documents"
    token_doc = json.loads((folder / "success_token_response.json").read_text(encoding="utf-8-sig"))
    userinfo_doc = json.loads((folder / "success_userinfo_response.json").read_text(encoding="utf-8-sig"))
    body = openid_connect(http)
    assert set(body) == set(token_doc)
    info = http.get("/v1/openid_connect/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert set(info.json()) == set(userinfo_doc)
    assert set(info.json()["address"]) == set(userinfo_doc["address"])


def sign_in_with_intuit(http: httpx.Client, verifier: str = "v" * 50, **person: str) -> httpx.Response:
    """"Sign in with Intuit": OpenID scopes only (no company), a nonce and a PKCE challenge."""
    from ledgerbridge_testing.sandbox.oauth import s256_challenge

    page = http.get("/connect/oauth2", params={
        "client_id": CLIENT_ID, "response_type": "code", "scope": "openid email profile", "redirect_uri": REDIRECT,
        "state": "s", "nonce": "n-123", "code_challenge": s256_challenge("v" * 50), "code_challenge_method": "S256"})
    form = FormParser()
    form.feed(page.text)
    assert form.realms == ["true", "false"]  # no company to pick, only whether the email is verified
    redirect = http.post("/connect/oauth2", data={**form.fields, **person, "decision": "approve"})
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert "realmId" not in query
    return http.post("/oauth2/v1/tokens/bearer", headers=basic(), data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT,
        "code_verifier": verifier})


def test_sign_in_with_intuit_names_the_person_chosen_on_the_consent_page(http: httpx.Client) -> None:
    body = sign_in_with_intuit(http, email="ada@example.com", email_verified="false")
    assert body.status_code == 200, body.text
    claims = json.loads(unb64(body.json()["id_token"].split(".")[1]))
    assert claims["email"] == "ada@example.com" and claims["nonce"] == "n-123" and "realmid" not in claims
    info = http.get("/v1/openid_connect/userinfo", headers={"Authorization": f"Bearer {body.json()['access_token']}"})
    assert info.json()["sub"] == claims["sub"] and info.json()["emailVerified"] is False
    again = sign_in_with_intuit(http, email="ada@example.com")
    assert json.loads(unb64(again.json()["id_token"].split(".")[1]))["sub"] == claims["sub"]  # same person
    chosen = sign_in_with_intuit(http, email="ada@new.example", sub=claims["sub"])
    assert json.loads(unb64(chosen.json()["id_token"].split(".")[1]))["sub"] == claims["sub"]


def test_a_code_with_a_pkce_challenge_needs_its_verifier(http: httpx.Client) -> None:
    wrong = sign_in_with_intuit(http, verifier="w" * 50)
    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_grant"}


def test_standard_discovery_paths_name_the_same_issuer(sandbox: QboHarness, http: httpx.Client) -> None:
    issuer = http.get("/.well-known/openid_configuration").json()["issuer"]
    for path in ("/.well-known/openid-configuration", "/op/v1/.well-known/openid-configuration"):
        assert http.get(path).json()["issuer"] == issuer
    assert issuer.endswith("/op/v1")
