"""OAuth2 over real HTTP: consent with several organisations, PKCE, rotation with a 30-minute grace
period, revocation, /connections, and the tenant header on every Accounting call."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from xero_harness import API, NZ, UK, XeroHarness, loads

CLIENT = "ledgerbridge-demo-client"
SECRET = "ledgerbridge-demo-secret"
REDIRECT = "http://localhost:8000/oauth/callback"
SCOPE = "openid profile email offline_access accounting.transactions accounting.contacts accounting.settings"


class ConsentForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.tenants: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = dict(attrs)
        if tag == "input" and data.get("type") == "hidden":
            self.hidden[data["name"] or ""] = data.get("value") or ""
        if tag == "input" and data.get("type") == "checkbox":
            self.tenants.append(data.get("value") or "")


def basic(client: str = CLIENT, secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client}:{secret}".encode()).decode()}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def consent(xero: XeroHarness, tenants: list[str], challenge: str | None, decision: str = "approve") -> httpx.Response:
    params = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, "scope": SCOPE, "state": "s1"}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    page = httpx.get(f"{xero.base_url}/identity/connect/authorize", params=params)
    assert page.status_code == 200, page.text
    form = ConsentForm()
    form.feed(page.text)
    assert set(form.tenants) == {NZ, UK}
    data = [*form.hidden.items(), ("decision", decision), *(("tenant", t) for t in tenants)]
    return httpx.post(
        f"{xero.base_url}/identity/connect/authorize",
        content=urlencode(data),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def code_from(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def exchange(xero: XeroHarness, code: str, verifier: str | None) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier:
        data["code_verifier"] = verifier
    return httpx.post(f"{xero.base_url}/connect/token", data=data, headers=basic())


def refresh(xero: XeroHarness, token: str) -> httpx.Response:
    return httpx.post(
        f"{xero.base_url}/connect/token", data={"grant_type": "refresh_token", "refresh_token": token}, headers=basic()
    )


def jwt_claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_pkce_consent_with_two_organisations(xero: XeroHarness) -> None:
    verifier, challenge = pkce()
    tokens = loads(exchange(xero, code_from(consent(xero, [NZ, UK], challenge)), verifier).text)
    assert tokens["expires_in"] == 1800 and tokens["refresh_token"]
    event = jwt_claims(tokens["access_token"])["authentication_event_id"]
    client = xero.client(tokens["access_token"], None)
    mine = loads(client.get("/connections", params={"authEventId": event}).text)
    assert sorted(c["tenantId"] for c in mine) == sorted([NZ, UK])
    assert all(c["authEventId"] == event for c in mine)
    for tenant in (NZ, UK):
        assert client.get(f"{API}/Organisation", headers={"xero-tenant-id": tenant}).status_code == 200


def test_pkce_verifier_is_checked(xero: XeroHarness) -> None:
    verifier, challenge = pkce()
    code = code_from(consent(xero, [NZ], challenge))
    wrong = exchange(xero, code, pkce()[0])
    assert wrong.status_code == 400 and loads(wrong.text) == {"error": "invalid_grant"}
    missing = exchange(xero, code, None)
    assert loads(missing.text) == {"error": "invalid_grant"}
    assert exchange(xero, code, verifier).status_code == 200
    assert loads(exchange(xero, code, verifier).text) == {"error": "invalid_grant"}  # codes are single-use


def test_deny_redirects_with_access_denied(xero: XeroHarness) -> None:
    response = consent(xero, [NZ], None, decision="deny")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["access_denied"]


def test_unknown_client_and_bad_secret(xero: XeroHarness) -> None:
    page = httpx.get(
        f"{xero.base_url}/identity/connect/authorize",
        params={"client_id": "nope", "redirect_uri": REDIRECT, "response_type": "code", "scope": SCOPE},
    )
    assert page.status_code == 400
    bad = httpx.post(
        f"{xero.base_url}/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers=basic(secret="wrong"),
    )
    assert bad.status_code == 401 and loads(bad.text) == {"error": "invalid_client"}


def test_refresh_rotates_with_thirty_minute_grace(xero: XeroHarness) -> None:
    first = xero.tokens["refresh_token"]
    second = loads(refresh(xero, first).text)["refresh_token"]
    assert second != first
    xero.sandbox.advance(29 * 60)
    again = refresh(xero, first)  # the app lost the answer and retries with the old token
    assert again.status_code == 200
    xero.sandbox.advance(60)
    late = refresh(xero, first)
    assert late.status_code == 400 and loads(late.text) == {"error": "invalid_grant"}
    current = loads(again.text)["refresh_token"]
    assert refresh(xero, current).status_code == 200


def test_access_token_expires_after_thirty_minutes(xero: XeroHarness) -> None:
    assert xero.get("Organisation").status_code == 200
    xero.sandbox.advance(1800)
    expired = xero.get("Organisation")
    assert expired.status_code == 401
    body = loads(expired.text)
    assert body["Title"] == "Unauthorized" and body["Detail"].startswith("TokenExpired")


def test_revocation_removes_every_connection(xero: XeroHarness) -> None:
    response = httpx.post(
        f"{xero.base_url}/connect/revocation", data={"token": xero.tokens["refresh_token"]}, headers=basic()
    )
    assert response.status_code == 200
    assert loads(refresh(xero, xero.tokens["refresh_token"]).text) == {"error": "invalid_grant"}
    assert xero.get("Organisation").status_code == 401
    other = xero.sandbox.connect((UK,))
    assert loads(xero.client(other["access_token"], None).get("/connections").text)[0]["tenantId"] == UK


def test_tenant_header_is_required_and_must_be_connected(xero: XeroHarness) -> None:
    no_header = xero.client(xero.tokens["access_token"], None).get(f"{API}/Contacts")
    assert no_header.status_code == 403 and loads(no_header.text)["Detail"] == "AuthenticationUnsuccessful"
    other = xero.get("Contacts", headers={"xero-tenant-id": UK})
    assert other.status_code == 403
    connection = loads(xero.http.get("/connections").text)[0]
    assert xero.http.delete(f"/connections/{connection['id']}").status_code == 204
    assert xero.get("Contacts").status_code == 403


def test_missing_scope_is_refused(xero: XeroHarness) -> None:
    tokens = xero.sandbox.connect((NZ,), scopes=("offline_access", "accounting.contacts.read"))
    client = xero.client(tokens["access_token"], NZ)
    assert client.get(f"{API}/Contacts").status_code == 200
    assert client.put(f"{API}/Contacts", json={"Name": "X"}).status_code == 401
    assert client.get(f"{API}/Invoices").status_code == 401


@pytest.mark.parametrize("path", ["/connections", f"{API}/Organisation"])
def test_garbage_token_is_unauthorized(xero: XeroHarness, path: str) -> None:
    client = xero.client("not-a-token", NZ)
    assert client.get(path).status_code == 401
