"""Taxes and time in step with the books, against every provider's sandbox over real HTTP.

Taxes: our own tax rates reach the books only through a mapping (suggested by name and percent); an
unmapped rate stops the export with an issue before anything is sent, a mapped one lands taxed, and
a provider that recomputes tax onto another total leaves a tax warning naming both totals.
Time: entries synced on their own go as billable time and an edit updates the same remote record;
a provider without time records refuses clearly, before anything is queued.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from ledgerbridge import invoicing, jobs
from ledgerbridge.domain.tax_mappings import services as tax_services
from ledgerbridge.domain.tax_mappings.schemas import ApplySuggestionsIn, TaxRateIn
from ledgerbridge.domain.time_entries import services as time_services
from ledgerbridge.domain.time_entries.schemas import TimeEntryPatch, TimeSyncIn
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.plugins import get_registry
from ledgerbridge.sync.tax_mapping import TAX_CODE_PER_LINE
from ledgerbridge.tables import (
    Connection,
    Customer,
    ExternalLink,
    Invoice,
    InvoiceLine,
    OutboundWrite,
    RunKind,
    RunState,
    SyncIssue,
    SyncRun,
    TaxRate,
    TimeEntry,
    utcnow,
)
from ledgerbridge_testing.conformance.steps import (
    finish,
    host_app,
    imported,
    local_invoice,
    map_everything,
    remote_of,
    run,
)
from ledgerbridge_testing.world import ProviderWorld

pytestmark = pytest.mark.asyncio




async def taxed_invoice(connection: Connection, number: str, rate: TaxRate | None) -> Invoice:
    """An invoice whose single line carries `rate` (or none), with totals computed as the API does."""
    invoice = await local_invoice(connection, number)
    await InvoiceLine.update({InvoiceLine.tax_rate: rate.id if rate else None}).where(
        InvoiceLine.invoice == invoice.id)
    await invoicing.recalculate(invoice.id)
    fresh = await Invoice.objects().where(Invoice.id == invoice.id).first()
    assert fresh is not None
    return fresh


def remote_total(world: ProviderWorld, connection: Connection, remote_id: str) -> Decimal:
    row = next(r for r in world.table(connection.tenant_id, "Invoices") if remote_id in r.values())
    for key in ("Total", "Amount", "total", "amount"):
        if key in row:
            return Decimal(row[key])
    raise AssertionError(f"no total in the accountant's row {row}")


async def books_taxed_rate(connection: Connection) -> TaxRate:
    rates = await TaxRate.objects().where((TaxRate.connection == connection.id) & TaxRate.active.eq(True))
    positive = sorted((r for r in rates if Decimal(r.rate) > 0), key=lambda r: (-Decimal(r.rate), r.id))
    assert positive, "the sandbox seeds at least one positive tax rate"
    return positive[0]


@pytest.mark.conformance("export")
async def test_an_unmapped_rate_stops_the_export_and_a_suggested_mapping_exports_it_taxed(
        world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    caller = host_app(connection)
    theirs = await books_taxed_rate(connection)
    ours = await tax_services.create_tax_rate(
        caller, data=TaxRateIn(name="Sales tax (ours)", rate=Decimal(theirs.rate)))
    odd = await tax_services.create_tax_rate(caller, data=TaxRateIn(name="Odd levy", rate=Decimal("3.3333")))
    rate = await TaxRate.objects().where(TaxRate.id == ours.id).first()
    invoice = await taxed_invoice(connection, "LB-T100", rate)
    assert invoice.tax_total > 0

    refused = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert refused.failed == 1
    issue = await SyncIssue.objects().where(SyncIssue.record_id == invoice.id).first()
    assert issue.code == "tax_not_mapped" and "Sales tax (ours)" in issue.message and issue.fix
    # Nothing was sent: neither the invoice nor its new customer reached the books.
    assert "LB-T100" not in world.invoice_numbers(connection.tenant_id)
    assert "New Client LB-T100" not in str(world.table(connection.tenant_id, "Customers"))

    listed = await tax_services.list_mappings(caller)
    mine = {item.tax_rate_id: item for item in listed.items}
    assert mine[ours.id].suggested_rate_id is not None and mine[ours.id].books_rate_id is None
    suggested = await TaxRate.objects().where(TaxRate.id == mine[ours.id].suggested_rate_id).first()
    assert suggested.connection == connection.id and Decimal(suggested.rate) == Decimal(theirs.rate)
    assert mine[odd.id].suggested_rate_id is None  # no books' rate shares its name or percent
    applied = await tax_services.apply_suggestions(caller, data=ApplySuggestionsIn())
    after = {item.tax_rate_id: item for item in applied.items}
    assert after[ours.id].books_rate_id == suggested.id and after[odd.id].books_rate_id is None
    assert applied.unmapped == listed.unmapped - 1

    exported = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert exported.state == RunState.done and exported.failed == 0, exported.error
    link = await remote_of(connection, invoice)
    assert link is not None and link.state == "synced"
    assert remote_total(world, connection, link.remote_id) == invoice.total  # taxed there as here
    assert (await SyncIssue.objects().where(SyncIssue.record_id == invoice.id).first()).resolved_at is not None


@pytest.mark.conformance("export")
async def test_a_provider_total_other_than_ours_is_a_tax_warning_naming_both(world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    caller = host_app(connection)
    theirs = await books_taxed_rate(connection)
    mismatched = Decimal(theirs.rate) + Decimal("1.5")
    ours = await tax_services.create_tax_rate(caller, data=TaxRateIn(name="Local levy", rate=mismatched))
    await tax_services.assign(connection.workspace, connection.id, {ours.id: theirs.id})
    invoice = await taxed_invoice(connection, "LB-T200", await TaxRate.objects().where(TaxRate.id == ours.id).first())
    exported = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert exported.state == RunState.done and exported.failed == 0, exported.error
    link = await remote_of(connection, invoice)
    theirs_total = remote_total(world, connection, link.remote_id)
    if world.key == "quickbooks":  # QuickBooks computes tax from its own code's rate
        assert theirs_total != invoice.total
    if theirs_total != invoice.total:
        assert "Tax:" in link.message
        assert invoicing.format_money(theirs_total) in link.message
        assert invoicing.format_money(invoice.total) in link.message
    else:
        assert "Tax:" not in link.message


@pytest.mark.conformance("export")
async def test_a_company_needing_a_tax_code_per_line_refuses_a_line_without_one(world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    # What the QuickBooks plugin records for a non-US company (tests/quickbooks checks it does).
    await Connection.update({Connection.provider_data: {**jobs.loads(connection.provider_data),
                                                        TAX_CODE_PER_LINE: True}}).where(Connection.id == connection.id)
    connection = await Connection.objects().where(Connection.id == connection.id).first()
    invoice = await taxed_invoice(connection, "LB-T300", None)
    refused = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert refused.failed == 1
    issue = await SyncIssue.objects().where(SyncIssue.record_id == invoice.id).first()
    assert issue.code == "tax_code_required" and "Line 1" in issue.message and issue.fix
    assert "LB-T300" not in world.invoice_numbers(connection.tenant_id)
    theirs = await books_taxed_rate(connection)
    await InvoiceLine.update({InvoiceLine.tax_rate: theirs.id}).where(InvoiceLine.invoice == invoice.id)
    await invoicing.recalculate(invoice.id)
    exported = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert exported.failed == 0, exported.error
    assert world.invoice_numbers(connection.tenant_id).count("LB-T300") == 1


# --------------------------------------------------------------------------- time


async def time_entry(connection: Connection, hours: str = "1.50") -> TimeEntry:
    now = utcnow()
    customer = Customer(workspace=connection.workspace, name="Time Client", email="time@client.example",
                        created_at=now, updated_at=now)
    await customer.save()
    entry = TimeEntry(workspace=connection.workspace, customer=customer.id, person="Emily Platt",
                      person_email="emily@example.com", worked_on=date(2026, 11, 3), hours=Decimal(hours),
                      rate=Decimal("80"), description="Design review", created_at=now, updated_at=now)
    await entry.save()
    return entry


@pytest.mark.conformance("export")
async def test_time_synced_on_its_own_then_edited_updates_the_same_remote_record(world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    caller = host_app(connection)
    entry = await time_entry(connection)
    if not get_registry().provider(world.key).capabilities.time_activities:
        with pytest.raises(LedgerBridgeError) as refused:
            await time_services.sync_entries(caller, data=TimeSyncIn(time_entry_ids=[entry.id]))
        assert refused.value.code == "time_not_supported" and refused.value.fix
        assert "time" in refused.value.message
        assert not await SyncRun.exists().where(SyncRun.kind == RunKind.export_time_entries)
        return
    queued = await time_services.sync_entries(caller, data=TimeSyncIn(time_entry_ids=[entry.id]))
    assert queued.connection_id == connection.id and queued.count == 1
    first = await finish(queued.run_id)
    assert first.state == RunState.done and first.failed == 0, first.error
    link = await ExternalLink.objects().where((ExternalLink.record_type == "time_entry")
                                              & (ExternalLink.record_id == entry.id)).first()
    assert link is not None and link.remote_id

    await time_services.update_entry(caller, entry_id=entry.id, data=TimeEntryPatch(hours=Decimal("2.25")))
    edit_run = await SyncRun.objects().where((SyncRun.kind == RunKind.export_time_entries)
                                             & (SyncRun.id != queued.run_id)).first()
    assert edit_run is not None, "the edit queued the update with itself"
    second = await finish(edit_run.id)
    assert second.state == RunState.done and second.failed == 0, second.error
    again = await ExternalLink.objects().where(ExternalLink.id == link.id).first()
    assert again.remote_id == link.remote_id and again.state == "synced"
    writes = await OutboundWrite.select(OutboundWrite.operation).where(
        (OutboundWrite.record_type == "time_entry") & (OutboundWrite.record_id == entry.id)
    ).order_by(OutboundWrite.id)
    assert [w["operation"] for w in writes] == ["create", "update"]
