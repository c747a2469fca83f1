"""Throttling, fault injection, the clock and the /_sandbox control API."""

from __future__ import annotations

import httpx
import pytest
from fb_harness import FbHarness
from ledgerbridge_freshbooks.sandbox import SandboxConfig


def test_throttling_answers_429_until_the_window_slides(fb_factory) -> None:  # type: ignore[no-untyped-def]
    fb = fb_factory(config=SandboxConfig(requests_per_minute=3))
    assert [fb.get("users/clients").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert "retry-after" not in fb.get("users/clients").headers
    fb.sandbox.advance(60)
    assert fb.get("users/clients").status_code == 200


def test_retry_after_is_optional(fb_factory) -> None:  # type: ignore[no-untyped-def]
    fb = fb_factory(config=SandboxConfig(requests_per_minute=1, send_retry_after=True))
    fb.get("users/clients")
    throttled = fb.get("users/clients")
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "60"


def test_error_fault_has_freshbooks_shape_and_executes_nothing(fb: FbHarness) -> None:
    fb.http.post("/_sandbox/faults", json={"kind": "error", "status": 503, "path_prefix": "/accounting/",
                                           "method": "POST"})
    failed = fb.send("POST", "users/clients", {"client": {"organization": "Ghost"}})
    assert failed.status_code == 503 and failed.json()["response"]["errors"][0]["errno"] == 503
    assert fb.listing("users/clients", **{"search[organization]": "Ghost"})["clients"] == []


def test_timeout_after_apply_applies_the_write(fb: FbHarness) -> None:
    fb.sandbox.add_fault("timeout_after_apply", "/accounting/", method="POST", delay=0.5)
    with pytest.raises(httpx.HTTPError):
        fb.send("POST", "users/clients", {"client": {"organization": "Applied"}}, timeout=0.3)
    assert len(fb.listing("users/clients", **{"search[organization]": "Applied"})["clients"]) == 1


def test_revoke_fault_and_control_revoke(fb: FbHarness) -> None:
    assert fb.http.post("/_sandbox/tokens/revoke-all").json()["revoked"] == 1
    assert fb.get("users/clients").status_code == 401


def test_clock_control_moves_time_and_changes_scale(fb: FbHarness) -> None:
    before = fb.http.get("/_sandbox/clock").json()
    assert before["scale"] == 0
    fb.http.post("/_sandbox/clock", json={"advance": 3600})
    client = fb.create("users/clients", "client", {"organization": "Later"})
    assert client["updated"] == "2026-03-02 11:00:00"  # 15:00 UTC + 1 h, written in US/Eastern
    changed = fb.http.post("/_sandbox/clock", json={"scale": 60}).json()
    assert changed["scale"] == 60
    assert fb.sandbox.clock.real_seconds(60) == 1


def test_reset_restores_the_seed(fb: FbHarness) -> None:
    fb.create("users/clients", "client", {"organization": "Temporary"})
    assert fb.http.post("/_sandbox/reset").status_code == 200
    assert fb.listing("users/clients", **{"search[organization]": "Temporary"})["clients"] == []
    assert fb.http.get("/_sandbox/").json()["provider"] == "freshbooks"
