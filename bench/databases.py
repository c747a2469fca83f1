"""The database a benchmark runs on: a fresh SQLite file, a throwaway PostgreSQL, or one you name.

    --database sqlite                      a new file in a temporary folder (the default)
    --database postgres                    a throwaway PostgreSQL cluster started for the run (Debian's
                                           postgresql package, as the tests use), stopped afterwards
    --database postgresql://user@host:port a server you run: a new database is created on it
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path


@contextmanager
def bench_database(choice: str) -> Iterator[str]:
    """Yield the `LEDGERBRIDGE_DATABASE_URL` of a fresh, empty database."""
    from ledgerbridge_testing.databases import create_postgres_database
    from ledgerbridge_testing.servers import postgres_server

    with ExitStack() as stack:
        if choice == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="lb-bench-"))
            yield f"sqlite:///{folder / 'bench.sqlite3'}"
            return
        server = stack.enter_context(postgres_server()) if choice == "postgres" else choice.rstrip("/")
        if choice != "postgres":  # a URL with a database name is used as it is
            tail = server.split("://", 1)[1]
            if "/" in tail:
                yield server
                return
        yield asyncio.run(create_postgres_database(server))
