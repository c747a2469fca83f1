"""The JSON `/auth` routes under generated traffic, as `test_api_contract` puts `/api/v1` under it.

Every `/auth` operation the server publishes (CSRF token, sign-in, sign-out, who am I, workspace
switch, password change, sign-in methods, linked accounts, first password) is called with requests
schemathesis generates from the published schema, valid and deliberately invalid, in process, three
times: signed in as a workspace owner who has a password and two linked issuer accounts (session
cookie and CSRF header, as a browser script), with an API key carrying every scope, and with no
credentials but the CSRF pair (as a sign-in page). An answer passes the same checks as the API's:
no server error, a documented status, content type and body as documented, invalid input refused.

Some calls end the session they came with (sign-out, a sign-in that replaces it): after each case
whose session is gone, a fresh one is opened for the owner through the sign-in service, not through
`/auth/login`, which the generated wrong passwords may have paused for this address (that pause is
part of what is tested). The seed is fixed, so a failure can be replayed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, settings
from ledgerbridge_testing import databases
from litestar.testing import AsyncTestClient

from tests.api.conftest import csrf_token
from tests.api.test_api_contract import APP, CHECKS, Tally, _without_lifespan, add_seeded_examples
from tests.conftest import make_tenant

AUTH_PREFIX = "/auth/"
MODES = ("owner", "api_key", "anonymous")
EXAMPLES_PER_OPERATION = 25
SEED = 18_07
ISSUER = "https://accounts.example.test"


@dataclass
class Credentials:
    """What every generated request of one run carries; `session` is replaced when a call ends it."""

    mode: str
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)
    owner_id: int = 0


@pytest.fixture(scope="module")
def tally() -> Tally:
    return Tally(MODES)


schema = schemathesis.openapi.from_asgi("/schema/openapi.json", _without_lifespan(APP)).include(
    path_regex=f"^{AUTH_PREFIX}"
)
schema.config.phases.coverage.enabled = False
schema.config.generation.update(with_security_parameters=False)
schema.config.phases.examples.fill_missing = True
schema.config.seed = SEED
SEEDED_IDENTITY = 1  # the owner's first linked account; the second is the one a DELETE example names
SEEDED_IDENTITY_TO_DELETE = 2


@schema.hook
def before_add_examples(context: Any, examples: list[Any]) -> None:
    """A copy of each example with ids in its path that names the owner's seeded linked accounts, and
    one naming an id beyond 64 bits (it once reached the database and answered 500)."""
    too_large = examples[:1]
    add_seeded_examples(context, examples, SEEDED_IDENTITY, SEEDED_IDENTITY_TO_DELETE)
    add_seeded_examples(context, too_large, 2**64, 2**64)
    examples.extend(too_large[1:])


async def _new_session(owner_id: int) -> str:
    from ledgerbridge.identity.sign_ins import PASSWORD, open_signed_in_session

    return await open_signed_in_session(owner_id, signed_in_with=PASSWORD, client="127.0.0.1",
                                        user_agent="auth contract")


async def _session_alive(token: str) -> bool:
    from ledgerbridge.identity.callers import session_caller

    return await session_caller(token) is not None


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=MODES)
async def credentials(request: pytest.FixtureRequest,
                      tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Credentials]:
    """A fresh database per run with an owner (password and two linked accounts), and the run's credentials."""
    from ledgerbridge.identity.api_keys import create_api_key
    from ledgerbridge.identity.permissions import Scope
    from ledgerbridge.identity.sessions import SESSION_COOKIE
    from ledgerbridge.tables import OidcIdentity, utcnow

    monkeypatch = pytest.MonkeyPatch()
    await databases.open_database(databases.sqlite_url(tmp_path_factory.mktemp(request.param)), monkeypatch)
    try:
        tenant = await make_tenant("owner@example.com", "Auth Contract Studio")
        for subject in ("owner-1", "owner-2"):
            await OidcIdentity(user=tenant.owner_id, issuer=ISSUER, subject=subject, email="owner@example.com",
                               issuer_name="Example ID", created_at=utcnow()).save()
        async with AsyncTestClient(app=APP) as browser:
            token = await csrf_token(browser)
            cookies = dict(browser.cookies.items())
        headers = {"x-csrftoken": token}
        if request.param == "api_key":
            key = await create_api_key(tenant.workspace_id, "contract", tenant.owner_id,
                                       scopes=[scope.value for scope in Scope])
            yield Credentials("api_key", headers={"X-API-Key": key.key})
        elif request.param == "owner":
            session = await _new_session(tenant.owner_id)
            yield Credentials("owner", headers=headers, cookies={**cookies, SESSION_COOKIE: session},
                              owner_id=tenant.owner_id)
        else:
            yield Credentials("anonymous", headers=headers, cookies=cookies)
    finally:
        await databases.close_database()
        monkeypatch.undo()


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_auth_contract(case: Any, credentials: Credentials, tally: Tally) -> None:
    from ledgerbridge.identity.sessions import SESSION_COOKIE

    response = case.call(headers=credentials.headers, cookies=credentials.cookies)
    tally.cases[credentials.mode][case.operation.label] += 1
    tally.statuses[credentials.mode][response.status_code] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=credentials.headers)
    finally:
        session = credentials.cookies.get(SESSION_COOKIE)
        if session and not asyncio.run(_session_alive(session)):  # signed out, or replaced by a sign-in
            credentials.cookies[SESSION_COOKIE] = asyncio.run(_new_session(credentials.owner_id))


def _documented_operations() -> set[str]:
    spec = APP.openapi_schema.to_schema()
    methods = ("get", "put", "post", "delete", "patch")
    return {f"{method.upper()} {path}" for path, item in spec["paths"].items() if path.startswith(AUTH_PREFIX)
            for method in item if method in methods}


@pytest.mark.parametrize("mode", MODES)
def test_every_auth_operation_was_exercised(tally: Tally, mode: str) -> None:
    cases = tally.cases[mode]
    if not cases:
        pytest.skip(f"the {mode} auth contract run was not selected in this session")
    print(f"{mode}: {sum(cases.values())} cases; statuses {sorted(tally.statuses[mode].items())}")
    documented = _documented_operations()
    assert {"GET /auth/sign-in-methods", "DELETE /auth/linked-accounts/{identity_id}",
            "POST /auth/password/first", "POST /auth/login"} <= documented
    assert sorted(documented - set(cases)) == [], mode
    assert sum(cases.values()) >= 5 * len(documented), (mode, cases)
