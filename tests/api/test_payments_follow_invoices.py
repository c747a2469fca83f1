"""Payments recorded before their invoice's export follow it into the books (bulk included)."""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge import jobs
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, finalized_invoice, make_customer
from tests.conftest import make_connection


async def _pay(api: AsyncTestClient, invoice_id: int, amount: str) -> dict:
    response = await api.post("/api/v1/payments", json={"invoice_id": invoice_id, "amount": amount,
                                                        "reference": "CHK-1"})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_paid_invoice_arrives_paid(api: AsyncTestClient, tenant: Tenant, acme) -> None:
    await make_connection(tenant.workspace_id)
    customer = await make_customer(api, "Lovelace")
    invoice = await finalized_invoice(api, customer["id"])  # 100.00
    payment = await _pay(api, invoice["id"], "100.00")  # recorded before the export: no run of its own
    [run] = (await api.post(f"/api/v1/invoices/{invoice['id']}/export")).json()["runs"]
    assert await jobs.execute(run["id"], owner="test-worker") == "done"
    [remote] = acme.remote_records("invoice")
    [paid] = acme.remote_records("payment")
    assert Decimal(paid["amount"]) == Decimal("100.00") and str(paid["invoice_id"]) == str(remote["id"])
    detail = (await api.get(f"/api/v1/sync-runs/{run['id']}")).json()
    assert {(r["record_type"], r["record_id"], r["outcome"]) for r in detail["records"]} >= {
        ("payment", payment["id"], "created")}
    # Exporting again sends neither the invoice nor the payment twice.
    [again] = (await api.post(f"/api/v1/invoices/{invoice['id']}/export")).json()["runs"]
    assert await jobs.execute(again["id"], owner="test-worker") == "done"
    assert len(acme.remote_records("payment")) == 1


async def test_bulk_export_of_older_paid_invoices_brings_their_payments(
    api: AsyncTestClient, tenant: Tenant, acme
) -> None:
    await make_connection(tenant.workspace_id)
    customer = await make_customer(api, "Babbage")
    invoices = [await finalized_invoice(api, customer["id"]) for _ in range(3)]
    await _pay(api, invoices[0]["id"], "100.00")
    await _pay(api, invoices[1]["id"], "30.00")
    bulk = await api.post("/api/v1/invoices/export", json={"invoice_ids": [i["id"] for i in invoices]})
    assert bulk.status_code == 200, bulk.text
    [run] = bulk.json()["runs"]
    assert await jobs.execute(run["id"], owner="test-worker") == "done"
    remote_by_number = {r["number"]: r["id"] for r in acme.remote_records("invoice")}
    paid = sorted((str(p["invoice_id"]), Decimal(p["amount"])) for p in acme.remote_records("payment"))
    assert paid == sorted([(str(remote_by_number[invoices[0]["number"]]), Decimal("100.00")),
                           (str(remote_by_number[invoices[1]["number"]]), Decimal("30.00"))])
