"""Our tax rates and their mapping to the books' rates, through the REST API."""

from __future__ import annotations

from typing import Any

from ledgerbridge import jobs
from ledgerbridge.tables import RunKind, RunState, TaxRate
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant
from tests.conftest import make_connection


async def test_own_rates_are_created_suggested_mapped_and_unmapped(api: AsyncTestClient, tenant: Tenant,
                                                                   acme: Any) -> None:
    ws = tenant.workspace_id
    connection = await make_connection(ws)
    acme.seed("tax_rate", {"name": "Standard VAT", "rate": "20"})
    acme.seed("tax_rate", {"name": "Reduced VAT", "rate": "5"})
    run = await jobs.enqueue(RunKind.import_tax_rates, workspace_id=ws, connection_id=connection.id)
    assert await jobs.execute(run.id) == RunState.done
    standard = await TaxRate.objects().where((TaxRate.connection == connection.id)
                                             & (TaxRate.name == "Standard VAT")).first()
    reduced = await TaxRate.objects().where((TaxRate.connection == connection.id)
                                            & (TaxRate.name == "Reduced VAT")).first()

    created = await api.post("/api/v1/tax-rates", json={"name": "VAT 20", "rate": "20"})
    assert created.status_code == 201, created.text
    ours = created.json()
    assert ours["connection_id"] is None and ours["rate"] == "20.0000"
    assert (await api.post("/api/v1/tax-rates", json={"name": "Bad", "rate": "1.23456"})).status_code == 400

    listed = (await api.get("/api/v1/tax-mappings")).json()
    assert listed["connection_id"] == connection.id and listed["unmapped"] == 1
    [row] = listed["items"]  # the books' own rates are not listed: they need no mapping
    assert (row["tax_rate_id"], row["books_rate_id"], row["suggested_rate_id"]) == (ours["id"], None, standard.id)

    applied = (await api.post("/api/v1/tax-mappings/apply-suggestions", json={})).json()
    assert applied["unmapped"] == 0 and applied["items"][0]["books_rate_id"] == standard.id

    changed = await api.put(f"/api/v1/tax-mappings/{ours['id']}", json={"books_rate_id": reduced.id})
    assert changed.status_code == 200, changed.text
    assert changed.json()["items"][0]["books_rate_name"] == "Reduced VAT"

    refused = await api.put(f"/api/v1/tax-mappings/{standard.id}", json={"books_rate_id": reduced.id})
    assert refused.status_code == 400 and "needs no mapping" in refused.json()["message"]
    foreign = await api.put(f"/api/v1/tax-mappings/{ours['id']}", json={"books_rate_id": ours["id"]})
    assert foreign.status_code == 400 and foreign.json()["fix"]

    unmapped = await api.put(f"/api/v1/tax-mappings/{ours['id']}", json={"books_rate_id": None})
    assert unmapped.json()["unmapped"] == 1


async def test_without_a_connection_there_is_nothing_to_map(api: AsyncTestClient, tenant: Tenant) -> None:
    response = await api.get("/api/v1/tax-mappings")
    assert response.status_code == 409 and response.json()["code"] == "not_connected"
