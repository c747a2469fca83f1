"""The tax mapping page and syncing time on its own, as a browser without JS uses them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge import jobs
from ledgerbridge.tables import RunKind, RunState, SyncRun, TaxMapping, TaxRate, TimeEntry, utcnow

from tests.conftest import Tenant, make_connection
from tests.web import seeding
from tests.web.conftest import UI


async def _imported_rates(workspace_id: int, connection_id: int) -> list[TaxRate]:
    run = await jobs.enqueue(RunKind.import_tax_rates, workspace_id=workspace_id, connection_id=connection_id)
    assert await jobs.execute(run.id) == RunState.done
    rates = await TaxRate.objects().where(TaxRate.connection == connection_id)
    assert rates, "the Acme sandbox has tax rates"
    return list(rates)


async def test_tax_rates_are_mapped_by_suggestion_and_by_hand(ui: UI, tenant: Tenant, acme: Any) -> None:
    ws = tenant.workspace_id
    connection = await make_connection(ws)
    acme.seed("tax_rate", {"name": "Standard VAT", "rate": "20"})
    acme.seed("tax_rate", {"name": "Reduced VAT", "rate": "5"})
    theirs = max(await _imported_rates(ws, connection.id), key=lambda r: Decimal(r.rate))
    ours = TaxRate(workspace=ws, connection=None, name="Our sales tax", rate=theirs.rate, updated_at=utcnow())
    await ours.save()
    page = await ui.get("/tax-rates/mapping")
    assert "1 tax rate not mapped" in page and "Our sales tax" in page and theirs.name in page
    response = await ui.post("/tax-rates/mapping/suggestions", {})
    assert "Applied 1 suggestion" in await ui.follow(response)
    mapping = await TaxMapping.objects().where(TaxMapping.tax_rate == ours.id).first()
    assert mapping is not None and mapping.books_rate == theirs.id and mapping.connection == connection.id
    assert "Every tax rate is mapped" in await ui.get("/tax-rates/mapping")
    response = await ui.post("/tax-rates/mapping", {f"rate_{ours.id}": ""})
    assert "Saved 1 tax rate" in await ui.follow(response)
    assert not await TaxMapping.exists().where(TaxMapping.tax_rate == ours.id)


async def test_selected_time_is_synced_on_its_own(ui: UI, tenant: Tenant, acme: Any) -> None:
    ws = tenant.workspace_id
    connection = await make_connection(ws)
    globex = await seeding.customer(ws)
    entry = TimeEntry(workspace=ws, customer=globex.id, person="Ada", worked_on=date(2026, 11, 2),
                      hours=Decimal("2"), rate=Decimal("80"), description="Design", created_at=utcnow(),
                      updated_at=utcnow())
    await entry.save()
    page = await ui.get("/time-entries")
    assert "Sync selected to the books as billable time" in page
    response = await ui.post("/time-entries/sync", {"ids": [str(entry.id)]})
    location = response.headers["location"]
    assert location.startswith("/sync-history/")
    run = await SyncRun.objects().where(SyncRun.id == int(location.split("/")[2].split("?")[0])).first()
    assert run.kind == RunKind.export_time_entries and run.connection == connection.id
    assert await jobs.execute(run.id) == RunState.done
    assert [r["person"] for r in acme.remote_records("time")] == ["Ada"]


async def test_a_provider_without_time_records_says_so(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    await make_connection(ws, provider="xero")
    globex = await seeding.customer(ws)
    entry = TimeEntry(workspace=ws, customer=globex.id, person="Ada", worked_on=date(2026, 11, 2),
                      hours=Decimal("2"), rate=Decimal("80"), created_at=utcnow(), updated_at=utcnow())
    await entry.save()
    page = await ui.get("/time-entries")
    assert "Xero keeps no time records" in page and "Sync selected to the books" not in page
    response = await ui.post("/time-entries/sync", {"ids": [str(entry.id)]})
    assert "keeps no time records" in await ui.follow(response)
    assert not await SyncRun.exists().where(SyncRun.kind == RunKind.export_time_entries)
