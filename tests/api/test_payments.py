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



async def _exported_payment(api: AsyncTestClient, tenant: Tenant, amount: str = "40") -> tuple[dict, dict, int]:
    """An invoice and its payment, both already in the (Acme) books: what the export engine leaves."""
    from ledgerbridge.tables import ExternalLink, utcnow

    connection = await make_connection(tenant.workspace_id)
    customer = await make_customer(api)
    invoice = await finalized_invoice(api, customer["id"])  # 100.00
    await link_invoice(tenant.workspace_id, connection.id, invoice["id"])
    payment = (await api.post("/api/v1/payments", json={"invoice_id": invoice["id"], "amount": amount})).json()
    await ExternalLink(workspace=tenant.workspace_id, connection=connection.id, record_type="payment",
                       record_id=payment["id"], remote_id=f"P{payment['id']}", state="synced", created_at=utcnow(),
                       updated_at=utcnow()).save()
    return invoice, payment, connection.id


async def test_voiding_an_exported_payment_queues_its_void_there_once(api: AsyncTestClient, tenant: Tenant) -> None:
    from ledgerbridge.tables import AuditEntry, OutboxEvent

    invoice, payment, connection_id = await _exported_payment(api, tenant)
    voided = await api.post(f"/api/v1/payments/{payment['id']}/void")
    assert voided.status_code == 200, voided.text
    assert voided.json()["voided_at"] and voided.json()["amount"] == "40.00"  # kept on record
    body = (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()
    assert (body["amount_paid"], body["balance"], body["payment_status"]) == ("0.00", "100.00", "unpaid")
    [run] = [row for row in await runs() if row["kind"] == "void_payment"]
    assert run["connection"] == connection_id and json.loads(run["params"])["payment_id"] == payment["id"]
    assert await AuditEntry.count().where(AuditEntry.action == "payment.void") == 1
    [event] = await OutboxEvent.select(OutboxEvent.data).where(OutboxEvent.type == "payment.voided")
    data = json.loads(event["data"]) if isinstance(event["data"], str) else event["data"]
    assert data["voided_in"] == [connection_id] and data["amount_paid"] == "0.00"
    again = await api.post(f"/api/v1/payments/{payment['id']}/void")
    assert again.status_code == 200 and again.json()["voided_at"] == voided.json()["voided_at"]
    assert len([row for row in await runs() if row["kind"] == "void_payment"]) == 1
    assert await AuditEntry.count().where(AuditEntry.action == "payment.void") == 1


async def test_a_provider_that_cannot_void_payments_gets_an_issue_on_the_payment(
    api: AsyncTestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from ledgerbridge.plugins import get_registry
    from ledgerbridge.tables import SyncIssue

    registry = get_registry()
    acme = registry.providers["acme"]
    monkeypatch.setitem(registry.providers, "acme", replace(
        acme, capabilities=replace(acme.capabilities, void_payments=False)))
    invoice, payment, _ = await _exported_payment(api, tenant)
    assert (await api.post(f"/api/v1/payments/{payment['id']}/void")).status_code == 200
    assert not [row for row in await runs() if row["kind"] == "void_payment"]
    issue = await SyncIssue.objects().where(
        (SyncIssue.record_type == "payment") & (SyncIssue.record_id == payment["id"])).first()
    assert issue is not None and issue.code == "not_supported"
    assert "cannot void payments" in issue.message and "40.00" in issue.message and "by hand" in issue.fix
    assert (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()["balance"] == "100.00"


async def test_an_overpayment_is_refused_naming_the_excess_unless_the_books_keep_credit(
    api: AsyncTestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from ledgerbridge.plugins import get_registry

    await make_connection(tenant.workspace_id)  # Acme books: no credit for an excess
    customer = await make_customer(api)
    invoice = await finalized_invoice(api, customer["id"])  # 100.00
    over = await api.post("/api/v1/payments", json={"invoice_id": invoice["id"], "amount": "130"})
    assert over.status_code == 409, over.text
    refused = over.json()
    assert "130.00" in refused["message"] and "100.00" in refused["message"] and "30.00" in refused["message"]
    assert "Acme" in refused["message"] and "balance due (100.00)" in refused["fix"]
    assert (await api.get("/api/v1/payments", params={"invoice_id": invoice["id"]})).json()["total"] == 0

    registry = get_registry()
    acme = registry.providers["acme"]
    monkeypatch.setitem(registry.providers, "acme", replace(
        acme, capabilities=replace(acme.capabilities, overpayment_credit=True)))
    kept = await api.post("/api/v1/payments", json={"invoice_id": invoice["id"], "amount": "130"})
    assert kept.status_code == 201, kept.text
    body = (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()
    assert (body["balance"], body["payment_status"]) == ("0.00", "paid")
