"""LedgerBridge's admin UI: server-rendered Jinja2 pages with htmx, registered as a plugin.

The UI is a plugin like any other (entry point `web` in the `ledgerbridge` group): it adds its
pages through the `route_handlers` hook, ships its templates in `templates/` (the core's template
loader picks up a plugin package's `templates/` folder) and its assets in `static/`. Every page
works without JavaScript; htmx only refreshes parts of pages.
"""

__version__ = "0.1.0"
