"""One books connection per workspace: exports go there only; an owner switches the books or cancels."""

from __future__ import annotations

from typing import Any

from ledgerbridge import jobs
from ledgerbridge.tables import Connection, RunKind, RunState, SyncRun
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, csrf_token, finalized_invoice, make_customer, sign_in
from tests.conftest import make_connection


async def _owner(client: AsyncTestClient, tenant: Tenant) -> dict[str, str]:
    response = await sign_in(client, tenant.owner_email, tenant.password)
    assert response.status_code == 200, response.text
    return {"x-csrftoken": await csrf_token(client)}


async def _export(api: AsyncTestClient, invoice_id: int) -> list[dict[str, Any]]:
    response = await api.post(f"/api/v1/invoices/{invoice_id}/export")
    assert response.status_code == 200, response.text
    runs = response.json()["runs"]
    for run in runs:
        assert await jobs.execute(run["id"], owner="test-worker") == "done"
    return runs


async def test_with_two_connections_an_invoice_goes_to_the_books_only(
    api: AsyncTestClient, client: AsyncTestClient, tenant: Tenant, acme
) -> None:
    first = await make_connection(tenant.workspace_id)
    second = await make_connection(tenant.workspace_id, tenant="acme-2")
    books = (await api.get("/api/v1/books")).json()
    assert books["books"]["id"] == first.id and [c["id"] for c in books["read_only"]] == [second.id]
    assert [c["is_books"] for c in (await api.get("/api/v1/connections")).json()["items"]] == [True, False]

    customer = await make_customer(api, "Grace")
    one = await finalized_invoice(api, customer["id"])
    [run] = await _export(api, one["id"])
    assert run["connection_id"] == first.id
    assert [r["number"] for r in acme.remote_records("invoice", "acme-1")] == [one["number"]]
    assert acme.remote_records("invoice", "acme-2") == []

    # Naming the read-only connection is refused, with the way out.
    refused = await api.post(f"/api/v1/invoices/{one['id']}/export", json={"connection_id": second.id})
    assert refused.status_code == 409 and refused.json()["code"] == "not_the_books"
    assert "switch the books" in refused.json()["fix"]
    bulk = await api.post("/api/v1/invoices/export", json={"invoice_ids": [one["id"]]})
    assert bulk.status_code == 200, bulk.text
    assert [r["connection_id"] for r in bulk.json()["runs"]] == [first.id]

    # An API key cannot switch the books: only an owner, signed in.
    denied = await api.post("/api/v1/books/switch", json={"connection_id": second.id})
    assert denied.status_code == 403
    headers = await _owner(client, tenant)
    # A run queued for the old books before the switch is cancelled by it, and writes nothing.
    two = await finalized_invoice(api, customer["id"])
    queued = (await api.post(f"/api/v1/invoices/{two['id']}/export")).json()["runs"]
    switched = await client.post("/api/v1/books/switch", json={"connection_id": second.id}, headers=headers)
    assert switched.status_code == 200, switched.text
    assert switched.json()["books"]["id"] == second.id
    assert [c["id"] for c in switched.json()["read_only"]] == [first.id]
    stale = await SyncRun.objects().where(SyncRun.id == queued[0]["id"]).first()
    assert stale.state == RunState.cancelled and "read-only" in stale.error

    [run] = await _export(api, two["id"])
    assert run["connection_id"] == second.id
    assert [r["number"] for r in acme.remote_records("invoice", "acme-2")] == [two["number"]]
    assert [r["number"] for r in acme.remote_records("invoice", "acme-1")] == [one["number"]]
    # The first invoice's link to the old books is kept and shown; nothing was re-sent.
    shown = (await api.get(f"/api/v1/invoices/{one['id']}")).json()
    assert [link["connection_id"] for link in shown["links"]] == [first.id]


async def test_a_run_for_a_read_only_connection_writes_nothing(api: AsyncTestClient, tenant: Tenant, acme) -> None:
    await make_connection(tenant.workspace_id)
    second = await make_connection(tenant.workspace_id, tenant="acme-2")
    customer = await make_customer(api, "Ada")
    invoice = await finalized_invoice(api, customer["id"])
    run = await jobs.enqueue(RunKind.export_invoice, workspace_id=tenant.workspace_id,
                             connection_id=second.id, params={"invoice_id": invoice["id"]})
    assert await jobs.execute(run.id, owner="test-worker") == "failed"
    failed = await SyncRun.objects().where(SyncRun.id == run.id).first()
    assert "read-only" in failed.error
    assert acme.remote_records("invoice", "acme-2") == []


async def test_cancelling_disconnects_the_new_connection_and_keeps_the_books(
    api: AsyncTestClient, client: AsyncTestClient, tenant: Tenant, acme
) -> None:
    first = await make_connection(tenant.workspace_id)
    second = await make_connection(tenant.workspace_id, tenant="acme-2")
    headers = await _owner(client, tenant)
    refused = await client.post("/api/v1/books/cancel", json={"connection_id": first.id}, headers=headers)
    assert refused.status_code == 409 and "keeps this workspace's books" in refused.json()["message"]
    cancelled = await client.post("/api/v1/books/cancel", json={"connection_id": second.id}, headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["books"]["id"] == first.id
    row = await Connection.objects().where(Connection.id == second.id).first()
    assert row.status == "disconnected" and not row.is_books and row.refresh_token_enc == ""
