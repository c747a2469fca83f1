"""From the API through the sync engine to the (Acme test) provider and back into the API's answers."""

from __future__ import annotations

from ledgerbridge import jobs
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, finalized_invoice, make_customer
from tests.conftest import make_connection as make_acme_connection


async def test_export_then_revert_through_the_engine(api: AsyncTestClient, tenant: Tenant, acme) -> None:
    await make_acme_connection(tenant.workspace_id)
    customer = await make_customer(api, "Grace")
    invoice = await finalized_invoice(
        api, customer["id"], lines=[{"description": "Audit", "quantity": "3", "unit_price": "100.10"}]
    )
    [export] = (await api.post(f"/api/v1/invoices/{invoice['id']}/export")).json()["runs"]
    assert await jobs.execute(export["id"], owner="test-worker") == "done"

    exported = (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()
    assert exported["sync"] == "synced", exported
    [link] = exported["links"]
    assert link["remote_id"] and link["state"] == "synced"
    assert [(r["number"], r["total"]) for r in acme.remote_records("invoice")] == [("INV-0001", "300.30")]
    detail = (await api.get(f"/api/v1/sync-runs/{export['id']}")).json()
    assert detail["run"]["state"] == "done" and detail["records"][0]["outcome"] == "created"

    [void] = (await api.post(f"/api/v1/invoices/{invoice['id']}/revert-to-draft")).json()["runs"]
    assert await jobs.execute(void["id"], owner="test-worker") == "done"
    assert [r["status"] for r in acme.remote_records("invoice")] == ["void"]
    reverted = (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()
    assert (reverted["status"], reverted["locked"]) == ("draft", False)
    assert reverted["links"][0]["state"] == "deleted_remote"
