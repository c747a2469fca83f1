"""Events are written with their change: a rolled-back change emits nothing, a committed one is kept,
and the engine emits them where things happen (export, poll, import, connection status, issues)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from ledgerbridge import jobs
from ledgerbridge.events import records
from ledgerbridge.events.outbox import NotInTransaction, emit
from ledgerbridge.tables import (
    Connection,
    ConnectionStatus,
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    OutboxEvent,
    RunKind,
    SyncRun,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)

from tests.conftest import make_connection


async def _types(workspace_id: int) -> list[str]:
    rows = await OutboxEvent.select(OutboxEvent.type).where(OutboxEvent.workspace == workspace_id).order_by(
        OutboxEvent.id)
    return [row["type"] for row in rows]


async def _endpoint(workspace_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(workspace=workspace_id, url="http://127.0.0.1:9/hooks", secret_enc="x",
                               created_at=utcnow(), updated_at=utcnow())
    await endpoint.save()
    return endpoint


async def test_a_rolled_back_change_emits_nothing_and_a_committed_one_is_kept(any_database, workspace, acme):
    connection = await make_connection(workspace.id)
    await _endpoint(workspace.id)
    with pytest.raises(RuntimeError):
        async with jobs.transaction() as tx:
            await Connection.update({Connection.status: ConnectionStatus.needs_reconnect}).where(
                Connection.id == connection.id)
            await tx.emit(records.connection_changed(connection, "connected", "needs_reconnect", "refused"))
            raise RuntimeError("the change fails after the event was written")
    assert await OutboxEvent.count() == 0
    assert await WebhookDelivery.count() == 0
    assert await SyncRun.count().where(SyncRun.kind == RunKind.deliver_webhooks) == 0
    assert (await Connection.objects().where(Connection.id == connection.id).first()).status == "connected"

    async with jobs.transaction() as tx:
        await Connection.update({Connection.status: ConnectionStatus.needs_reconnect}).where(
            Connection.id == connection.id)
        await tx.emit(records.connection_changed(connection, "connected", "needs_reconnect", "refused"))
    assert await _types(workspace.id) == ["connection.needs_reconnect"]
    assert await WebhookDelivery.count() == 1
    assert await SyncRun.count().where(SyncRun.kind == RunKind.deliver_webhooks) == 1


async def test_an_event_outside_a_transaction_is_refused(database, workspace, acme):
    connection = await make_connection(workspace.id)
    with pytest.raises(NotInTransaction):
        await emit(records.connection_changed(connection, "connected", "disconnected", ""))
    assert await OutboxEvent.count() == 0


async def test_an_endpoint_filter_chooses_which_events_it_gets(database, workspace, acme):
    connection = await make_connection(workspace.id)
    everything = await _endpoint(workspace.id)
    invoices_only = await _endpoint(workspace.id)
    await WebhookEndpoint.update({WebhookEndpoint.event_types: json.dumps(["invoice.*"])}).where(
        WebhookEndpoint.id == invoices_only.id)
    async with jobs.transaction() as tx:
        await tx.emit(records.connection_changed(connection, "connected", "disconnected", ""))
    rows = await WebhookDelivery.select(WebhookDelivery.endpoint)
    assert [row["endpoint"] for row in rows] == [everything.id]


async def _sent_invoice(connection: Connection, number: str = "INV-1") -> Invoice:
    customer = Customer(workspace=connection.workspace, name="Globex", created_at=utcnow(), updated_at=utcnow())
    await customer.save()
    invoice = Invoice(workspace=connection.workspace, number=number, customer=customer.id, issue_date=utcnow().date(),
                      status=InvoiceStatus.sent, subtotal=Decimal("200.20"), total=Decimal("200.20"),
                      created_at=utcnow(), updated_at=utcnow())
    await invoice.save()
    await InvoiceLine(invoice=invoice.id, description="Work", quantity=Decimal("2"), unit_price=Decimal("100.10"),
                      line_total=Decimal("200.20")).save()
    return invoice


async def _run(kind: RunKind, connection: Connection, **params) -> SyncRun:
    queued = await jobs.enqueue(kind, workspace_id=connection.workspace, connection_id=connection.id, params=params)
    await jobs.execute(queued.id, owner="test-worker")
    return await SyncRun.objects().where(SyncRun.id == queued.id).first()


async def test_the_engine_emits_exports_payments_status_changes_imports_and_run_ends(any_database, workspace, acme):
    connection = await make_connection(workspace.id)
    invoice = await _sent_invoice(connection)
    exported = await _run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert exported.state == "done", exported.error
    assert await _types(workspace.id) == ["invoice.exported", "sync_run.finished"]

    remote_id = acme.remote_records("invoice")[0]["id"]
    acme.set_payment(remote_id, "200.20")
    await _run(RunKind.poll_status, connection)
    types = await _types(workspace.id)
    assert types[2:] == ["payment.recorded", "invoice.status_changed", "sync_run.finished"], types
    status = await OutboxEvent.objects().where(OutboxEvent.type == "invoice.status_changed").first()
    data = json.loads(status.data) if isinstance(status.data, str) else status.data
    assert (data["old_status"], data["status"], data["amount_paid"]) == ("open", "paid", "200.20")
    await _run(RunKind.poll_status, connection)  # nothing changed: only the run's end
    assert (await _types(workspace.id))[5:] == ["sync_run.finished"]

    acme.seed("customer", {"name": "Ada Lovelace", "email": "ada@example.com"})
    await _run(RunKind.import_customers, connection)
    imported = (await _types(workspace.id))[6:]
    assert "customer.created" in imported and imported[-1] == "sync_run.finished", imported
    created = await OutboxEvent.objects().where(OutboxEvent.type == "customer.created").first()
    data = json.loads(created.data) if isinstance(created.data, str) else created.data
    assert (data["name"], data["email"], data["provider"]) == ("Ada Lovelace", "ada@example.com", "acme")


async def test_a_refused_export_opens_an_issue_and_says_so(database, workspace, acme):
    connection = await make_connection(workspace.id)
    invoice = await _sent_invoice(connection)
    acme.seed("invoice", {"number": "INV-1", "status": "open", "total": "5", "balance": "5"})  # the number is taken
    run = await _run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    types = await _types(workspace.id)
    assert types == ["issue.opened", "invoice.export_failed", "sync_run.finished"], (types, run.state, run.error)
    failed = await OutboxEvent.objects().where(OutboxEvent.type == "invoice.export_failed").first()
    data = json.loads(failed.data) if isinstance(failed.data, str) else failed.data
    assert data["code"] == "duplicate_number" and data["invoice_id"] == invoice.id and data["fix"]
