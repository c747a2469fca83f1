"""The environment a test process runs LedgerBridge in, set before LedgerBridge is first imported.

Settings are read from the environment, and a test run must never write into the working tree's
data directory nor need a developer's secrets. The pytest plugin calls :func:`prepare` at import,
which happens before any conftest or test module imports ``ledgerbridge``; values already set win,
so a CI job or a developer can still point a run elsewhere.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# One fixed key for the test process and the worker processes it starts, so both read the same tokens.
TEST_ENCRYPTION_KEY = "pB9mJ1cK0mYx7Jw1u6B3tq3n0u2y8b5hJbqkq9aH8Ys="
TEST_SECRET_KEY = "test-secret-key"


def prepare() -> Path:
    """Point data, the default database and the keys at a fresh temporary directory; return it."""
    session_dir = Path(tempfile.mkdtemp(prefix="lb-tests-"))
    os.environ.setdefault("LEDGERBRIDGE_DATA_DIR", str(session_dir / "data"))
    os.environ.setdefault("LEDGERBRIDGE_DATABASE_URL", f"sqlite:///{session_dir / 'import.sqlite3'}")
    os.environ.setdefault("LEDGERBRIDGE_SECRET_KEY", TEST_SECRET_KEY)
    os.environ.setdefault("LEDGERBRIDGE_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEY)
    # Tests create and sign in hundreds of accounts; production's argon2 cost would take minutes.
    os.environ.setdefault("LEDGERBRIDGE_PASSWORD_HASHING", "fast")
    return session_dir
