"""Pages that follow background work: a run's page fills its record table while the run works and stops
asking once it has finished; an invoice page polls only while a run touching that invoice is active."""

from __future__ import annotations

from typing import Any

from ledgerbridge import jobs
from ledgerbridge.tables import ExternalLink, RecordType, RunKind, SyncRun, utcnow

from tests.conftest import Tenant, make_connection
from tests.web import seeding
from tests.web.conftest import UI


async def test_a_run_page_fills_its_record_table_live_and_stops_polling_when_it_ends(
    ui: UI, tenant: Tenant, acme: Any
) -> None:
    acme.seed("customer", {"name": "Ada L.", "email": "ada@example.com"})
    acme.seed("customer", {"name": "Initech LLC", "email": "billing@initech.example"})
    row = await make_connection(tenant.workspace_id)
    response = await ui.post("/customers/import", {"connection_id": str(row.id)})
    run_path = response.headers["location"]
    run_id = int(run_path.rsplit("/", 1)[1])

    queued = await ui.get(run_path)
    assert f'hx-get="/sync-history/{run_id}/live"' in queued and 'data-live="on"' in queued
    assert "No record yet." in queued
    # One poller only: the progress bar inside the live part does not poll on its own.
    assert queued.count("hx-trigger=") == 1
    fragment = await ui.get(f"/sync-history/{run_id}/live")
    assert 'id="run-live"' in fragment and "<html" not in fragment

    await jobs.execute(run_id)  # the worker's part, for real, against the Acme sandbox
    done = await ui.get(f"/sync-history/{run_id}/live")
    assert 'data-live="off"' in done and "hx-get" not in done and "hx-trigger" not in done
    assert "Ada L." in done and "Initech LLC" in done and "No record yet." not in done


async def test_an_invoice_page_polls_only_while_a_run_touches_that_invoice(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    row = await make_connection(ws)
    customer = await seeding.customer(ws)
    mine = await seeding.invoice(ws, customer.id, "INV-A", status="sent")
    other = await seeding.invoice(ws, customer.id, "INV-B", status="sent")

    def live(page: str) -> bool:
        return 'data-live="on"' in page and "/live\" hx-trigger" in page

    assert not live(await ui.get(f"/invoices/{mine}"))
    # Another invoice's export, and a customer import, do not make this page poll.
    other_export = await jobs.enqueue(RunKind.export_invoice, workspace_id=ws, connection_id=row.id,
                                      params={"invoice_id": other}, trigger="user:1")
    await jobs.enqueue(RunKind.import_customers, workspace_id=ws, connection_id=row.id, trigger="user:1")
    assert not live(await ui.get(f"/invoices/{mine}"))
    assert live(await ui.get(f"/invoices/{other}"))

    # A bulk export naming it does.
    bulk = await jobs.enqueue(RunKind.export_invoices, workspace_id=ws, connection_id=row.id,
                              params={"invoice_ids": [other, mine]}, trigger="user:1")
    page = await ui.get(f"/invoices/{mine}")
    assert live(page) and f"Run #{bulk.id}" in page and f"Run #{other_export.id}" not in page
    await SyncRun.update({SyncRun.state: "done"}).where(SyncRun.id == bulk.id)
    assert not live(await ui.get(f"/invoices/{mine}/live"))

    # Reading statuses back from a connection holding its copy does; from one holding none, not.
    await ExternalLink(workspace=ws, connection=row.id, record_type=RecordType.invoice, record_id=mine,
                       remote_id="remote-a", state="synced", created_at=utcnow(), updated_at=utcnow()).save()
    elsewhere = await make_connection(ws, tenant="acme-2")
    poll_there = await jobs.enqueue(RunKind.poll_status, workspace_id=ws, connection_id=elsewhere.id,
                                    trigger="schedule")
    assert not live(await ui.get(f"/invoices/{mine}/live"))
    poll = await jobs.enqueue(RunKind.poll_status, workspace_id=ws, connection_id=row.id, trigger="user:1")
    assert live(await ui.get(f"/invoices/{mine}/live"))
    await SyncRun.update({SyncRun.state: "done"}).where(SyncRun.id.is_in([poll.id, poll_there.id]))
    # A webhook's read-back of other invoices' ids does not.
    await jobs.enqueue(RunKind.poll_status, workspace_id=ws, connection_id=row.id, trigger="webhook",
                       params={"remote_ids": ["remote-b"]})
    assert not live(await ui.get(f"/invoices/{mine}/live"))
