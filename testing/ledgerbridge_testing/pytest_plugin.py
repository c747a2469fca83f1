"""The pytest plugin of the LedgerBridge kit (entry point ``pytest11: ledgerbridge``).

It sets up a safe environment before anything imports LedgerBridge, serves the fixtures a plugin's
tests need, and runs the conformance suite against the providers named by ``--lb-provider``.

Fixtures: ``postgres_dsn`` and ``redis_url`` (throwaway servers for the session), ``database`` (a fresh
migrated SQLite database), ``any_database`` (the test once on SQLite and once on PostgreSQL),
``world`` (the provider's sandbox over HTTP, for tests parametrized by ``provider``),
``connected_provider`` (a connection made through the sandbox's consent page),
``jobs_run_in_the_test`` (runs are executed by the test, not dispatched).
"""

from __future__ import annotations

from ledgerbridge_testing import environment

# Before anything imports ledgerbridge: never write into the working tree's data directory.
SESSION_DIR = environment.prepare()

from collections.abc import AsyncIterator, Iterator  # noqa: E402

import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from ledgerbridge import jobs  # noqa: E402
from ledgerbridge.tables import Connection  # noqa: E402

from ledgerbridge_testing import conformance, databases, servers  # noqa: E402
from ledgerbridge_testing.conformance import steps  # noqa: E402
from ledgerbridge_testing.world import ProviderWorld, missing_hooks, open_world, providers_with_sandbox  # noqa: E402

MARKER = "conformance"


def _listed(values: list[str] | None) -> list[str]:
    """``--opt=a,b --opt=c`` as ``[a, b, c]``."""
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ledgerbridge", "LedgerBridge plugin kit")
    group.addoption("--lb-provider", action="append", dest="lb_provider", metavar="KEY",
                    help="run the conformance suite against provider KEY's sandbox (repeatable, or comma-separated)")
    groups = ", ".join(conformance.GROUPS)
    group.addoption("--lb-conformance", action="append", dest="lb_conformance", metavar="GROUP",
                    help=f"run only these conformance groups (repeatable, or comma-separated): {groups}")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str], parser: pytest.Parser) -> None:
    """With ``--lb-provider``, collect the installed conformance suite too, so the author types nothing else."""
    if _listed(early_config.known_args_namespace.lb_provider) and str(conformance.HERE) not in args:
        args.append(str(conformance.HERE))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(group): a conformance case of that group, run once per provider")
    config.addinivalue_line("markers", "postgres: runs against the PostgreSQL server the run starts")
    config.addinivalue_line("markers", "redis: needs the Redis server the run starts")
    unknown = sorted(set(_listed(config.getoption("lb_conformance"))) - set(conformance.GROUPS))
    if unknown:
        raise pytest.UsageError(f"--lb-conformance: unknown group(s) {', '.join(unknown)}; "
                                f"choose from {', '.join(conformance.GROUPS)}")


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    """Refuse a provider that cannot run the suite, saying what to fix, before collecting anything.

    Here rather than at session start so that loading the plugins is under the run's warning filters."""
    for key in _listed(session.config.getoption("lb_provider")):
        missing = missing_hooks(key)
        if missing is None:
            raise pytest.UsageError(
                f"--lb-provider={key}: no installed plugin provides {key!r}. Install the plugin in this environment "
                f"(e.g. `uv pip install -e .`) and check its `[project.entry-points.ledgerbridge]` entry.")
        if missing:
            raise pytest.UsageError(f"--lb-provider={key}: the plugin does not implement {', '.join(missing)}; "
                                    f"the conformance suite needs every one of them.")


def conformance_providers(config: pytest.Config) -> list[str]:
    """The providers named by ``--lb-provider``, else every installed one with a sandbox."""
    return _listed(config.getoption("lb_provider")) or providers_with_sandbox()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "provider" in metafunc.fixturenames and metafunc.definition.get_closest_marker(MARKER) is not None:
        metafunc.parametrize("provider", conformance_providers(metafunc.config))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--lb-conformance``: keep only the cases of the chosen groups (other tests are left alone)."""
    wanted = set(_listed(config.getoption("lb_conformance")))
    if not wanted:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker(MARKER)
        (dropped if marker is not None and marker.args[0] not in wanted else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# --------------------------------------------------------------------------- servers and databases


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    with servers.postgres_server() as dsn:
        yield dsn


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with servers.redis_server() as url:
        yield url


@pytest_asyncio.fixture
async def database(tmp_path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """A fresh migrated SQLite database for this test."""
    url = databases.sqlite_url(tmp_path)
    await databases.open_database(url, monkeypatch)
    yield url
    await databases.close_database()


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def any_database(request: pytest.FixtureRequest, tmp_path, monkeypatch: pytest.MonkeyPatch
                       ) -> AsyncIterator[str]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = databases.sqlite_url(tmp_path)
    else:
        url = await databases.create_postgres_database(request.getfixturevalue("postgres_dsn"))
    await databases.open_database(url, monkeypatch)
    yield url
    await databases.close_database()


# --------------------------------------------------------------------------- a provider's world


@pytest.fixture
def jobs_run_in_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs are executed by the tests themselves (`steps.run`), unless a test starts real workers."""
    monkeypatch.setattr(jobs, "_dispatcher", lambda run_id, delay: None)


@pytest.fixture
def world(provider: str, database: str, jobs_run_in_the_test: None,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[ProviderWorld]:
    """The provider's sandbox on a free port, with our settings pointed at it."""
    with open_world(provider, monkeypatch) as opened:
        yield opened


@pytest_asyncio.fixture
async def connected_provider(world: ProviderWorld) -> Connection:
    """A connection to the provider's sandbox, made through its consent page as its owner would."""
    return await steps.connect(world)
