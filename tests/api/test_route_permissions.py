"""Every state-changing route, tried by every role and by API keys with and without its scope.

The table is the app's own route list: a route added without a declared permission fails
`test_every_state_changing_route_declares_a_permission`, and a declared permission the services or
guards do not enforce fails `test_each_role_and_key_meets_the_declared_permission`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ledgerbridge.identity.api_keys import create_api_key
from ledgerbridge.identity.memberships import create_admin
from ledgerbridge.identity.permissions import (
    PERMISSION_OPT,
    ROLE_PERMISSIONS,
    SCOPE_PERMISSIONS,
    Permission,
    Scope,
)
from ledgerbridge.tables import Connection, ConnectionStatus, Membership, Role
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import OWNER_PASSWORD, Tenant, csrf_token, make_connection, sign_in

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
API = "/api/v1"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with parameters filled in
    template: str
    permission: Permission


def state_changing_routes(app: Litestar) -> tuple[list[Route], list[str]]:
    """The routes to try, and the ones that declare nothing (or only the API's default `read`)."""
    routes: list[Route] = []
    undeclared: list[str] = []
    for route in app.routes:
        for handler in route.route_handlers:
            methods = set(getattr(handler, "http_methods", set())) & STATE_CHANGING
            for method in sorted(methods):
                declared = handler.opt.get(PERMISSION_OPT)
                if declared is None or declared == Permission.read:
                    undeclared.append(f"{method} {route.path}")
                    continue
                routes.append(Route(method, fill(route.path), route.path, Permission(declared)))
    return routes, undeclared


def fill(path: str) -> str:
    """Parameters that point at nothing: an allowed caller meets 404 or 400, never 403."""

    def value(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        if name == "provider":
            return "acme"
        return "999999" if kind == "int" else "nothing-here"

    return re.sub(r"\{(\w+):(\w+)\}", value, path)


async def test_every_state_changing_route_declares_a_permission(app: Litestar) -> None:
    routes, undeclared = state_changing_routes(app)
    assert undeclared == [], f"declare a permission (opt=needs(Permission.X)) on: {undeclared}"
    # The table is the real route list, not an empty one that would pass by accident.
    assert len(routes) > 60
    assert {r.permission for r in routes} >= set(Permission) - {Permission.read, Permission.audit_read}


async def person(app: Litestar, email: str) -> tuple[AsyncTestClient[Litestar], dict[str, str]]:
    client: AsyncTestClient[Litestar] = AsyncTestClient(app=app)
    await client.__aenter__()
    response = await sign_in(client, email, OWNER_PASSWORD)
    assert response.status_code == 200, response.text
    return client, {"x-csrftoken": await csrf_token(client), "accept": "application/json"}


async def with_role(tenant: Tenant, role: Role) -> str:
    email = f"{role.value}@example.com"
    user, _ = await create_admin(email, OWNER_PASSWORD, "Acme Studio")
    await Membership.update({Membership.role: role}).where(
        (Membership.user == user.id) & (Membership.workspace == tenant.workspace_id)
    )
    return email


async def attempt(client: AsyncTestClient[Litestar], route: Route, headers: dict[str, str]) -> Any:
    if route.path.startswith(API + "/") or route.path.startswith("/auth/"):
        return await client.request(route.method, route.path, json={}, headers=headers)
    return await client.request(route.method, route.path, data={}, headers=headers)


def outcome(response: Any) -> str:
    if response.status_code == 403:
        return "refused"
    return "let through"


async def test_each_role_and_key_meets_the_declared_permission(app: Litestar, tenant: Tenant) -> None:
    routes, _ = state_changing_routes(app)
    tried = [r for r in routes if r.permission is not Permission.public]
    wrong: list[str] = []

    owner_email = tenant.owner_email
    emails = {Role.owner: owner_email}
    for role in (Role.accountant, Role.member, Role.viewer):
        emails[role] = await with_role(tenant, role)
    for role, email in emails.items():
        client, headers = await person(app, email)
        try:
            for route in tried:
                expected = (
                    "let through"
                    if route.permission is Permission.own_account or route.permission in ROLE_PERMISSIONS[role]
                    else "refused"
                )
                response = await attempt(client, route, headers)
                if outcome(response) != expected:
                    wrong.append(f"{role.value}: {route.method} {route.template} -> {response.status_code}, "
                                 f"expected {expected} ({route.permission.value})")
                elif expected == "refused":
                    assert response.json()["code"] == "forbidden", response.text
        finally:
            await client.__aexit__(None, None, None)

    # API keys: with exactly the scope the route needs, and with every scope but that one.
    api_routes = [r for r in tried if r.path.startswith(API + "/")]
    all_scopes = {scope.value for scope in Scope}
    keys: dict[frozenset[str], str] = {}

    async def key_for(scopes: frozenset[str]) -> str:
        if scopes not in keys:
            keys[scopes] = (await create_api_key(tenant.workspace_id, "probe", tenant.owner_id, sorted(scopes))).key
        return keys[scopes]

    async with AsyncTestClient(app=app) as client:
        for route in api_routes:
            granting = next((s for s, granted in SCOPE_PERMISSIONS.items() if route.permission in granted), None)
            cases: list[tuple[frozenset[str], str]] = []
            if granting is None:  # members and keys: no scope grants managing them
                cases.append((frozenset(all_scopes), "refused"))
            else:
                cases.append((frozenset({granting.value}), "let through"))
                cases.append((frozenset(all_scopes - {granting.value}), "refused"))
            for scopes, expected in cases:
                response = await attempt(client, route, {"x-api-key": await key_for(scopes)})
                if outcome(response) != expected:
                    wrong.append(f"key {sorted(scopes)}: {route.method} {route.template} -> "
                                 f"{response.status_code}, expected {expected} ({route.permission.value})")
    assert wrong == [], "\n".join(wrong)


async def test_a_host_app_key_for_pushing_records_cannot_disconnect_or_void(app: Litestar, tenant: Tenant) -> None:
    connection = await make_connection(tenant.workspace_id)
    pusher = (await create_api_key(tenant.workspace_id, "pusher", tenant.owner_id, ["read", "records:write"])).key
    manager = (await create_api_key(tenant.workspace_id, "ops", tenant.owner_id, ["connections:manage"])).key
    async with AsyncTestClient(app=app) as client:
        customer = await client.post("/api/v1/customers", json={"name": "Globex"}, headers={"x-api-key": pusher})
        assert customer.status_code == 201, customer.text
        invoice = await client.post(
            "/api/v1/invoices",
            json={"customer_id": customer.json()["id"],
                  "lines": [{"description": "Work", "quantity": "1", "unit_price": "10"}]},
            headers={"x-api-key": pusher},
        )
        assert invoice.status_code == 201, invoice.text
        invoice_id = invoice.json()["id"]
        assert (await client.post(f"/api/v1/invoices/{invoice_id}/finalize", headers={"x-api-key": pusher})
                ).status_code == 200

        voided = await client.post(f"/api/v1/invoices/{invoice_id}/void", headers={"x-api-key": pusher})
        assert voided.status_code == 403
        assert "books:write" in voided.json()["message"]
        assert (await client.get(f"/api/v1/invoices/{invoice_id}", headers={"x-api-key": pusher})
                ).json()["status"] == "finalized"

        refused = await client.post(f"/api/v1/connections/{connection.id}/disconnect", headers={"x-api-key": pusher})
        assert refused.status_code == 403
        assert "connections:manage" in refused.json()["fix"]
        row = await Connection.objects().where(Connection.id == connection.id).first()
        assert row is not None and row.status == ConnectionStatus.connected

        allowed = await client.post(f"/api/v1/connections/{connection.id}/disconnect", headers={"x-api-key": manager})
        assert allowed.status_code == 200, allowed.text
        row = await Connection.objects().where(Connection.id == connection.id).first()
        assert row is not None and row.status == ConnectionStatus.disconnected


async def test_the_services_themselves_refuse_whoever_calls_them() -> None:
    """The guard is only the door: a page or script calling a service directly meets the same check."""
    from ledgerbridge.domain.audit import services as audit
    from ledgerbridge.domain.connections import services as connections
    from ledgerbridge.domain.connections.schemas import ConnectionPatch
    from ledgerbridge.domain.customers import services as customers
    from ledgerbridge.domain.invoices import services as invoices
    from ledgerbridge.domain.payments import services as payments
    from ledgerbridge.domain.webhook_endpoints import services as webhooks
    from ledgerbridge.identity.callers import Caller
    from ledgerbridge.identity.errors import Forbidden

    def person(role: Role) -> Caller:
        return Caller(via="session", workspace_id=1, workspace_name="w", role=role, user_id=7)

    def key(*scopes: str) -> Caller:
        return Caller(via="api_key", workspace_id=1, workspace_name="w", role=None, api_key_id=3,
                      api_key_prefix="lb_00000000", scopes=frozenset(scopes))

    pusher = key("read", "records:write", "exports:write")
    calls = {
        "void": (lambda c: invoices.void(c, invoice_id=1), Permission.books_write),
        "revert": (lambda c: invoices.revert_to_draft(c, invoice_id=1), Permission.books_write),
        "export": (lambda c: invoices.export(c, invoice_id=1), Permission.exports_run),
        "delete payment": (lambda c: payments.delete_payment(c, payment_id=1), Permission.books_write),
        "disconnect": (lambda c: connections.disconnect(c, connection_id=1), Permission.connections_manage),
        "settings": (lambda c: connections.update_connection(c, connection_id=1, data=ConnectionPatch()),
                     Permission.connections_manage),
        "delete customer": (lambda c: customers.delete_customer(c, customer_id=1), Permission.records_write),
        "rotate secret": (lambda c: webhooks.rotate_secret(c, endpoint_id=1), Permission.webhooks_manage),
        "audit": (lambda c: audit.list_entries(c), Permission.audit_read),
    }
    refused = 0
    for caller, granted in [
        (person(Role.viewer), ROLE_PERMISSIONS[Role.viewer]),
        (person(Role.member), ROLE_PERMISSIONS[Role.member]),
        (pusher, frozenset({Permission.read, Permission.records_write, Permission.exports_run})),
    ]:
        for name, (call, permission) in calls.items():
            if permission in granted:
                continue
            try:
                await call(caller)
            except Forbidden:
                refused += 1
            else:
                raise AssertionError(f"{name} was not refused for {caller}")
    assert refused == 9 + 8 + 7  # viewer: all nine; member: not the deletion; the key: not export or deletion
