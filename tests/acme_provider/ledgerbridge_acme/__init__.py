"""Acme Books provider for LedgerBridge."""

__version__ = "0.1.0"
