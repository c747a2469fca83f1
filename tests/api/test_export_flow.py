"""From the API through the sync engine to the (Acme test) provider and back into the API's answers."""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge import jobs
from ledgerbridge.tables import SyncRun
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
    # The copy is retired: shown as withdrawn, and the link waits for a new copy.
    assert (reverted["links"][0]["remote_id"], reverted["links"][0]["state"]) == (None, "needs_sync")
    [withdrawn] = reverted["withdrawn"]
    assert (withdrawn["remote_id"], withdrawn["remote_number"]) == (link["remote_id"], "INV-0001")
    assert (withdrawn["action"], withdrawn["state"]) == ("void", "withdrawn")

    # Edit and export again: a NEW copy with a new number (the void keeps INV-0001 there), never an
    # update of the voided one.
    edited = await api.patch(f"/api/v1/invoices/{invoice['id']}",
                             json={"lines": [{"description": "Audit", "quantity": "4", "unit_price": "100.10"}]})
    assert edited.status_code == 200, edited.text
    assert (await api.post(f"/api/v1/invoices/{invoice['id']}/finalize")).status_code == 200
    [again] = (await api.post(f"/api/v1/invoices/{invoice['id']}/export")).json()["runs"]
    assert await jobs.execute(again["id"], owner="test-worker") == "done"
    records = sorted((r["number"], r["total"], r["status"]) for r in acme.remote_records("invoice"))
    # A voided copy keeps its number there with a zero amount.
    assert [(n, Decimal(t)) for n, t, _ in records] == [("INV-0001", Decimal("0")), ("INV-0001-2", Decimal("400.40"))]
    assert records[0][2] == "void" and records[1][2] != "void"
    after = (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()
    [new_link] = after["links"]
    assert new_link["remote_id"] not in (None, link["remote_id"]) and new_link["remote_number"] == "INV-0001-2"
    assert "INV-0001-2" in new_link["message"] and "re-issue policy" in new_link["message"]


async def test_revert_is_refused_before_anything_changes_when_the_books_hold_payments(
    api: AsyncTestClient, tenant: Tenant, acme
) -> None:
    await make_acme_connection(tenant.workspace_id)
    customer = await make_customer(api, "Hopper")
    invoice = await finalized_invoice(api, customer["id"])
    [export] = (await api.post(f"/api/v1/invoices/{invoice['id']}/export")).json()["runs"]
    assert await jobs.execute(export["id"], owner="test-worker") == "done"
    [remote] = acme.remote_records("invoice")
    acme.set_payment(remote["id"], "40.00")  # the bookkeeper records a payment there, not yet read back

    refused = await api.post(f"/api/v1/invoices/{invoice['id']}/revert-to-draft")
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "invoice_has_payments" and "40.00" in body["message"]
    assert "nothing was changed" in body["message"]
    assert "unapply the payments" in body["fix"]
    after = (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()
    assert (after["status"], after["locked"], after["withdrawn"]) == (invoice["status"], True, [])
    assert after["links"][0]["remote_id"] == remote["id"]
    assert [r["status"] for r in acme.remote_records("invoice")] != ["void"]
    assert await SyncRun.count().where(SyncRun.kind == "export_invoice") == 1

