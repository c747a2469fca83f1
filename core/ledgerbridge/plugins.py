"""The plugin manager: finding plugins, calling a provider's hooks, and awaiting them.

Bundled providers, the admin UI and third-party plugins all arrive the same way, through the
`ledgerbridge` entry-point group. Pluggy is synchronous and our I/O is async, so hook
implementations may be `async def`: this module is the one place that awaits what they return.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import pluggy

from ledgerbridge import hookspecs
from ledgerbridge.errors import LedgerBridgeError, NotSupported
from ledgerbridge.provider import Capabilities, ProviderInfo

ENTRY_POINT_GROUP = "ledgerbridge"
BUILTINS = ["ledgerbridge.webhooks"]
hookimpl = pluggy.HookimplMarker("ledgerbridge")
log = logging.getLogger(__name__)


class PluginMisdeclared(LedgerBridgeError):
    """A plugin that cannot work as written: refused at start-up rather than failing on the first
    sync that needs the part it got wrong."""

    code = "internal_error"


# Hooks the core calls because a capability says so: declaring the capability without the hook
# would fail only later, in a user's sync. Each: (what the message calls it, Capabilities field, hooks needed).
CAPABILITY_HOOKS: list[tuple[str, str, tuple[str, ...]]] = [
    ("batch_size > 1", "batch_size", ("export_invoices_batch",)),
    ("webhooks", "webhooks", ("verify_webhook", "parse_webhook")),
    ("time_activities", "time_activities", ("export_time_entry",)),
]


def hook_names() -> list[str]:
    """Every hook the core specifies."""
    return sorted(name for name, value in vars(hookspecs).items()
                  if callable(value) and getattr(value, "ledgerbridge_spec", None) is not None)


def _declared(capabilities: Capabilities, field: str) -> bool:
    value = getattr(capabilities, field)
    return value > 1 if field == "batch_size" else bool(value)


@dataclass(frozen=True)
class PluginRecord:
    """One installed plugin as `ledgerbridge plugins` lists it."""

    name: str
    distribution: str
    version: str
    provider: ProviderInfo | None


async def resolve(value: Any) -> Any:
    """Await a hook's result when the implementation was a coroutine function."""
    if inspect.isawaitable(value):
        return await value
    return value


class Registry:
    """The loaded plugins and, among them, the providers keyed by `ProviderInfo.key`."""

    def __init__(self, manager: pluggy.PluginManager):
        self.manager = manager
        self.providers: dict[str, ProviderInfo] = {}
        self._provider_plugins: dict[str, object] = {}
        self._callers: dict[tuple[str, str], Any] = {}
        for impl in manager.hook.provider_info.get_hookimpls():
            info = cast(ProviderInfo, impl.function())
            if info.key in self.providers:
                raise RuntimeError(
                    f"two plugins declare the provider key {info.key!r}: "
                    f"{manager.get_name(self._provider_plugins[info.key])} and {impl.plugin_name}"
                )
            self.providers[info.key] = info
            self._provider_plugins[info.key] = impl.plugin
            self._check_capabilities(info, impl.plugin_name)

    def _check_capabilities(self, info: ProviderInfo, plugin_name: str) -> None:
        """Refuse a provider whose declared capabilities promise hooks it does not implement."""
        caps = info.capabilities
        for label, field, hooks in CAPABILITY_HOOKS:
            missing = [hook for hook in hooks if not self.implements(info.key, hook)]
            if _declared(caps, field) and missing:
                raise PluginMisdeclared(
                    f"The plugin {plugin_name!r} (provider {info.key!r}) declares {label} but does not "
                    f"implement {', '.join(missing)}.",
                    fix=f"Implement {' and '.join(missing)} in the plugin, or drop {label} from its Capabilities.",
                )
        if (not caps.native_idempotency and self.implements(info.key, "export_invoice")
                and not self.implements(info.key, "find_invoice")):
            raise PluginMisdeclared(
                f"The plugin {plugin_name!r} (provider {info.key!r}) exports invoices without native "
                "idempotency keys and does not implement find_invoice, so an interrupted export could "
                "create an invoice twice.",
                fix="Implement find_invoice (look an invoice up by number), or declare native_idempotency=True "
                "if the provider replays a repeated idempotency key.",
            )

    def provider(self, key: str) -> ProviderInfo:
        try:
            return self.providers[key]
        except KeyError:
            raise NotSupported(
                f"No provider plugin named {key!r} is installed.",
                fix="Install the plugin's package and restart LedgerBridge; `ledgerbridge plugins` lists them.",
            ) from None

    def name_of(self, key: str) -> str:
        """The provider's name for people; its key when its plugin is no longer installed, so a
        record made through it still says where it went."""
        info = self.providers.get(key)
        return info.name if info is not None else key

    def implements(self, key: str, hook: str) -> bool:
        plugin = self._provider_plugins.get(key)
        return any(impl.plugin is plugin for impl in getattr(self.manager.hook, hook).get_hookimpls())

    def _caller(self, key: str, hook: str) -> Any:
        cached = self._callers.get((key, hook))
        if cached is None:
            keep = self._provider_plugins[key]
            others = [plugin for plugin in self.manager.get_plugins() if plugin is not keep]
            cached = self.manager.subset_hook_caller(hook, remove_plugins=others)
            self._callers[(key, hook)] = cached
        return cached

    async def call(self, key: str, hook: str, **kwargs: Any) -> Any:
        """Call `hook` on provider `key`'s plugin only and await the answer."""
        info = self.provider(key)
        if not self.implements(key, hook):
            raise NotSupported(f"{info.name} does not support {hook.replace('_', ' ')}.")
        return await resolve(self._caller(key, hook)(**kwargs))

    def call_sync(self, key: str, hook: str, **kwargs: Any) -> Any:
        """`call` for hooks that must answer synchronously (`demo_sandbox`, before any loop runs)."""
        info = self.provider(key)
        if not self.implements(key, hook):
            raise NotSupported(f"{info.name} does not support {hook.replace('_', ' ')}.")
        return self._caller(key, hook)(**kwargs)

    async def notify(self, hook: str, **kwargs: Any) -> None:
        """Tell every plugin about an event; one plugin's failure does not stop the others."""
        for impl in reversed(getattr(self.manager.hook, hook).get_hookimpls()):
            try:
                await resolve(impl.function(**{name: kwargs[name] for name in impl.argnames}))
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook)

    def collect(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call a synchronous application hook on every plugin and flatten the lists."""
        results: list[Any] = []
        for value in getattr(self.manager.hook, hook)(**kwargs):
            results.extend(value or [])
        return results

    def records(self) -> list[PluginRecord]:
        dists = {self.manager.get_name(plugin): dist for plugin, dist in self.manager.list_plugin_distinfo()}
        by_plugin = {id(plugin): key for key, plugin in self._provider_plugins.items()}
        out = []
        for name, plugin in self.manager.list_name_plugin():
            if plugin is hookspecs or name is None or name in BUILTINS:
                continue
            dist = dists.get(name)
            key = by_plugin.get(id(plugin))
            out.append(
                PluginRecord(
                    name=name,
                    distribution=dist.project_name if dist else "",
                    version=dist.version if dist else "",
                    provider=self.providers.get(key) if key else None,
                )
            )
        return sorted(out, key=lambda record: record.name)


def make_manager(extra_plugins: list[tuple[str, object]] | None = None) -> pluggy.PluginManager:
    """Load every plugin and check each implements only hooks the core specifies, with their
    arguments; a misspelt hook would otherwise be silently never called."""
    manager = pluggy.PluginManager("ledgerbridge")
    manager.add_hookspecs(hookspecs)
    try:
        for name in BUILTINS:  # the core's own features, registered like any plugin
            manager.register(importlib.import_module(name), name=name)
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        for name, plugin in extra_plugins or []:
            manager.register(plugin, name=name)
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise misdeclared_hook(manager, exc) from exc
    return manager


def misdeclared_hook(manager: pluggy.PluginManager, error: pluggy.PluginValidationError) -> PluginMisdeclared:
    """Our error for pluggy's: the plugin and hook by name, and the hook it probably meant."""
    plugin_name = manager.get_name(error.plugin) or getattr(error.plugin, "__name__", repr(error.plugin))
    unknown = [name for name, caller in vars(manager.hook).items()
               if not name.startswith("_") and not caller.has_spec()
               and any(impl.plugin is error.plugin and not impl.optionalhook for impl in caller.get_hookimpls())]
    if not unknown:  # registered against a real hook, with arguments the hook does not have
        return PluginMisdeclared(
            f"The plugin {plugin_name!r} does not match LedgerBridge's hooks: {error}",
            fix="Give the hook implementation only arguments its specification in ledgerbridge.hookspecs has.",
        )
    hook = unknown[0]
    closest = difflib.get_close_matches(hook, hook_names(), n=1)
    suggestion = f"Did you mean {closest[0]!r}? " if closest else ""
    return PluginMisdeclared(
        f"The plugin {plugin_name!r} implements {hook!r}, which is not a LedgerBridge hook.",
        fix=f"{suggestion}Rename it to one of the hooks in ledgerbridge.hookspecs (`ledgerbridge plugins` "
        "lists installed plugins).",
    )


@cache
def get_registry() -> Registry:
    return Registry(make_manager())


def reset_registry() -> None:
    """Forget loaded plugins so the next `get_registry()` scans entry points again (tests)."""
    get_registry.cache_clear()
