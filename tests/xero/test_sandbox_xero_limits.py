"""Rate limits and their headers, fault injection, and the sandbox clock's time scale."""

from __future__ import annotations

import threading

import httpx
import pytest
from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_xero.sandbox import SandboxConfig
from xero_harness import API, NZ, START, UK, XeroHarness, loads


def test_minute_limit_and_headers(xero_factory) -> None:  # type: ignore[no-untyped-def]
    xero = xero_factory(config=SandboxConfig(requests_per_minute=3))
    seen = [xero.get("Organisation").headers["X-MinLimit-Remaining"] for _ in range(3)]
    assert seen == ["2", "1", "0"]
    limited = xero.get("Organisation")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert int(limited.headers["Retry-After"]) == 60
    assert limited.headers["X-DayLimit-Remaining"] == "4996"  # the rejected call still counted against the day
    xero.sandbox.advance(60)
    assert xero.get("Organisation").status_code == 200


def test_day_limit(xero_factory) -> None:  # type: ignore[no-untyped-def]
    xero = xero_factory(config=SandboxConfig(requests_per_day=2))
    ok = [xero.get("Organisation") for _ in range(2)]
    assert [r.headers["X-DayLimit-Remaining"] for r in ok] == ["1", "0"]
    limited = xero.get("Organisation")
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "day"
    assert int(limited.headers["Retry-After"]) == 86400
    xero.sandbox.advance(86400)
    fresh = xero.client(xero.sandbox.connect((NZ,))["access_token"], NZ)  # the old access token expired too
    assert fresh.get(f"{API}/Organisation").status_code == 200


def test_app_minute_limit_spans_organisations(xero_factory) -> None:  # type: ignore[no-untyped-def]
    xero = xero_factory(config=SandboxConfig(app_requests_per_minute=2))
    other = xero.sandbox.connect((UK,))
    uk = xero.client(other["access_token"], UK)
    assert xero.get("Organisation").headers["X-AppMinLimit-Remaining"] == "1"
    assert uk.get(f"{API}/Organisation").headers["X-AppMinLimit-Remaining"] == "0"
    limited = xero.get("Organisation")
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "appminute"


def test_concurrency_limit(xero_factory) -> None:  # type: ignore[no-untyped-def]
    xero = xero_factory(config=SandboxConfig(concurrent_requests=2))
    rule = xero.sandbox.add_fault("hold", f"{API}/Organisation", count=2)
    results: list[int] = []

    def slow_call() -> None:
        with httpx.Client(base_url=xero.base_url, headers=dict(xero.http.headers), timeout=10) as client:
            results.append(client.get(f"{API}/Organisation").status_code)

    threads = [threading.Thread(target=slow_call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for _ in range(500):
        if xero.sandbox.limits.concurrent.in_flight((xero.sandbox.config.clients[0].client_id, NZ)) == 2:
            break
        threading.Event().wait(0.01)
    third = xero.get("Contacts")
    assert third.status_code == 429 and third.headers["X-Rate-Limit-Problem"] == "concurrent"
    xero.sandbox.faults.release(rule.id)
    for thread in threads:
        thread.join()
    assert results == [200, 200]
    assert xero.get("Contacts").status_code == 200


def test_error_fault(xero: XeroHarness) -> None:
    xero.sandbox.add_fault("error", f"{API}/Invoices", status=503)
    response = xero.get("Invoices")
    assert response.status_code == 503 and loads(response.text)["Status"] == 503
    assert xero.get("Invoices").status_code == 200


def test_timeout_after_apply_then_idempotent_retry(xero: XeroHarness) -> None:
    xero.sandbox.add_fault("timeout_after_apply", f"{API}/Invoices", method="PUT", delay=0.2)
    body = {"Invoices": [xero.invoice_body()]}
    headers = {"Idempotency-Key": "retry-me"}
    with pytest.raises(httpx.HTTPError):
        xero.send("PUT", "Invoices", body, headers=headers)
    assert xero.ok(xero.get("Invoices"))["pagination"]["itemCount"] == 1  # applied despite the lost answer
    retry = xero.ok(xero.send("PUT", "Invoices", body, headers=headers))
    assert retry["Invoices"][0]["InvoiceNumber"] == "INV-0001"
    assert xero.ok(xero.get("Invoices"))["pagination"]["itemCount"] == 1


def test_control_api_moves_the_clock_and_revokes(xero: XeroHarness) -> None:
    moved = httpx.post(f"{xero.base_url}/_sandbox/clock", json={"advance": 1800})
    assert moved.status_code == 200
    assert xero.get("Organisation").status_code == 401
    fresh = xero.sandbox.connect((NZ,))
    client = xero.client(fresh["access_token"], NZ)
    assert client.get(f"{API}/Organisation").status_code == 200
    assert httpx.post(f"{xero.base_url}/_sandbox/tokens/revoke-all").status_code == 200
    assert client.get(f"{API}/Organisation").status_code == 401
    assert httpx.post(f"{xero.base_url}/_sandbox/reset").status_code == 200


def test_time_scale_compresses_token_lifetime(xero_factory) -> None:  # type: ignore[no-untyped-def]
    xero = xero_factory(clock=SandboxClock(scale=36000, start=START))  # one real second is ten hours
    threading.Event().wait(0.2)  # at least 2,000 simulated seconds: longer than the 1,800 s token
    assert xero.get("Organisation").status_code == 401
