"""Payments API: amounts stay exact, balances follow, and exported invoices' payments are exported."""

from __future__ import annotations

import json

import pytest
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, finalized_invoice, make_connection, make_customer, make_invoice
from tests.api.test_invoices import link_invoice, runs


async def test_payment_updates_amount_paid_and_balance(api: AsyncTestClient) -> None:
    customer = await make_customer(api)
    invoice = await finalized_invoice(
        api, customer["id"], lines=[{"description": "x", "quantity": "3", "unit_price": "0.1"}]
    )
    assert invoice["total"] == "0.30"
    for amount in ("0.1", 0.1):
        response = await api.post("/api/v1/payments", json={"invoice_id": invoice["id"], "amount": amount})
        assert response.status_code == 201, response.text
        assert response.json()["amount"] == "0.10"
    body = (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()
    assert (body["amount_paid"], body["balance"]) == ("0.20", "0.10")
    assert [p["amount"] for p in body["payments"]] == ["0.10", "0.10"]
    listed = (await api.get("/api/v1/payments", params={"invoice_id": invoice["id"]})).json()
    assert listed["total"] == 2


async def test_overpayment_and_drafts_are_refused(api: AsyncTestClient) -> None:
    customer = await make_customer(api)
    invoice = await finalized_invoice(api, customer["id"])  # 100.00
    over = await api.post("/api/v1/payments", json={"invoice_id": invoice["id"], "amount": "100.01"})
    assert over.status_code == 409 and "balance" in over.json()["message"]
    draft = await make_invoice(api, customer["id"])
    refused = await api.post("/api/v1/payments", json={"invoice_id": draft["id"], "amount": "1"})
    assert refused.status_code == 409 and "Finalize" in refused.json()["fix"]
    bad = await api.post("/api/v1/payments", json={"invoice_id": invoice["id"], "amount": "1.001"})
    assert bad.status_code == 400 and "amount" in bad.json()["message"]
    negative = await api.post("/api/v1/payments", json={"invoice_id": invoice["id"], "amount": "-5"})
    assert negative.status_code == 400 and "amount" in negative.json()["message"]


async def test_payment_on_an_exported_invoice_is_exported(
    api: AsyncTestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerbridge import jobs
    from ledgerbridge.tables import RunKind

    async def export_payment(ctx: jobs.RunContext) -> None:
        """Stands in for the engine's handler."""

    monkeypatch.setitem(jobs.HANDLERS, RunKind.export_payment, export_payment)
    connection = await make_connection(tenant.workspace_id)
    customer = await make_customer(api)
    invoice = await finalized_invoice(api, customer["id"])
    await link_invoice(tenant.workspace_id, connection.id, invoice["id"])
    payment = (await api.post("/api/v1/payments", json={"invoice_id": invoice["id"], "amount": "40"})).json()
    # The customer's automatic push to the books is a run too; the payment's export is the one of its kind.
    [run] = [row for row in await runs() if row["kind"] == "export_payment"]
    assert run["connection"] == connection.id
    assert json.loads(run["params"])["payment_id"] == payment["id"]


async def test_deleting_a_payment_restores_the_balance(api: AsyncTestClient) -> None:
    customer = await make_customer(api)
    invoice = await finalized_invoice(api, customer["id"])
    payment = (await api.post("/api/v1/payments", json={"invoice_id": invoice["id"], "amount": "25"})).json()
    assert (await api.delete(f"/api/v1/payments/{payment['id']}")).status_code == 204
    assert (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()["balance"] == "100.00"

