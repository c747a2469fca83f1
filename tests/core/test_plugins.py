"""Plugins arrive through the entry point, are listed with capabilities, and provider hooks are
called on their own plugin only. Every hook is documented and exercised by some test."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pluggy
import pytest
from ledgerbridge import hookspecs
from ledgerbridge.errors import NotSupported
from ledgerbridge.plugins import PluginMisdeclared, Registry, get_registry, hookimpl, make_manager
from ledgerbridge.provider import Capabilities, ProviderInfo

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
    env = dict(os.environ, LEDGERBRIDGE_DATA_DIR=str(tmp_path))  # acme is installed: found by its entry point
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


# --------------------------------------------------------------------------- checked boundaries


class Misspelt:
    """A provider whose import hook lost its final "s": pluggy would never call it."""

    @hookimpl
    def import_customer(self, session, cursor):
        return None


def _provider(key: str, capabilities: Capabilities, **hooks: object) -> object:
    """A small in-memory provider plugin: `provider_info` plus the given hook implementations."""

    def provider_info() -> ProviderInfo:
        return ProviderInfo(key=key, name=key.title(), capabilities=capabilities)

    namespace = {"provider_info": hookimpl(provider_info)}
    namespace.update({name: hookimpl(function) for name, function in hooks.items()})
    return type(f"{key.title()}Plugin", (), {name: staticmethod(f) for name, f in namespace.items()})()


def test_a_misspelt_hook_fails_at_start_up_naming_plugin_hook_and_the_closest_name():
    with pytest.raises(PluginMisdeclared) as raised:
        make_manager([("misspelt", Misspelt())])
    error = raised.value
    assert "'misspelt'" in error.message and "'import_customer'" in error.message
    assert "'import_customers'" in error.fix
    assert isinstance(error.__cause__, pluggy.PluginValidationError)


def test_a_hook_with_arguments_its_spec_lacks_is_refused_with_the_plugin_named():
    class WrongArguments:
        @hookimpl
        def record_url(self, provider_data, environment, record_type, remote_id, colour):
            return None

    with pytest.raises(PluginMisdeclared) as raised:
        make_manager([("wrong-arguments", WrongArguments())])
    assert "'wrong-arguments'" in raised.value.message


def test_an_optional_hook_of_another_plugin_family_is_allowed():
    class Optional:
        @hookimpl(optionalhook=True)
        def something_else(self):
            return None

    assert make_manager([("optional", Optional())]).has_plugin("optional")


def _export_invoice(session, invoice, link, idempotency_key):
    return None


def _find_invoice(session, number):
    return None


def _verify_webhook(settings, headers, body):
    return True


def _parse_webhook(settings, headers, body):
    return []


def _export_time_entry(session, entry, link, idempotency_key):
    return None


def _export_invoices_batch(session, invoices):
    return []


@pytest.mark.parametrize(("capabilities", "hooks", "declared", "missing"), [
    (Capabilities(native_idempotency=True, batch_size=30), {}, "batch_size > 1", "export_invoices_batch"),
    (Capabilities(native_idempotency=True, webhooks=True), {"verify_webhook": _verify_webhook}, "webhooks",
     "parse_webhook"),
    (Capabilities(native_idempotency=True, webhooks=True), {"parse_webhook": _parse_webhook}, "webhooks",
     "verify_webhook"),
    (Capabilities(native_idempotency=True, time_activities=True), {}, "time_activities", "export_time_entry"),
    (Capabilities(native_idempotency=False), {"export_invoice": _export_invoice}, "native idempotency",
     "find_invoice"),
])
def test_a_provider_whose_capabilities_contradict_its_hooks_is_refused(capabilities, hooks, declared, missing):
    plugin = _provider("contrary", capabilities, **hooks)
    with pytest.raises(PluginMisdeclared) as raised:
        Registry(make_manager([("contrary-books", plugin)]))
    error = raised.value
    assert "'contrary-books'" in error.message and "'contrary'" in error.message
    assert declared in error.message and missing in error.message and missing in error.fix


def test_a_provider_whose_capabilities_match_its_hooks_is_accepted():
    plugin = _provider(
        "consistent", Capabilities(native_idempotency=False, batch_size=10, webhooks=True, time_activities=True),
        export_invoice=_export_invoice, find_invoice=_find_invoice, export_invoices_batch=_export_invoices_batch,
        verify_webhook=_verify_webhook, parse_webhook=_parse_webhook, export_time_entry=_export_time_entry,
    )
    registry = Registry(make_manager([("consistent-books", plugin)]))
    assert registry.provider("consistent").capabilities.batch_size == 10


def test_the_bundled_providers_pass_the_boundary_checks(acme):
    registry = Registry(make_manager())
    assert {"quickbooks", "xero", "freshbooks", "acme"} <= set(registry.providers)
