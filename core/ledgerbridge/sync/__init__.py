"""The sync engine's job handlers; importing this package registers them with `ledgerbridge.jobs`."""

from ledgerbridge.sync import exporting, followers, importing, polling, tokens

__all__ = ["exporting", "followers", "importing", "polling", "tokens"]
