"""Server-level behaviour: transaction ids, the index page, and running as ``python -m``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx
from ledgerbridge_quickbooks.sandbox.__main__ import build_config, parse_args
from qbo_harness import QboHarness

TID = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")


def test_intuit_tid_on_success_error_and_oauth_responses(qbo: QboHarness) -> None:
    responses = [
        qbo.get("preferences"),
        qbo.get("query", params={"query": "SELECT * FROM Nope"}),
        qbo.http.get(qbo.path("preferences"), headers={"Authorization": "Bearer invalid"}),
        qbo.http.post("/oauth2/v1/tokens/bearer", data={"grant_type": "refresh_token"}),
    ]
    tids = [r.headers.get("intuit_tid", "") for r in responses]
    assert all(TID.fullmatch(t) for t in tids), tids
    assert len(set(tids)) == len(tids)


def test_index_page_links_companies(qbo: QboHarness) -> None:
    page = qbo.http.get("/")
    assert page.status_code == 200 and f"/accountant/{qbo.realm}" in page.text


def test_command_line_options_build_the_config() -> None:
    args = parse_args(
        [
            "--port",
            "9999",
            "--client-id",
            "cid",
            "--client-secret",
            "sec",
            "--redirect-uri",
            "https://x.example/cb",
            "--webhook-url",
            "http://127.0.0.1:1/h",
            "--webhook-verifier-token",
            "tok",
            "--webhook-format",
            "cloudevents",
            "--time-scale",
            "60",
        ]
    )
    config = build_config(args)
    assert args.port == 9999
    assert config.clients[0].client_id == "cid" and config.clients[0].redirect_uris == ("https://x.example/cb",)
    assert config.webhook_format == "cloudevents" and config.time_scale == 60
    assert config.webhook_auto_deliver_interval == 5


def test_python_dash_m_serves_the_sandbox() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "ledgerbridge_quickbooks.sandbox", "--port", str(port), "--webhook-interval", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/.well-known/openid_sandbox_configuration", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "the sandbox process exited"
                assert time.monotonic() < deadline, "the sandbox did not start listening"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["token_endpoint"] == f"http://127.0.0.1:{port}/oauth2/v1/tokens/bearer"
    finally:
        process.terminate()
        process.wait(timeout=10)
