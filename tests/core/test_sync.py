"""The job handlers against the Acme test provider: import links and archives, export exactly once,
read-back shows payments and edits. (Provider-specific behaviour is tested with each provider.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from ledgerbridge import jobs
from ledgerbridge.tables import (
    Customer,
    ExternalLink,
    Invoice,
    InvoiceLine,
    Item,
    OutboundWrite,
    RunKind,
    RunState,
    SyncIssue,
    SyncRun,
    WithdrawnCopy,
    utcnow,
)


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(jobs, "_dispatcher", lambda run_id, delay: None)


async def run(kind, connection, **params) -> SyncRun:
    queued = await jobs.enqueue(kind, workspace_id=connection.workspace, connection_id=connection.id, params=params)
    await jobs.execute(queued.id, owner="test-worker")
    return await SyncRun.objects().where(SyncRun.id == queued.id).first()


async def test_import_links_existing_creates_new_and_archives_deleted(connection, acme):
    local = Customer(workspace=connection.workspace, name="Ada Lovelace", email="ada@example.com",
                     created_at=utcnow(), updated_at=utcnow())
    await local.save()
    ada = acme.seed("customer", {"name": "Ada L.", "email": "ADA@example.com"})
    acme.seed("customer", {"name": "Grace Hopper", "email": "grace@example.com"})
    acme.seed("customer", {"name": "Alan Turing"})
    account = acme.seed("account", {"name": "Sales"})
    acme.seed("item", {"name": "Consulting", "price": "150.00", "account": account})

    result = await run(RunKind.import_all, connection)
    assert result.state == RunState.done, result.error
    assert (result.linked, result.created) == (1, 4)  # Ada linked; Grace, Alan, the account, the item created
    assert await Customer.count().where(Customer.workspace == connection.workspace) == 3
    link = await ExternalLink.objects().where(ExternalLink.remote_id == ada).first()
    assert link.record_id == local.id
    item = await Item.objects().first()
    assert item.unit_price == Decimal("150.00") and item.income_account is not None
    assert {"import_accounts", "import_tax_rates", "import_customers", "import_items"} <= set(acme.CALLS)

    acme.delete_record("customer", ada)  # the bookkeeper deletes Ada in Acme
    again = await run(RunKind.import_customers, connection)
    assert again.state == RunState.done
    archived = await Customer.objects().where(Customer.id == local.id).first()
    assert archived.active is False and archived.archived_at is not None  # kept, archived
    assert ("sync_run_finished", {"run_id": again.id, "kind": "import_customers", "state": "done"}) in acme.EVENTS


async def _sent_invoice(connection, number="INV-0001", status="sent"):
    customer = Customer(workspace=connection.workspace, name="Grace", email="g@example.com", created_at=utcnow(),
                        updated_at=utcnow())
    await customer.save()
    invoice = Invoice(workspace=connection.workspace, number=number, customer=customer.id,
                      issue_date=date(2026, 11, 2), status=status, subtotal=Decimal("300.30"),
                      total=Decimal("300.30"), created_at=utcnow(), updated_at=utcnow())
    await invoice.save()
    await InvoiceLine(invoice=invoice.id, description="Work", quantity=Decimal("3"), unit_price=Decimal("100.10"),
                      line_total=Decimal("300.30")).save()
    return invoice


async def test_export_creates_the_customer_then_the_invoice_once(connection, acme):
    invoice = await _sent_invoice(connection)
    first = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert first.state == RunState.done, first.error
    assert [r["name"] for r in acme.remote_records("customer")] == ["Grace"]
    assert [(r["number"], r["total"]) for r in acme.remote_records("invoice")] == [("INV-0001", "300.30")]
    assert ("invoice_exported", {"invoice_id": invoice.id, "remote_id": "2"}) in acme.EVENTS
    assert (await Invoice.objects().where(Invoice.id == invoice.id).first()).locked
    # Exporting again sends nothing new: unchanged.
    second = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert second.skipped == 1 and len(acme.remote_records("invoice")) == 1


async def test_a_write_left_pending_by_a_crash_is_resent_with_the_same_key(connection, acme):
    """The worker died after the provider applied the write: the retry replays, it does not duplicate."""
    invoice = await _sent_invoice(connection)
    await run(RunKind.export_customer, connection, customer_id=invoice.customer)
    write = OutboundWrite(workspace=connection.workspace, connection=connection.id, record_type="invoice",
                          record_id=invoice.id, operation="create", idempotency_key="lb-crashed-1",
                          created_at=utcnow())
    await write.save()
    from ledgerbridge.sync.exporting import build_invoice_data

    context = jobs.RunContext(run=await jobs.enqueue(RunKind.export_invoice, workspace_id=1))
    data = await build_invoice_data(context, connection, invoice)
    acme.apply_invoice(data, "lb-crashed-1")  # applied before the crash
    result = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert result.state == RunState.done, result.error
    assert len(acme.remote_records("invoice")) == 1
    assert (await OutboundWrite.objects().where(OutboundWrite.id == write.id).first()).state == "applied"


async def test_drafts_are_never_exported_and_say_why(connection, acme):
    invoice = await _sent_invoice(connection, status="draft")
    result = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert result.failed == 1 and acme.remote_records("invoice") == []
    issue = await SyncIssue.objects().where(SyncIssue.record_id == invoice.id).first()
    assert "draft" in issue.message and "Finalize" in issue.fix


async def test_unmapped_item_ends_as_an_issue_on_the_invoice(connection, acme):
    invoice = await _sent_invoice(connection)
    item = Item(workspace=connection.workspace, name="Design", created_at=utcnow(), updated_at=utcnow())
    await item.save()
    await InvoiceLine.update({InvoiceLine.item: item.id}).where(InvoiceLine.invoice == invoice.id)
    result = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert result.failed == 1
    issue = await SyncIssue.objects().where(SyncIssue.record_id == invoice.id).first()
    assert issue.code == "item_not_mapped" and "Design" in issue.message and "income account" in issue.fix


async def test_duplicate_number_is_reported_and_nothing_is_created(connection, acme):
    acme.seed("invoice", {"number": "INV-0001", "total": "5", "balance": "5", "status": "open"})
    invoice = await _sent_invoice(connection)
    result = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert result.failed == 1 and len(acme.remote_records("invoice")) == 1
    issue = await SyncIssue.objects().where(SyncIssue.record_id == invoice.id).first()
    assert issue.code == "duplicate_number"


async def test_bulk_export_resumes_from_its_checkpoint(connection, acme):
    invoices = [await _sent_invoice(connection, number=f"INV-{n}") for n in range(3)]
    queued = await jobs.enqueue(RunKind.export_invoices, workspace_id=connection.workspace,
                                connection_id=connection.id, params={"invoice_ids": [i.id for i in invoices]})
    await SyncRun.update({SyncRun.checkpoint: f'{{"done": [{invoices[0].id}]}}'}).where(SyncRun.id == queued.id)
    await jobs.execute(queued.id, owner="w")
    done = await SyncRun.objects().where(SyncRun.id == queued.id).first()
    assert done.state == RunState.done and done.progress_done == 3
    assert sorted(r["number"] for r in acme.remote_records("invoice")) == ["INV-1", "INV-2"]


async def test_status_poll_shows_payments_void_and_edits(connection, acme):
    invoice = await _sent_invoice(connection)
    await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    remote_id = acme.remote_records("invoice")[0]["id"]
    acme.set_payment(remote_id, "100.10")
    polled = await run(RunKind.poll_status, connection)
    assert polled.state == RunState.done, polled.error
    refreshed = await Invoice.objects().where(Invoice.id == invoice.id).first()
    assert refreshed.amount_paid == Decimal("100.10")
    assert ("invoice_status_changed", {"invoice_id": invoice.id, "old": "open", "new": "partially_paid"}) in acme.EVENTS
    await run(RunKind.poll_status, connection)  # the same payment is not mirrored twice
    assert (await Invoice.objects().where(Invoice.id == invoice.id).first()).amount_paid == Decimal("100.10")

    void = await run(RunKind.export_invoice, connection, invoice_id=invoice.id, action="void")
    assert void.state == RunState.done and "void_invoice" in acme.CALLS
    link = await ExternalLink.objects().where(ExternalLink.record_type == "invoice").first()
    assert link.remote_id is None and link.state == "needs_sync"  # retired: the next export makes a new copy
    copy = await WithdrawnCopy.objects().first()
    assert (copy.remote_id, copy.state, copy.action) == (remote_id, "withdrawn", "void")
    assert [r["status"] for r in acme.remote_records("invoice")] == ["void"]


async def test_a_second_connection_links_records_the_first_one_already_linked(connection, acme):
    """Connecting another company must link existing customers and items, not copy them."""
    from tests.conftest import make_connection

    acme.seed("customer", {"name": "Ada", "email": "ada@example.com"})
    account = acme.seed("account", {"name": "Sales"})
    acme.seed("item", {"name": "Consulting", "price": "90.00", "account": account})
    assert (await run(RunKind.import_all, connection)).state == RunState.done
    second = await make_connection(connection.workspace, tenant="acme-2")
    result = await run(RunKind.import_all, second)
    assert result.state == RunState.done, result.error
    assert await Customer.count() == 1 and await Item.count() == 1
    assert result.linked == 2
