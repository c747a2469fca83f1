"""The published API contract under generated traffic: schemathesis against `/schema/openapi.json`.

Every `/api/v1` operation of the schema the server publishes is called with requests generated
from that schema (valid ones and deliberately invalid ones), in process through schemathesis' ASGI
transport, once signed in as a workspace owner (session cookie and CSRF header, as a browser
script would) and once with an API key carrying every scope. An answer passes when it is not a
server error, its status is one the schema documents for the operation, its content type and body
match what the schema says, and an invalid request was refused. The seed is fixed (derandomized),
so a run generates the same requests every time and a failure can be replayed.

The operations share one seeded workspace per run, and each operation with ids in its path also
gets an example naming seeded rows, so reads, updates and actions by id reach real work besides
404s. The case count per run and the list of operations exercised are checked by the tests after
the run (`test_the_run_sent_enough_cases`, `test_every_operation_was_exercised`); they need the
whole module to run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, settings
from ledgerbridge_testing import databases
from ledgerbridge_testing.sandbox.server import answer_lifespan
from litestar import Litestar
from litestar.testing import AsyncTestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import finalized_invoice, make_customer, make_invoice, sign_in
from tests.conftest import Tenant, make_connection, make_tenant

API_PREFIX = "/api/v1/"
MODES = ("owner", "api_key")
# The closing checks count the cases this process ran: under pytest-xdist, `make test` runs
# `--dist loadfile`, so the whole module goes to one worker.
# Small per operation, spread over every operation: the total per run is asserted below.
EXAMPLES_PER_OPERATION = 15
SEED = 14_05
MIN_CASES_PER_RUN = 1000
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@dataclass
class Caller:
    """What every generated request of one run carries to be signed in."""

    mode: str
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Tally:
    """Cases sent per run and per operation, shared by the module's tests (`modes`: the module's runs)."""

    modes: tuple[str, ...] = MODES
    cases: dict[str, Counter[str]] = field(init=False)
    statuses: dict[str, Counter[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.cases = {mode: Counter() for mode in self.modes}
        self.statuses = {mode: Counter() for mode in self.modes}


@pytest.fixture(scope="module")
def tally() -> Tally:
    return Tally()


async def _seed(app: Litestar, tenant: Tenant) -> None:
    """A few real rows (customers, items, invoices, a time entry, a payment, a connection) so that
    generated ids hit something now and then."""
    async with AsyncTestClient(app=app) as api:
        api.headers.update(tenant.headers)
        await make_connection(tenant.workspace_id)
        first = await make_customer(api, "Globex", email="ap@globex.test", external_ref="cust-1")
        second = await make_customer(api, "Initech", external_ref="cust-2")
        for name, price in (("Consulting", "120.00"), ("Support", "45.50")):
            response = await api.post("/api/v1/items", json={"name": name, "unit_price": price})
            assert response.status_code == 201, response.text
        await make_invoice(api, first["id"])
        sent = await finalized_invoice(api, second["id"])
        response = await api.post(
            "/api/v1/payments", json={"invoice_id": sent["id"], "amount": "10.00", "paid_on": "2026-11-30"}
        )
        assert response.status_code == 201, response.text
        response = await api.post(
            "/api/v1/time-entries",
            json={"customer_id": first["id"], "person": "Ada", "hours": "1.5", "worked_on": "2026-11-30"},
        )
        assert response.status_code == 201, response.text


def _app() -> Litestar:
    """The server as `serve` builds it, minus the worker and scheduler. Built at import, because
    schemathesis turns each operation of its schema into a test when the module is collected; the
    database it reads is the one `caller` opens (the engine is process-wide)."""
    from ledgerbridge.app import create_app
    from ledgerbridge.settings import get_settings

    return create_app(get_settings(), background=False)


def _without_lifespan(app: Litestar) -> Any:
    """The app behind an ASGI callable that answers lifespan messages itself.

    With `background=False` the app has nothing to start, and schemathesis' transport would
    otherwise start Litestar's lifespan in its own event-loop thread and fail to end it at teardown
    (anyio refuses to leave a cancel scope from another task there)."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        await app(scope, receive, send)

    return asgi


APP = _app()
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", _without_lifespan(APP)).include(
    path_regex=f"^{API_PREFIX}"
)
# Examples and fuzzing (valid and invalid requests), from a fixed seed. The coverage phase, which
# derives every boundary case of every parameter (about 4,500 requests per run), is left to a
# wider run by hand: it would triple the suite's time for this file.
schema.config.phases.coverage.enabled = False
# Each run is signed in with its own credentials (`Caller`); values generated for the security
# schemes would only turn requests into 401s, which the permission tests cover.
schema.config.generation.update(with_security_parameters=False)
# Every operation gets one valid example first (filled in from its schema) ...
schema.config.phases.examples.fill_missing = True
# ... and, where its path holds ids, a copy naming rows the seed made: the first row of every table
# (`_seed` runs in the same order on a fresh database each run), the second for deletions, so the
# reads after them still find the first.
SEEDED_ID = 1
SEEDED_ID_TO_DELETE = 2


@schema.hook
def before_add_examples(context: Any, examples: list[Any]) -> None:
    """Random ids mostly miss (a 404 is a fine answer, but says little): add a copy of each example
    that hits seeded rows, so reads, updates and actions by id reach their handlers' real work."""
    add_seeded_examples(context, examples, SEEDED_ID, SEEDED_ID_TO_DELETE)


def add_seeded_examples(context: Any, examples: list[Any], seeded_id: int, seeded_id_to_delete: int) -> None:
    """A copy of each example with ids in its path naming `seeded_id` (`seeded_id_to_delete` for a DELETE)."""
    operation = context.operation
    seeded = seeded_id_to_delete if operation.method.upper() == "DELETE" else seeded_id
    for example in list(examples):
        path = dict(example.path_parameters or {})
        ids = [name for name, value in path.items() if isinstance(value, int) and not isinstance(value, bool)]
        if ids:
            examples.append(
                operation.Case(
                    path_parameters={**path, **dict.fromkeys(ids, seeded)},
                    query=example.query,
                    headers=example.headers,
                    cookies=example.cookies,
                    body=example.body,
                    media_type=example.media_type,
                )
            )
schema.config.seed = SEED


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=MODES)
async def caller(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Caller]:
    """One freshly migrated, seeded database per run, and the credentials of that run."""
    from ledgerbridge.identity.api_keys import create_api_key
    from ledgerbridge.identity.permissions import Scope

    monkeypatch = pytest.MonkeyPatch()
    await databases.open_database(databases.sqlite_url(tmp_path_factory.mktemp(request.param)), monkeypatch)
    try:
        tenant = await make_tenant("owner@example.com", "Contract Studio")
        await _seed(APP, tenant)
        if request.param == "api_key":
            scopes = [scope.value for scope in Scope]
            key = await create_api_key(tenant.workspace_id, "contract", tenant.owner_id, scopes=scopes)
            yield Caller("api_key", headers={"X-API-Key": key.key})
        else:
            async with AsyncTestClient(app=APP) as browser:
                response = await sign_in(browser, tenant.owner_email, tenant.password)
                assert response.status_code == 200, response.text
                token = (await browser.get("/auth/csrf")).json()["csrf_token"]
                cookies = dict(browser.cookies.items())
            yield Caller("owner", headers={"x-csrftoken": token}, cookies=cookies)
    finally:
        await databases.close_database()
        monkeypatch.undo()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_contract(case: Any, caller: Caller, tally: Tally) -> None:
    response = case.call(headers=caller.headers, cookies=caller.cookies)
    tally.cases[caller.mode][case.operation.label] += 1
    tally.statuses[caller.mode][response.status_code] += 1
    case.validate_response(response, checks=CHECKS, headers=caller.headers)



def _documented_operations() -> set[str]:
    """Every `/api/v1` operation of the published schema, as schemathesis labels them."""
    spec = APP.openapi_schema.to_schema()
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    return {
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        if path.startswith(API_PREFIX)
        for method in item
        if method in methods
    }


@pytest.mark.parametrize("mode", MODES)
def test_the_run_sent_enough_cases(tally: Tally, mode: str) -> None:
    cases = tally.cases[mode]
    if not cases:
        pytest.skip(f"the {mode} contract run was not selected in this session")
    total = sum(cases.values())
    print(f"{mode}: {total} cases over {len(cases)} operations; statuses {sorted(tally.statuses[mode].items())}")
    assert total >= MIN_CASES_PER_RUN, (mode, total)


@pytest.mark.parametrize("mode", MODES)
def test_every_operation_was_exercised(tally: Tally, mode: str) -> None:
    cases = tally.cases[mode]
    if not cases:
        pytest.skip(f"the {mode} contract run was not selected in this session")
    documented = _documented_operations()
    assert len(documented) >= 80  # the whole API, not a filtered slice
    assert sorted(documented - set(cases)) == [], mode
