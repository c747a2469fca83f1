"""The admin UI, registered as a LedgerBridge plugin (pages arrive through `route_handlers`)."""

from ledgerbridge.plugins import hookimpl


@hookimpl
def route_handlers() -> list[object]:
    return []
