"""The sync engine's job handlers; importing this package registers them with `ledgerbridge.jobs`."""

from ledgerbridge.sync import exporting, importing, polling, tokens

__all__ = ["exporting", "importing", "polling", "tokens"]
