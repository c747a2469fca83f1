"""The audit trail: who did what to the books, connections, settings, members and keys, and from where."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledgerbridge import audit
from ledgerbridge.identity.api_keys import create_api_key
from ledgerbridge.identity.memberships import create_admin
from ledgerbridge.tables import AuditEntry, Membership, Role, utcnow
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import OWNER_PASSWORD, Tenant, csrf_token, make_connection, sign_in


async def entries(client: AsyncTestClient[Litestar], **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/audit", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "total", "limit", "offset"}
    return body["items"]


async def test_actions_on_the_books_and_connections_are_audited_with_who_and_from_where(
    app: Litestar, tenant: Tenant
) -> None:
    connection = await make_connection(tenant.workspace_id)
    async with AsyncTestClient(app=app) as owner:
        assert (await sign_in(owner, tenant.owner_email, tenant.password)).status_code == 200
        csrf = {"x-csrftoken": await csrf_token(owner), "user-agent": "audit-test-browser/1.0"}
        customer = (await owner.post("/api/v1/customers", json={"name": "Globex"}, headers=csrf)).json()
        invoice = (await owner.post(
            "/api/v1/invoices",
            json={"customer_id": customer["id"], "lines": [{"description": "Work", "quantity": "2",
                                                            "unit_price": "12.50"}]},
            headers=csrf,
        )).json()
        assert (await owner.post(f"/api/v1/invoices/{invoice['id']}/finalize", headers=csrf)).status_code == 200
        paid = await owner.post("/api/v1/payments", json={"invoice_id": invoice["id"], "amount": "5.00"},
                                headers=csrf)
        assert paid.status_code == 201, paid.text
        assert (await owner.post(f"/api/v1/invoices/{invoice['id']}/void", headers=csrf)).status_code == 200
        patched = await owner.patch(f"/api/v1/connections/{connection.id}", json={"export_as_draft": True},
                                    headers=csrf)
        assert patched.status_code == 200, patched.text
        assert (await owner.post(f"/api/v1/connections/{connection.id}/disconnect", headers=csrf)).status_code == 200

        trail = await entries(owner)
        actions = [e["action"] for e in trail]
        assert actions[:4] == ["connection.disconnect", "connection.settings", "invoice.void", "payment.create"]
        void = trail[actions.index("invoice.void")]
        assert void["actor"] == tenant.owner_email
        assert void["actor_user_id"] == tenant.owner_id and void["actor_api_key_id"] is None
        assert void["user_agent"] == "audit-test-browser/1.0"
        assert void["ip"]
        assert void["before"]["status"] == "finalized" and void["after"]["status"] == "void"
        assert void["before"]["total"] == "25.00"
        payment = trail[actions.index("payment.create")]
        assert payment["after"]["amount"] == "5.00"
        settings = trail[actions.index("connection.settings")]
        assert settings["before"] == {"export_as_draft": False} and settings["after"] == {"export_as_draft": True}

        # Filters: by action prefix, by target.
        assert {e["action"] for e in await entries(owner, action="connection.")} == {
            "connection.disconnect", "connection.settings"}
        only = await entries(owner, target_type="invoice", target_id=str(invoice["id"]))
        assert [e["action"] for e in only] == ["invoice.void"]


async def test_keys_are_named_as_actors_and_need_the_audit_scope_to_read(app: Litestar, tenant: Tenant) -> None:
    reader = (await create_api_key(tenant.workspace_id, "auditor", tenant.owner_id, ["audit:read"])).key
    async with AsyncTestClient(app=app) as client:
        client.headers.update(tenant.headers)
        customer = (await client.post("/api/v1/customers", json={"name": "Initech"})).json()
        assert (await client.delete(f"/api/v1/customers/{customer['id']}")).status_code == 204
        assert (await client.get("/api/v1/audit")).status_code == 403  # the host app's key lacks audit:read
        response = await client.get("/api/v1/audit", headers={"x-api-key": reader})
        assert response.status_code == 200, response.text
        deleted = response.json()["items"][0]
        assert deleted["action"] == "customer.delete"
        assert deleted["actor"] == f"API key {tenant.api_key_prefix}"
        assert deleted["before"]["name"] == "Initech"


async def test_members_and_viewers_cannot_read_the_trail_and_role_changes_are_in_it(
    app: Litestar, tenant: Tenant
) -> None:
    user, _ = await create_admin("viewer@example.com", OWNER_PASSWORD, "Acme Studio")
    await Membership.update({Membership.role: Role.viewer}).where(
        (Membership.user == user.id) & (Membership.workspace == tenant.workspace_id)
    )
    async with AsyncTestClient(app=app) as viewer:
        assert (await sign_in(viewer, "viewer@example.com", OWNER_PASSWORD)).status_code == 200
        assert (await viewer.get("/api/v1/audit")).status_code == 403
    async with AsyncTestClient(app=app) as owner:
        assert (await sign_in(owner, tenant.owner_email, tenant.password)).status_code == 200
        csrf = {"x-csrftoken": await csrf_token(owner)}
        changed = await owner.patch(f"/api/v1/workspace/members/{user.id}", json={"role": "accountant"},
                                    headers=csrf)
        assert changed.status_code == 200, changed.text
        created = await owner.post("/api/v1/workspace/api-keys", json={"name": "ci", "scopes": ["read"]},
                                   headers=csrf)
        assert created.status_code == 201, created.text
        assert created.json()["api_key"]["scopes"] == ["read"]
        trail = await entries(owner)
        assert [e["action"] for e in trail[:2]] == ["api_key.create", "member.role"]
        assert trail[0]["after"]["scopes"] == ["read"]
        assert trail[1]["before"] == {"role": "viewer"} and trail[1]["after"] == {"role": "accountant"}
        assert not any("key" in str(v) and "lb_" in str(v) and len(str(v)) > 20 for v in trail[0]["after"].values())


async def test_a_failed_action_leaves_no_entry_and_old_entries_are_pruned(app: Litestar, tenant: Tenant) -> None:
    async with AsyncTestClient(app=app) as client:
        client.headers.update(tenant.headers)
        customer = (await client.post("/api/v1/customers", json={"name": "Hooli"})).json()
        invoice = (await client.post(
            "/api/v1/invoices",
            json={"customer_id": customer["id"], "lines": [{"description": "x", "quantity": "1", "unit_price": "1"}]},
        )).json()
        assert (await client.post(f"/api/v1/invoices/{invoice['id']}/void")).status_code == 200
        # A void invoice cannot be voided again: the refusal rolls the transaction back, entry included.
        again = await client.post(f"/api/v1/invoices/{invoice['id']}/void")
        assert again.status_code == 409, again.text
    assert await AuditEntry.count().where(AuditEntry.action == "invoice.void") == 1

    old = AuditEntry(workspace=tenant.workspace_id, occurred_at=utcnow() - timedelta(days=401), actor="x",
                     action="invoice.void")
    await old.save()
    recent = AuditEntry(workspace=tenant.workspace_id, occurred_at=utcnow() - timedelta(days=399), actor="x",
                        action="invoice.void")
    await recent.save()
    assert await audit.prune() == 1
    kept = await AuditEntry.select(AuditEntry.id).where(AuditEntry.action == "invoice.void").order_by(AuditEntry.id)
    assert len(kept) == 2 and kept[-1]["id"] == recent.id


async def test_the_database_refuses_to_rewrite_an_entry(app: Litestar, tenant: Tenant) -> None:
    """Append-only below the code too: an UPDATE of what an entry says fails on either engine."""
    async with AsyncTestClient(app=app) as client:
        client.headers.update(tenant.headers)
        customer = (await client.post("/api/v1/customers", json={"name": "Umbrella"})).json()
        assert (await client.delete(f"/api/v1/customers/{customer['id']}")).status_code == 204
    entry = await AuditEntry.objects().where(AuditEntry.action == "customer.delete").first()
    assert entry is not None
    try:
        await AuditEntry.update({AuditEntry.actor: "someone else"}).where(AuditEntry.id == entry.id)
    except Exception as exc:  # sqlite3.IntegrityError or asyncpg's RaiseError, by engine
        assert "append-only" in str(exc)
    else:
        raise AssertionError("the entry was rewritten")
    again = await AuditEntry.objects().where(AuditEntry.id == entry.id).first()
    assert again is not None and again.actor == f"API key {tenant.api_key_prefix}"
