"""The Acme Books sandbox answers as `ledgerbridge_acme.client` expects: consent, tokens, paging, changes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from litestar.testing import TestClient

from ledgerbridge_acme import webhooks
from ledgerbridge_acme.sandbox import Sandbox, SandboxConfig, create_app

REDIRECT = "http://127.0.0.1:8000/oauth/callback"


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(SandboxConfig(webhook_url="http://127.0.0.1:8000/webhooks/acme"))


@pytest.fixture
def http(sandbox: Sandbox):
    with TestClient(create_app(sandbox=sandbox)) as client:
        yield client


def consent(http: TestClient, company: str, decision: str = "approve") -> dict[str, list[str]]:
    config = SandboxConfig()
    query = {"response_type": "code", "client_id": config.client_id, "redirect_uri": REDIRECT,
             "scope": "accounting", "state": "xyz"}
    page = http.get("/oauth/authorize", params=query)
    assert page.status_code == 200 and f"value='{company}'" in page.text
    answer = http.post("/oauth/authorize", data={**query, "company": company, "decision": decision},
                       follow_redirects=False)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.query)


def tokens(http: TestClient, **form: str) -> dict:
    config = SandboxConfig()
    answer = http.post("/oauth/token", data=form, auth=(config.client_id, config.client_secret))
    assert answer.status_code == 200, answer.text
    return answer.json()


def connected(http: TestClient, company: str = "1001") -> dict[str, str]:
    code = consent(http, company)["code"][0]
    token = tokens(http, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_consent_gives_a_single_use_code_for_the_chosen_company(http):
    params = consent(http, "1002")
    assert params["state"] == ["xyz"]
    token = tokens(http, grant_type="authorization_code", code=params["code"][0], redirect_uri=REDIRECT)
    answer = http.get("/api/v1/companies", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert [c["id"] for c in answer.json()["data"]] == ["1002"]
    config = SandboxConfig()
    again = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": params["code"][0],
                                            "redirect_uri": REDIRECT}, auth=(config.client_id, config.client_secret))
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_denied_consent_goes_back_with_access_denied(http):
    assert consent(http, "1001", decision="deny")["error"] == ["access_denied"]


def test_refresh_rotates_and_the_old_refresh_token_dies(http):
    code = consent(http, "1001")["code"][0]
    first = tokens(http, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    second = tokens(http, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    config = SandboxConfig()
    stale = http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
                      auth=(config.client_id, config.client_secret))
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"


def test_a_token_reaches_its_own_company_only(http):
    headers = connected(http, "1001")
    assert http.get("/api/v1/companies/1002/customers", headers=headers).status_code == 403
    assert http.get("/api/v1/companies/1001/customers").status_code == 401


def test_pages_cover_every_customer_once(http):
    headers = connected(http)
    seen, page = [], 1
    while True:
        body = http.get("/api/v1/companies/1001/customers", params={"page": page, "per_page": 3},
                        headers=headers).json()
        seen += [row["id"] for row in body["data"]]
        if page >= body["meta"]["pages"]:
            break
        page += 1
    assert page > 1 and len(seen) == len(set(seen)) == body["meta"]["total"]


def test_a_bookkeepers_change_is_read_as_a_change_and_announced(http, sandbox):
    headers = connected(http)
    first = http.get("/api/v1/companies/1001/customers", headers=headers).json()
    since = first["meta"]["server_time"]
    target = first["data"][0]["id"]
    done = http.post("/accountant/1001/api/deactivate_customer", json={"customer_id": target})
    assert done.status_code == 200, done.text
    changed = http.get("/api/v1/companies/1001/customers", params={"updated_since": since}, headers=headers).json()
    assert [(row["id"], row["active"]) for row in changed["data"]] == [(target, False)]
    delivery = sandbox.webhooks.outbox.pending()[-1]
    assert webhooks.verify(sandbox.config.webhook_secret, delivery.headers, delivery.body)
    assert [(e.record_type, e.remote_id) for e in webhooks.parse(delivery.body)] == [("customer", target)]


def test_only_income_accounts_when_asked(http):
    rows = http.get("/api/v1/companies/1001/accounts", params={"type": "income"}, headers=connected(http)).json()
    assert rows["data"] and {row["type"] for row in rows["data"]} == {"income"}
