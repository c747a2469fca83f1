"""Fixtures every LedgerBridge test may use, and that plugin authors can borrow.

* `database` gives each test a fresh, migrated database: SQLite by default; tests that take
  `any_database` run once on SQLite and once on the real PostgreSQL server the suite starts.
* `acme` installs the test provider plugin from tests/acme_provider through its entry point.
* `workspace`, `connection` build the usual records.
* `app`, `client`, `tenant` (and `make_tenant`, `make_connection`) serve the API, auth and UI tests.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Before anything imports ledgerbridge: never write into the working tree's data directory.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="lb-tests-"))
os.environ.setdefault("LEDGERBRIDGE_DATA_DIR", str(_SESSION_DIR / "data"))
os.environ.setdefault("LEDGERBRIDGE_DATABASE_URL", f"sqlite:///{_SESSION_DIR / 'import.sqlite3'}")
os.environ.setdefault("LEDGERBRIDGE_SECRET_KEY", "test-secret-key")
# One key for the test process and the worker processes it starts, so both read the same tokens.
os.environ.setdefault("LEDGERBRIDGE_ENCRYPTION_KEYS", "pB9mJ1cK0mYx7Jw1u6B3tq3n0u2y8b5hJbqkq9aH8Ys=")
os.environ["ACME_REMOTE_DB"] = str(_SESSION_DIR / "acme.sqlite3")
ACME_PATH = Path(__file__).parent / "acme_provider"
sys.path.insert(0, str(ACME_PATH))  # the .dist-info there declares the `acme` entry point

from tests import servers  # noqa: E402

SPECS_ENV = "LEDGERBRIDGE_PROVIDER_SPECS"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts processes")


@pytest.fixture(scope="session")
def postgres_dsn():
    with servers.postgres_server() as dsn:
        yield dsn


@pytest.fixture(scope="session")
def redis_url():
    with servers.redis_server() as url:
        yield url


_counter = iter(range(1_000_000))


async def _create_postgres_database(dsn: str) -> str:
    import asyncpg

    name = f"lb_test_{os.getpid()}_{next(_counter)}"
    connection = await asyncpg.connect(f"{dsn}/postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{dsn}/{name}"


async def open_database(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point settings and every table at `url`, and migrate it."""
    from ledgerbridge import db
    from ledgerbridge.cli import migrate_database
    from ledgerbridge.settings import get_settings

    monkeypatch.setenv("LEDGERBRIDGE_DATABASE_URL", url)
    get_settings.cache_clear()
    db.use_engine(db.make_engine(url))
    await migrate_database()


@pytest.fixture
async def database(tmp_path, monkeypatch):
    """A fresh migrated SQLite database for this test."""
    url = f"sqlite:///{tmp_path / 'ledgerbridge.sqlite3'}"
    await open_database(url, monkeypatch)
    yield url
    from ledgerbridge import db

    await db.close_pool()


@pytest.fixture(params=["sqlite", "postgres"])
async def any_database(request, tmp_path, monkeypatch):
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledgerbridge.sqlite3'}"
    else:
        url = await _create_postgres_database(request.getfixturevalue("postgres_dsn"))
    await open_database(url, monkeypatch)
    yield url
    from ledgerbridge import db

    await db.close_pool()


@pytest.fixture
def acme(monkeypatch, tmp_path):
    """The Acme test provider, loaded through its entry point, with an empty remote."""
    from ledgerbridge.plugins import get_registry, reset_registry

    monkeypatch.setenv("ACME_REMOTE_DB", str(tmp_path / "acme-remote.sqlite3"))
    reset_registry()
    get_registry()
    import ledgerbridge_acme

    ledgerbridge_acme.CALLS.clear()
    ledgerbridge_acme.EVENTS.clear()
    yield ledgerbridge_acme
    reset_registry()


@pytest.fixture
async def workspace(database):
    from ledgerbridge.tables import Workspace

    ws = Workspace(name="Client Co", slug="client-co")
    await ws.save()
    return ws


async def make_connection(
    workspace_id: int, provider: str = "acme", tenant: str | None = None, **values: Any
) -> Any:
    """A connected connection row with Acme tokens stored (an API-only test never reads them).

    Acme connections default to the tenant the Acme plugin reports ("acme-1", "Acme Test Co");
    other providers get "<provider>-tenant" and "<Provider> Books".
    """
    from ledgerbridge import oauth
    from ledgerbridge.tables import Connection, utcnow

    acme_default = provider == "acme"
    connection = Connection(
        workspace=workspace_id,
        provider=provider,
        tenant_id=tenant or ("acme-1" if acme_default else f"{provider}-tenant"),
        tenant_name=values.pop("tenant_name", "Acme Test Co" if acme_default else f"{provider.title()} Books"),
        status=values.pop("status", "connected"),
        created_at=utcnow(),
        updated_at=utcnow(),
        **values,
    )
    import ledgerbridge_acme

    oauth._store_tokens(connection, ledgerbridge_acme._tokens())
    await connection.save()
    return connection


# --------------------------------------------------------------------------- apps and signed-in tenants

OWNER_PASSWORD = "correct horse battery"


@dataclass
class Tenant:
    """A workspace with an owner who can sign in, and an API key for it."""

    workspace_id: int
    owner_id: int
    owner_email: str
    password: str
    api_key: str
    api_key_prefix: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}


async def make_tenant(email: str, workspace_name: str) -> Tenant:
    from ledgerbridge.auth import create_admin, create_api_key

    user, workspace = await create_admin(email, OWNER_PASSWORD, workspace_name)
    key = await create_api_key(workspace.id, "host app", user.id)
    return Tenant(
        workspace_id=workspace.id,
        owner_id=user.id,
        owner_email=user.email,
        password=OWNER_PASSWORD,
        api_key=key.key,
        api_key_prefix=key.record.prefix,
    )


@pytest.fixture
async def app(database: str) -> Any:
    from ledgerbridge.app import create_app
    from ledgerbridge.settings import get_settings

    return create_app(get_settings(), background=False)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Any]:
    """A browser-like client: no credentials until it signs in."""
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
async def tenant(database: str) -> Tenant:
    return await make_tenant("owner@example.com", "Acme Studio")


@pytest.fixture
async def connection(workspace, acme):
    return await make_connection(workspace.id)


@pytest.fixture
def provider_specs() -> Path:
    """../shared/providers: skip when unset, fail when set but missing."""
    value = os.environ.get(SPECS_ENV)
    if not value:
        pytest.skip(f"{SPECS_ENV} is not set; `make test` sets it to ../shared/providers")
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"{SPECS_ENV}={value} does not exist")
    return path
