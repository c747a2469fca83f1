"""Plugins arrive through the entry point, are listed with capabilities, and provider hooks are
called on their own plugin only. Every hook is documented and exercised by some test."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ledgerbridge import hookspecs
from ledgerbridge.errors import NotSupported
from ledgerbridge.plugins import get_registry, hookimpl

ROOT = Path(__file__).resolve().parents[2]
HOOKS = [name for name, value in vars(hookspecs).items()
         if callable(value) and getattr(value, "ledgerbridge_spec", None) is not None]


def test_every_hook_is_documented_in_its_spec_and_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert len(HOOKS) >= 25
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 40, f"hook {name} has no real docstring"
        assert f"`{name}`" in readme, f"README does not document hook {name}"


def test_every_hook_is_exercised_by_a_test():
    """A hook no test names is untested: grep the test suite (this file excluded)."""
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py") if p.name != "test_plugins.py")
    missing = [name for name in HOOKS if not re.search(rf"\b{name}\b", sources)]
    assert not missing, f"hooks no test exercises: {missing}"


def test_bundled_providers_and_the_test_plugin_are_registered(acme):
    registry = get_registry()
    assert {"quickbooks", "xero", "freshbooks", "acme"} <= set(registry.providers)
    assert registry.provider("quickbooks").capabilities.invoice_number_max_length == 21
    assert registry.provider("xero").capabilities.requests_per_day == 5000
    assert registry.provider("freshbooks").capabilities.native_idempotency is False
    record = {r.name: r for r in registry.records()}["acme"]
    assert record.distribution == "ledgerbridge-acme" and record.version == "0.1.0"


def test_cli_lists_plugins_with_capabilities(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests" / "acme_provider"), LEDGERBRIDGE_DATA_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "ledgerbridge", "plugins"], capture_output=True, text=True,
                         env=env, check=True, cwd=tmp_path).stdout
    for line in ("provider 'quickbooks': QuickBooks Online", "provider 'xero': Xero",
                 "provider 'freshbooks': FreshBooks", "provider 'acme': Acme Books", "batch_size=30"):
        assert line in out
    assert "ledgerbridge-acme 0.1.0" in out


async def test_provider_hooks_reach_only_their_own_plugin(acme):
    class Other:
        calls: list[str] = []

        @hookimpl
        def provider_info(self):
            from ledgerbridge.provider import Capabilities, ProviderInfo

            return ProviderInfo(key="other", name="Other", capabilities=Capabilities())

        @hookimpl
        def record_url(self, provider_data, environment, record_type, remote_id):
            self.calls.append("record_url")
            return "https://other.invalid/"

    from ledgerbridge.plugins import Registry, make_manager

    registry = Registry(make_manager([("other", Other())]))
    url = await registry.call("acme", "record_url", provider_data={}, environment="sandbox", record_type="invoice",
                              remote_id="7")
    assert url == "https://acme.invalid/invoice/7"
    assert Other.calls == []
    assert await registry.call("other", "record_url", provider_data={}, environment="sandbox",
                               record_type="invoice", remote_id="7") == "https://other.invalid/"
    with pytest.raises(NotSupported):
        await registry.call("other", "import_customers", session=None, cursor=None)
    with pytest.raises(NotSupported):
        await registry.call("nope", "import_customers", session=None, cursor=None)


async def test_a_failing_event_hook_does_not_stop_the_others(acme):
    class Broken:
        @hookimpl
        def sync_run_finished(self, workspace_id, run_id, kind, state, counts):
            raise RuntimeError("boom")

    from ledgerbridge.plugins import Registry, make_manager

    registry = Registry(make_manager([("broken", Broken())]))
    await registry.notify("sync_run_finished", workspace_id=1, run_id=9, kind="poll_status", state="done", counts={})
    assert ("sync_run_finished", {"run_id": 9, "kind": "poll_status", "state": "done"}) in acme.EVENTS
