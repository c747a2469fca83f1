"""Fixtures of this repository's tests; the generic ones come from the kit's pytest plugin.

`ledgerbridge_testing.pytest_plugin` (installed with `ledgerbridge-testing`) sets up the test
environment before anything imports ledgerbridge and serves `database`, `any_database`,
`postgres_dsn`, `redis_url`, `world` and `connected_provider`. What is specific to this repository
stays here:

* `acme` serves the Acme Books sandbox (tests/acme_provider, a provider generated from the template
  and installed through its entry point) with empty test books, LedgerBridge pointed at it.
* `workspace`, `connection` build the usual records.
* `app`, `client`, `tenant` (and `make_tenant`, `make_connection`) serve the API, auth and UI tests.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ledgerbridge_testing.databases import create_postgres_database as _create_postgres_database  # noqa: F401
from ledgerbridge_testing.databases import open_database  # noqa: F401

SPECS_ENV = "LEDGERBRIDGE_PROVIDER_SPECS"


# The bench smoke run that stays in `make test`; the other providers' run with `--long`.
BENCH_SMOKE_PROVIDER = "quickbooks"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", default=False,
                     help="also run the long runs: the fault soak's short variant and the sync bench's smoke run "
                          "for every provider (`make test-long`)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts processes")
    config.addinivalue_line("markers", "long: minutes of its own; runs only with --long (`make test-long`)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep `make test` inside its time budget: long runs are opt-in, one provider's bench run stays."""
    if config.getoption("long"):
        return
    skip = pytest.mark.skip(reason="a long run: `make test-long` (pytest --long) includes it")
    for item in items:
        group = item.get_closest_marker("conformance")
        provider = getattr(item, "callspec", None) and item.callspec.params.get("provider")
        if item.get_closest_marker("long") or (
                group is not None and group.args[0] == "bench" and provider != BENCH_SMOKE_PROVIDER):
            item.add_marker(skip)


@pytest.fixture
def acme(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Acme Books' sandbox on a free port with empty books for "acme-1" and "acme-2", settings (and
    worker processes started from this one) pointed at it; `ledgerbridge_acme.testing.AcmeTestBooks`."""
    from ledgerbridge_acme import testing as acme_testing

    with acme_testing.running(monkeypatch.setenv) as books:
        yield books


@pytest.fixture
async def workspace(database):
    from ledgerbridge.tables import Workspace

    ws = Workspace(name="Client Co", slug="client-co")
    await ws.save()
    return ws


async def make_connection(
    workspace_id: int, provider: str = "acme", tenant: str | None = None, **values: Any
) -> Any:
    """A connected connection row with tokens stored.

    Acme connections default to the test books' company ("acme-1", "Acme Test Co") and, while the
    `acme` fixture serves the sandbox, carry tokens it accepts; otherwise (API-only tests, other
    providers) the tokens are placeholders nobody reads. Other providers get "<provider>-tenant" and
    "<Provider> Books".
    """
    from ledgerbridge import books, oauth
    from ledgerbridge.tables import Connection, utcnow
    from ledgerbridge_acme import testing as acme_testing

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
    sandbox = acme_testing.current() if acme_default else None
    tokens = sandbox.tokens(connection.tenant_id) if sandbox else acme_testing.placeholder_tokens()
    oauth._store_tokens(connection, tokens)
    await connection.save()
    if "is_books" not in values:  # as a real connect does: the workspace's first connection keeps its books
        await books.claim_if_free(connection)
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
    from ledgerbridge.identity.permissions import LEGACY_KEY_SCOPES

    user, workspace = await create_admin(email, OWNER_PASSWORD, workspace_name)
    # The host app's key has what keys made before scopes kept (migration 0009).
    key = await create_api_key(workspace.id, "host app", user.id, scopes=list(LEGACY_KEY_SCOPES))
    return Tenant(
        workspace_id=workspace.id,
        owner_id=user.id,
        owner_email=user.email,
        password=OWNER_PASSWORD,
        api_key=key.key,
        api_key_prefix=key.record.prefix,
    )


_apps: dict[tuple[int, str], Any] = {}


@pytest.fixture
async def app(database: str) -> Any:
    """The server without its worker and scheduler, for this test's database.

    Building the app registers some 400 routes (most of a second), and it keeps no state of its own
    besides the settings: requests read the database the test opened. So tests whose settings
    differ only in that database share one app, given this test's settings."""
    import dataclasses

    from ledgerbridge.app import create_app
    from ledgerbridge.plugins import get_registry
    from ledgerbridge.settings import get_settings

    settings = get_settings()
    key = (id(get_registry()), repr(dataclasses.replace(settings, database_url="")))
    built = _apps.get(key)
    if built is None:
        built = _apps[key] = create_app(settings, background=False)
    built.state.settings = settings
    return built


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
