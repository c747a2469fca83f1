"""LedgerBridge: keeps a business's own software and its accounting tool in step."""

import os

# Piccolo finds its engine through this module path; set before any table is used.
os.environ.setdefault("PICCOLO_CONF", "ledgerbridge.piccolo_conf")

__version__ = "0.1.0"
