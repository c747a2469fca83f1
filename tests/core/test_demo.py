"""`serve`'s demo: a sandbox for every provider without credentials, and the settings pointing at it."""

from __future__ import annotations

import os

import httpx
import pytest
from ledgerbridge import demo
from ledgerbridge.plugins import get_registry
from ledgerbridge.settings import get_settings


@pytest.fixture
def clean_provider_env(monkeypatch: pytest.MonkeyPatch):
    for key in get_registry().providers:
        for suffix in ("CLIENT_ID", "CLIENT_SECRET", "BASE_URL", "WEBHOOK_SECRET"):
            monkeypatch.delenv(f"LEDGERBRIDGE_{key.upper()}_{suffix}", raising=False)
    monkeypatch.setenv("LEDGERBRIDGE_SANDBOX_PORT", "0")
    monkeypatch.setenv("LEDGERBRIDGE_BROKER_URL", "")
    get_settings.cache_clear()
    saved = dict(os.environ)
    yield monkeypatch
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()


def test_every_provider_without_credentials_gets_a_sandbox_it_is_pointed_at(clean_provider_env):
    clean_provider_env.setenv("LEDGERBRIDGE_XERO_CLIENT_ID", "real-xero-app")  # real credentials: no sandbox
    get_settings.cache_clear()
    running = demo.start_sandboxes(get_settings())
    try:
        keys = {sandbox.provider for sandbox in running}
        assert "xero" not in keys and {"quickbooks", "freshbooks"} <= keys
        for sandbox in running:
            settings = get_settings().provider(sandbox.provider)
            assert settings.base_url == sandbox.url and settings.client_id
            assert httpx.get(f"{sandbox.url}/_sandbox/clock", timeout=10).status_code == 200
    finally:
        demo.stop_sandboxes(running)


def test_no_sandboxes_when_switched_off_or_when_workers_run_elsewhere(clean_provider_env):
    clean_provider_env.setenv("LEDGERBRIDGE_SANDBOXES", "off")
    get_settings.cache_clear()
    assert demo.start_sandboxes(get_settings()) == []
    clean_provider_env.setenv("LEDGERBRIDGE_SANDBOXES", "auto")
    clean_provider_env.setenv("LEDGERBRIDGE_BROKER_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    assert demo.start_sandboxes(get_settings()) == []


def test_the_quickbooks_sandbox_is_also_intuit_for_signing_in_unless_a_real_intuit_app_is_set(clean_provider_env):
    for suffix in ("CLIENT_ID", "CLIENT_SECRET", "DISCOVERY_URL"):
        clean_provider_env.delenv(f"LEDGERBRIDGE_OIDC_INTUIT_{suffix}", raising=False)
    get_settings.cache_clear()
    sandbox = demo.serve_sandbox("quickbooks", bind_host="127.0.0.1", public_host="127.0.0.1", port=0,
                                 base_url=get_settings().base_url)
    try:
        discovery = sandbox.env["LEDGERBRIDGE_OIDC_INTUIT_DISCOVERY_URL"]
        assert discovery.startswith(sandbox.url)
        assert httpx.get(discovery, timeout=10).json()["issuer"] == f"{sandbox.url}/op/v1"
        os.environ.update(sandbox.env)
        [intuit] = get_settings().sign_in_issuers()
        assert (intuit.key, intuit.name, intuit.client_id) == ("intuit", "Intuit", sandbox.env[
            "LEDGERBRIDGE_QUICKBOOKS_CLIENT_ID"])
    finally:
        sandbox.server.stop()
    clean_provider_env.setenv("LEDGERBRIDGE_OIDC_INTUIT_CLIENT_ID", "real-intuit-app")
    sandbox = demo.serve_sandbox("quickbooks", bind_host="127.0.0.1", public_host="127.0.0.1", port=0,
                                 base_url=get_settings().base_url)
    sandbox.server.stop()
    assert not any(name.startswith("LEDGERBRIDGE_OIDC_") for name in sandbox.env)
