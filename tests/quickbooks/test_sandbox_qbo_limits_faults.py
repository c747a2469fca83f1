"""Throttling (429 / 3001), the concurrency limit, fault injection and the /_sandbox control API.

No test measures elapsed time: the per-minute window is driven by a fake real clock behind a compressed
time scale, in-flight requests are held by a ``hold`` fault until released, and timeouts are only used
to make the *client* give up.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx
import pytest
from ledgerbridge_quickbooks.sandbox import SandboxConfig
from ledgerbridge_testing.sandbox.clock import SandboxClock
from qbo_harness import REALM, REALM_2, START, QboHarness, loads

THROTTLE_ERROR = {
    "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
    "Detail": "The request limit was reached.  Try again later",
    "code": "3001",
    "element": "",
}


class FakeRealTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    fault = loads(response.text)["Fault"]
    assert fault == {"Error": [THROTTLE_ERROR], "type": "SERVICE"}


def test_429_after_per_minute_limit_with_compressed_time(qbo_factory) -> None:  # type: ignore[no-untyped-def]
    real = FakeRealTime()
    clock = SandboxClock(scale=60, start=START, real_monotonic=real)  # one real second = one minute
    qbo = qbo_factory(SandboxConfig(requests_per_minute=5), clock)
    for _ in range(5):
        assert qbo.get("preferences").status_code == 200
    throttled = qbo.get("preferences")
    assert_throttled(throttled)
    assert "retry-after" not in throttled.headers  # UNCONFIRMED in QBO: clients must not rely on it
    other = qbo.client_for(REALM_2)
    assert other.get(f"/v3/company/{REALM_2}/preferences").status_code == 200  # limits are per realm
    real.now += 1.0  # a simulated minute passes
    assert qbo.get("preferences").status_code == 200


def test_default_limit_is_500_per_minute(qbo: QboHarness) -> None:
    statuses = [qbo.get("preferences").status_code for _ in range(500)]
    assert set(statuses) == {200}
    assert_throttled(qbo.get("preferences"))
    qbo.sandbox.advance(60)
    assert qbo.get("preferences").status_code == 200


def test_retry_after_when_configured(qbo_factory) -> None:  # type: ignore[no-untyped-def]
    qbo = qbo_factory(SandboxConfig(requests_per_minute=1, send_retry_after=True))
    qbo.get("preferences")
    response = qbo.get("preferences")
    assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1


def test_batch_calls_have_their_own_per_minute_limit(qbo_factory) -> None:  # type: ignore[no-untyped-def]
    qbo = qbo_factory(SandboxConfig(batch_requests_per_minute=2))
    batch = {"BatchItemRequest": [{"bId": "q", "Query": "SELECT * FROM Item"}]}
    assert qbo.post("batch", batch).status_code == 200
    assert qbo.post("batch", batch).status_code == 200
    assert_throttled(qbo.post("batch", batch))
    assert qbo.get("preferences").status_code == 200


def test_batch_items_count_towards_the_request_limit(qbo_factory) -> None:  # type: ignore[no-untyped-def]
    qbo = qbo_factory(SandboxConfig(requests_per_minute=10))
    batch = {"BatchItemRequest": [{"bId": str(i), "Query": "SELECT * FROM Item"} for i in range(9)]}
    assert qbo.post("batch", batch).status_code == 200  # 1 call + 9 items
    assert_throttled(qbo.get("preferences"))


async def test_ten_concurrent_requests_per_realm(qbo: QboHarness) -> None:
    rule = qbo.sandbox.add_fault("hold", qbo.path("preferences"), count=10)
    key = (qbo.tokens.grant.client_id, qbo.realm)
    async with httpx.AsyncClient(base_url=qbo.base_url, headers=dict(qbo.http.headers), timeout=30) as client:
        held = [asyncio.create_task(client.get(qbo.path("preferences"))) for _ in range(10)]
        deadline = time.monotonic() + 10
        while qbo.sandbox.limits.concurrent.in_flight(key) < 10:
            assert time.monotonic() < deadline, "requests never reached the sandbox"
            await asyncio.sleep(0.01)
        eleventh = await client.get(qbo.path("companyinfo/" + qbo.realm))
        assert_throttled(eleventh)
        qbo.sandbox.faults.release(rule.id)
        results = await asyncio.gather(*held)
    assert [r.status_code for r in results] == [200] * 10
    assert qbo.get("preferences").status_code == 200


def test_injected_5xx_then_recovery(qbo: QboHarness) -> None:
    qbo.sandbox.add_fault("error", qbo.path("query"), count=2, status=503)
    for _ in range(2):
        response = qbo.get("query", params={"query": "SELECT * FROM Item"})
        assert response.status_code == 503
        assert loads(response.text)["Fault"]["type"] == "SystemFault"
    assert qbo.get("query", params={"query": "SELECT * FROM Item"}).status_code == 200


def test_faults_through_the_control_api(qbo: QboHarness) -> None:
    control = httpx.Client(base_url=qbo.base_url, timeout=10)
    created = control.post(
        "/_sandbox/faults", json={"kind": "error", "status": 502, "count": 1, "path_prefix": "/oauth2/v1/tokens/bearer"}
    )
    assert created.status_code == 201
    token = control.post("/oauth2/v1/tokens/bearer", data={"grant_type": "refresh_token"})
    assert token.status_code == 502
    listed = control.get("/_sandbox/faults").json()
    assert listed[0]["triggered"] == 1 and listed[0]["remaining"] == 0
    assert control.post("/_sandbox/faults", json={"kind": "error", "status": 200}).status_code == 400
    assert control.delete("/_sandbox/faults").status_code == 204
    assert control.get("/_sandbox/faults").json() == []
    control.close()


def test_slow_response_makes_the_client_time_out(qbo: QboHarness) -> None:
    qbo.sandbox.add_fault("slow", qbo.path("preferences"), delay=1.5)
    with pytest.raises(httpx.ReadTimeout):
        qbo.http.get(qbo.path("preferences"), timeout=0.3)
    assert qbo.get("preferences").status_code == 200  # only the armed request was slow


def test_timeout_after_apply_then_requestid_retry_returns_the_original(qbo: QboHarness) -> None:
    before = qbo.query("SELECT COUNT(*) FROM Invoice")["totalCount"]
    qbo.sandbox.add_fault("timeout_after_apply", qbo.path("invoice"), delay=30, method="POST")
    body = qbo.invoice_body("77.00")
    with pytest.raises(httpx.TimeoutException):
        qbo.post("invoice", body, params={"requestid": "applied-1"}, timeout=1.0)
    deadline = time.monotonic() + 10  # the write was applied even though no response ever came
    while qbo.query("SELECT COUNT(*) FROM Invoice")["totalCount"] != before + 1:
        assert time.monotonic() < deadline, "the write was not applied"
        time.sleep(0.02)
    retry = qbo.post("invoice", body, params={"requestid": "applied-1"})
    assert loads(retry.text)["Invoice"]["TotalAmt"] == Decimal("77.00")
    assert qbo.query("SELECT COUNT(*) FROM Invoice")["totalCount"] == before + 1  # no duplicate


def test_dropped_connection_after_apply_without_requestid_duplicates_on_retry(qbo: QboHarness) -> None:
    before = qbo.query("SELECT COUNT(*) FROM Customer")["totalCount"]
    qbo.sandbox.add_fault("timeout_after_apply", qbo.path("customer"), delay=0, method="POST")
    with pytest.raises(httpx.TransportError):
        qbo.post("customer", {"DisplayName": "Applied Anyway"})
    assert qbo.query("SELECT COUNT(*) FROM Customer")["totalCount"] == before + 1
    retry = qbo.post("customer", {"DisplayName": "Applied Anyway"})
    assert qbo.fault(retry)["code"] == "6240"  # the naive retry collides with the applied write


def test_revoke_all_tokens_via_control_api(qbo: QboHarness) -> None:
    with httpx.Client(base_url=qbo.base_url, timeout=10) as control:
        assert control.post("/_sandbox/tokens/revoke-all").json() == {"revoked": 1}
    assert qbo.get("preferences").status_code == 401
    client = qbo.sandbox.oauth.client(qbo.tokens.grant.client_id)
    assert client is not None
    with pytest.raises(Exception, match="revoked"):
        qbo.sandbox.oauth.refresh(client, qbo.tokens.refresh_token)


def test_control_clock_expires_access_tokens(qbo: QboHarness) -> None:
    with httpx.Client(base_url=qbo.base_url, timeout=10) as control:
        state = control.post("/_sandbox/clock", json={"advance": 3600}).json()
        assert state["now"].startswith("2026-03-02T19:00")
    assert qbo.get("preferences").status_code == 401


def test_control_reset_restores_seed_data(qbo: QboHarness) -> None:
    qbo.create("customer", {"DisplayName": "Temporary"})
    with httpx.Client(base_url=qbo.base_url, timeout=10) as control:
        assert control.post("/_sandbox/reset").json() == {"reset": True}
        assert control.get("/_sandbox/").json()["companies"][0]["realmId"] == REALM
    assert qbo.query("SELECT * FROM Customer WHERE DisplayName = 'Temporary'") == {}


def test_optional_sandbox_per_second_limit(qbo_factory) -> None:  # type: ignore[no-untyped-def]
    qbo = qbo_factory(SandboxConfig(requests_per_second=2))
    assert [qbo.get("preferences").status_code for _ in range(2)] == [200, 200]
    assert_throttled(qbo.get("preferences"))
    qbo.sandbox.advance(1)
    assert qbo.get("preferences").status_code == 200


def test_expire_access_tokens_keeps_refresh_working(qbo: QboHarness) -> None:
    with httpx.Client(base_url=qbo.base_url, timeout=10) as control:
        assert control.post("/_sandbox/tokens/expire-access").json() == {"expired": 1}
    expired = qbo.get("preferences")
    assert expired.status_code == 401 and "Token expired" in loads(expired.text)["fault"]["error"][0]["detail"]
    qbo.advance(0)  # refreshes the access token
    assert qbo.get("preferences").status_code == 200


def test_revoke_tokens_fault_disconnects_after_the_matching_request(qbo: QboHarness) -> None:
    qbo.sandbox.add_fault("revoke_tokens", qbo.path("query"))
    assert qbo.get("query", params={"query": "SELECT * FROM Item"}).status_code == 200
    assert qbo.get("preferences").status_code == 401
