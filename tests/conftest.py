"""Fixtures of this repository's tests; the generic ones come from the kit's pytest plugin.

`ledgerbridge_testing.pytest_plugin` (installed with `ledgerbridge-testing`) sets up the test
environment before anything imports ledgerbridge and serves `database`, `any_database`,
`postgres_dsn`, `redis_url`, `world` and `connected_provider`. What is specific to this repository
stays here:

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
from ledgerbridge_testing.databases import create_postgres_database as _create_postgres_database  # noqa: F401
from ledgerbridge_testing.databases import open_database  # noqa: F401

os.environ["ACME_REMOTE_DB"] = str(Path(tempfile.mkdtemp(prefix="lb-acme-")) / "acme.sqlite3")
ACME_PATH = Path(__file__).parent / "acme_provider"
sys.path.insert(0, str(ACME_PATH))  # the .dist-info there declares the `acme` entry point

SPECS_ENV = "LEDGERBRIDGE_PROVIDER_SPECS"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts processes")


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
    from ledgerbridge.identity.api_keys import create_api_key
    from ledgerbridge.identity.memberships import create_admin

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
