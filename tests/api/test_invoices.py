"""Invoices API: exact money, totals, the life cycle, and the sync runs exports record."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from ledgerbridge.tables import Connection, WithdrawnCopy
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, finalized_invoice, make_connection, make_customer, make_invoice


async def make_tax_rate(workspace_id: int, rate: str, name: str = "VAT") -> int:
    from ledgerbridge.tables import TaxRate, utcnow

    row = TaxRate(workspace=workspace_id, name=name, rate=Decimal(rate), updated_at=utcnow())
    await row.save()
    return row.id


async def link_invoice(
    workspace_id: int, connection_id: int, invoice_id: int, *, state: str = "synced", remote_status: str = "open"
) -> None:
    """What the export engine leaves behind once an invoice exists in a provider."""
    from ledgerbridge.tables import ExternalLink, utcnow

    await ExternalLink(
        workspace=workspace_id,
        connection=connection_id,
        record_type="invoice",
        record_id=invoice_id,
        remote_id=f"R{invoice_id}",
        remote_number=f"REMOTE-{invoice_id}",
        state=state,
        remote_data=json.dumps({"status": remote_status}),
        created_at=utcnow(),
        updated_at=utcnow(),
    ).save()


async def runs() -> list[dict[str, Any]]:
    from ledgerbridge.tables import SyncRun

    return await SyncRun.select().order_by(SyncRun.id)


@pytest.fixture
async def customer(api: AsyncTestClient) -> dict[str, Any]:
    return await make_customer(api, "Globex")


# --------------------------------------------------------------------------- money and totals


async def test_money_round_trips_exactly_from_numbers_and_strings(api: AsyncTestClient, customer: dict) -> None:
    invoice = await make_invoice(
        api,
        customer["id"],
        lines=[
            {"description": "a", "quantity": 1, "unit_price": 0.1},
            {"description": "b", "quantity": "1", "unit_price": "0.2"},
        ],
    )
    assert invoice["subtotal"] == "0.30"
    assert invoice["total"] == "0.30"
    assert [line["unit_price"] for line in invoice["lines"]] == ["0.10", "0.20"]
    assert all(isinstance(value, str) for value in (invoice["total"], invoice["balance"]))


async def test_a_long_json_number_is_not_passed_through_float(api: AsyncTestClient, customer: dict) -> None:
    # As a float this would become 1234567890123.4568.
    line = '{"description": "big", "quantity": 1, "unit_price": 1234567890123.4567}'
    raw = f'{{"customer_id": {customer["id"]}, "lines": [{line}]}}'
    response = await api.post("/api/v1/invoices", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text
    line = response.json()["lines"][0]
    assert line["unit_price"] == "1234567890123.4567"
    assert line["line_total"] == "1234567890123.46"
    fetched = await api.get(f"/api/v1/invoices/{response.json()['id']}")
    assert fetched.json()["lines"][0]["unit_price"] == "1234567890123.4567"


async def test_totals_with_per_line_tax(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    vat = await make_tax_rate(tenant.workspace_id, "20")
    odd = await make_tax_rate(tenant.workspace_id, "8.875", "NY")
    invoice = await make_invoice(
        api,
        customer["id"],
        lines=[
            {"description": "Design", "quantity": "2.5", "unit_price": "19.99", "tax_rate_id": odd},
            {"description": "Hosting", "quantity": "3", "unit_price": "0.335", "tax_rate_id": vat},
            {"description": "Untaxed", "quantity": "1", "unit_price": "10"},
        ],
    )
    lines = invoice["lines"]
    assert [(line["line_total"], line["tax_amount"]) for line in lines] == [
        ("49.98", "4.44"),  # 49.975 -> 49.98, 4.435725 -> 4.44
        ("1.01", "0.20"),  # 1.005 -> 1.01 (half up), 0.202 -> 0.20
        ("10.00", "0.00"),
    ]
    assert lines[0]["tax_percent"] == "8.875"
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == ("60.99", "4.64", "65.63")


async def test_item_defaults_fill_a_line(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    vat = await make_tax_rate(tenant.workspace_id, "10")
    item = (
        await api.post(
            "/api/v1/items",
            json={"name": "Support hour", "unit_price": "80", "taxable": True, "tax_rate_id": vat},
        )
    ).json()
    invoice = await make_invoice(api, customer["id"], lines=[{"item_id": item["id"], "quantity": "1.5"}])
    line = invoice["lines"][0]
    assert (line["description"], line["unit_price"], line["tax_rate_id"]) == ("Support hour", "80.00", vat)
    assert invoice["total"] == "132.00"


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"description": "a", "quantity": "1"}], "lines[0].unit_price"),
        ([{"unit_price": "1"}], "lines[0].description"),
        ([{"description": "a", "unit_price": "1"}, {"description": "b", "unit_price": "x"}], "lines[1].unit_price"),
        ([{"description": "a", "unit_price": "1.23456"}], "lines[0].unit_price"),
        ([{"description": "a", "unit_price": "NaN"}], "lines[0].unit_price"),
        ([{"description": "a", "unit_price": "1", "quantity": True}], "lines[0].quantity"),
        ([{"item_id": 999, "unit_price": "1"}], "lines[0].item_id"),
    ],
)
async def test_bad_lines_are_400s_naming_the_field(
    api: AsyncTestClient, customer: dict, lines: list, field: str
) -> None:
    response = await api.post("/api/v1/invoices", json={"customer_id": customer["id"], "lines": lines})
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]


async def test_another_workspaces_customer_is_refused(api: AsyncTestClient, app, other_tenant: Tenant) -> None:
    async with AsyncTestClient(app=app) as other:
        other.headers.update(other_tenant.headers)
        theirs = await make_customer(other, "Theirs")
    response = await api.post("/api/v1/invoices", json={"customer_id": theirs["id"]})
    assert response.status_code == 400
    assert "customer_id" in response.json()["message"]


async def test_numbers_are_sequential_and_unique(api: AsyncTestClient, customer: dict) -> None:
    first = await make_invoice(api, customer["id"])
    second = await make_invoice(api, customer["id"])
    assert (first["number"], second["number"]) == ("INV-0001", "INV-0002")
    custom = await make_invoice(api, customer["id"], number="INV-0100")
    assert custom["number"] == "INV-0100"
    assert (await make_invoice(api, customer["id"]))["number"] == "INV-0101"
    clash = await api.post("/api/v1/invoices", json={"customer_id": customer["id"], "number": "INV-0001"})
    assert clash.status_code == 409


async def test_due_date_before_issue_date_is_refused(api: AsyncTestClient, customer: dict) -> None:
    response = await api.post(
        "/api/v1/invoices",
        json={"customer_id": customer["id"], "issue_date": "2026-03-10", "due_date": "2026-03-01"},
    )
    assert response.status_code == 400
    assert "due_date" in response.json()["message"]


# --------------------------------------------------------------------------- life cycle and exports


async def test_exporting_a_draft_is_refused(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    await make_connection(tenant.workspace_id)
    invoice = await make_invoice(api, customer["id"])
    response = await api.post(f"/api/v1/invoices/{invoice['id']}/export")
    assert response.status_code == 409
    assert response.json()["code"] == "invoice_is_draft"
    assert await runs() == []


async def test_export_records_a_queued_run(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    connection = await make_connection(tenant.workspace_id)
    await make_connection(tenant.workspace_id, "xero", status="needs_reconnect")
    invoice = await finalized_invoice(api, customer["id"])
    response = await api.post(f"/api/v1/invoices/{invoice['id']}/export")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["invoice"]["locked"] is True
    assert body["invoice"]["sync"] == "pending"
    [run] = body["runs"]
    assert (run["kind"], run["state"], run["connection_id"]) == ("export_invoice", "queued", connection.id)
    assert run["params"] == {"invoice_id": invoice["id"]}
    assert run["trigger"] == f"api_key:{tenant.api_key_prefix}"
    stored = await runs()
    assert [(r["id"], r["state"]) for r in stored] == [(run["id"], "queued")]

    again = await api.post(f"/api/v1/invoices/{invoice['id']}/export")
    assert again.json()["runs"][0]["id"] == run["id"]  # a double click queues one run
    assert len(await runs()) == 1


async def test_export_to_one_connection(
    api: AsyncTestClient, tenant: Tenant, customer: dict, app, other_tenant
) -> None:
    read_only = await make_connection(tenant.workspace_id, "quickbooks", is_books=False)
    xero = await make_connection(tenant.workspace_id, "xero")  # the workspace's books
    foreign = await make_connection(other_tenant.workspace_id, "xero")
    invoice = await finalized_invoice(api, customer["id"])
    url = f"/api/v1/invoices/{invoice['id']}/export"

    response = await api.post(url, json={"connection_id": xero.id})
    assert [run["connection_id"] for run in response.json()["runs"]] == [xero.id]
    not_books = await api.post(url, json={"connection_id": read_only.id})
    assert not_books.status_code == 409 and not_books.json()["code"] == "not_the_books"
    await Connection.update({Connection.status: "needs_reconnect"}).where(Connection.id == xero.id)
    refused = await api.post(url, json={"connection_id": xero.id})
    assert refused.status_code == 409 and refused.json()["code"] == "not_connected"
    assert (await api.post(url, json={"connection_id": foreign.id})).status_code == 404


async def test_export_without_any_connection_says_so(api: AsyncTestClient, customer: dict) -> None:
    invoice = await finalized_invoice(api, customer["id"])
    response = await api.post(f"/api/v1/invoices/{invoice['id']}/export")
    assert response.status_code == 409
    assert response.json()["code"] == "not_connected"
    assert "Integrations" in response.json()["fix"]


async def test_a_locked_invoice_refuses_edits(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    await make_connection(tenant.workspace_id)
    invoice = await finalized_invoice(api, customer["id"])
    await api.post(f"/api/v1/invoices/{invoice['id']}/export")
    response = await api.patch(f"/api/v1/invoices/{invoice['id']}", json={"memo": "changed"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invoice_locked"
    assert "revert to draft" in (body["message"] + body["fix"]).lower()
    assert (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()["memo"] == ""


async def test_finalized_invoices_are_edited_by_reverting_first(api: AsyncTestClient, customer: dict) -> None:
    invoice = await finalized_invoice(api, customer["id"])
    url = f"/api/v1/invoices/{invoice['id']}"
    assert (await api.patch(url, json={"memo": "x"})).status_code == 409
    reverted = await api.post(f"{url}/revert-to-draft")
    assert reverted.status_code == 200
    assert reverted.json()["invoice"]["status"] == "draft"
    assert reverted.json()["runs"] == []  # never exported: nothing to take back
    edited = await api.patch(url, json={"memo": "x", "lines": [{"description": "New", "unit_price": "5"}]})
    assert edited.status_code == 200
    assert edited.json()["memo"] == "x" and edited.json()["total"] == "5.00"


async def test_revert_to_draft_voids_the_provider_copy(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    connection = await make_connection(tenant.workspace_id)
    invoice = await finalized_invoice(api, customer["id"])
    await api.post(f"/api/v1/invoices/{invoice['id']}/export")
    await link_invoice(tenant.workspace_id, connection.id, invoice["id"])
    response = await api.post(f"/api/v1/invoices/{invoice['id']}/revert-to-draft")
    assert response.status_code == 200
    body = response.json()
    assert body["invoice"]["status"] == "draft" and body["invoice"]["locked"] is False
    [void] = body["runs"]
    assert void["kind"] == "export_invoice"
    # The copy is retired with the revert: the run voids it, and the invoice shows it as taken back.
    [withdrawn] = await WithdrawnCopy.objects().where(WithdrawnCopy.record_id == invoice["id"])
    assert void["params"] == {"invoice_id": invoice["id"], "action": "void", "withdrawn_id": withdrawn.id}
    assert [(w["remote_id"], w["state"]) for w in body["invoice"]["withdrawn"]] == [(f"R{invoice['id']}",
                                                                                   "withdrawing")]
    states = {r["id"]: r["state"] for r in await runs()}
    assert states[void["id"]] == "queued"
    # The export still waiting would have sent the old version: it was cancelled with the revert.
    assert sorted(states.values()) == ["cancelled", "queued"]


async def test_a_copy_still_draft_in_the_provider_is_deleted(
    api: AsyncTestClient, tenant: Tenant, customer: dict
) -> None:
    connection = await make_connection(tenant.workspace_id)
    invoice = await finalized_invoice(api, customer["id"])
    await link_invoice(tenant.workspace_id, connection.id, invoice["id"], remote_status="draft")
    response = await api.post(f"/api/v1/invoices/{invoice['id']}/revert-to-draft")
    assert response.json()["runs"][0]["params"]["action"] == "delete"


async def test_void_voids_the_provider_copy(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    connection = await make_connection(tenant.workspace_id)
    invoice = await finalized_invoice(api, customer["id"])
    await link_invoice(tenant.workspace_id, connection.id, invoice["id"])
    response = await api.post(f"/api/v1/invoices/{invoice['id']}/void")
    assert response.status_code == 200
    assert response.json()["invoice"]["status"] == "void"
    [withdrawn] = await WithdrawnCopy.objects().where(WithdrawnCopy.record_id == invoice["id"])
    assert response.json()["runs"][0]["params"] == {"invoice_id": invoice["id"], "action": "void",
                                                    "withdrawn_id": withdrawn.id}
    assert withdrawn.remote_id == f"R{invoice['id']}"
    assert (await api.post(f"/api/v1/invoices/{invoice['id']}/void")).status_code == 409
    assert (await api.post(f"/api/v1/invoices/{invoice['id']}/export")).json()["code"] == "invoice_is_void"


async def test_send_exports_where_the_connection_asks_for_it(
    api: AsyncTestClient, tenant: Tenant, customer: dict
) -> None:
    auto = await make_connection(tenant.workspace_id, "quickbooks", auto_export_on_send=True)
    await make_connection(tenant.workspace_id, "xero", auto_export_on_send=False)
    draft = await make_invoice(api, customer["id"])
    response = await api.post(f"/api/v1/invoices/{draft['id']}/send")
    assert response.status_code == 200
    body = response.json()
    assert body["invoice"]["status"] == "sent" and body["invoice"]["sent_at"]
    assert [(run["kind"], run["connection_id"]) for run in body["runs"]] == [("export_invoice", auto.id)]


async def test_send_without_auto_export_records_nothing(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    await make_connection(tenant.workspace_id)
    invoice = await finalized_invoice(api, customer["id"])
    response = await api.post(f"/api/v1/invoices/{invoice['id']}/send")
    assert response.json()["runs"] == [] and response.json()["invoice"]["locked"] is False
    assert await runs() == []


async def test_empty_drafts_cannot_be_finalized(api: AsyncTestClient, customer: dict) -> None:
    invoice = await make_invoice(api, customer["id"], lines=[])
    response = await api.post(f"/api/v1/invoices/{invoice['id']}/finalize")
    assert response.status_code in (400, 409)
    assert "no lines" in response.json()["message"]


async def test_bulk_export_records_one_run_per_connection(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    connection = await make_connection(tenant.workspace_id)
    ids = [(await finalized_invoice(api, customer["id"]))["id"] for _ in range(3)]
    response = await api.post("/api/v1/invoices/export", json={"invoice_ids": ids})
    assert response.status_code == 200, response.text
    [run] = response.json()["runs"]
    assert (run["kind"], run["connection_id"], run["progress_total"]) == ("export_invoices", connection.id, 3)
    assert run["params"] == {"invoice_ids": ids}
    listed = (await api.get("/api/v1/invoices", params={"sync": "pending"})).json()
    assert sorted(invoice["id"] for invoice in listed["items"]) == sorted(ids)


async def test_bulk_export_refuses_drafts_and_unknown_ids(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    await make_connection(tenant.workspace_id)
    done = await finalized_invoice(api, customer["id"])
    draft = await make_invoice(api, customer["id"])
    refused = await api.post("/api/v1/invoices/export", json={"invoice_ids": [done["id"], draft["id"]]})
    assert refused.status_code == 409
    assert refused.json()["code"] == "invoice_is_draft"
    assert draft["number"] in refused.json()["message"]
    unknown = await api.post("/api/v1/invoices/export", json={"invoice_ids": [done["id"], 9999]})
    assert unknown.status_code == 404
    empty = await api.post("/api/v1/invoices/export", json={"invoice_ids": []})
    assert empty.status_code == 400 and "invoice_ids" in empty.json()["message"]
    assert await runs() == []


async def test_a_failure_after_recording_leaves_no_run_and_no_change(
    api: AsyncTestClient, tenant: Tenant, customer: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerbridge import jobs

    await make_connection(tenant.workspace_id)
    invoice = await finalized_invoice(api, customer["id"])
    original = jobs.JobTransaction.record
    recorded: list[int] = []

    async def record_then_fail(self: jobs.JobTransaction, *args: Any, **kwargs: Any) -> Any:
        run = await original(self, *args, **kwargs)
        recorded.append(run.id)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(jobs.JobTransaction, "record", record_then_fail)
    dispatched: list[int] = []
    monkeypatch.setattr(jobs, "dispatch", lambda run_id, delay=0.0: dispatched.append(run_id))
    response = await api.post(f"/api/v1/invoices/{invoice['id']}/export")

    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "disk is full" not in response.text and "Traceback" not in response.text
    assert recorded, "the run was recorded inside the transaction before the failure"
    assert await runs() == []
    assert dispatched == []
    assert (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()["locked"] is False


async def test_invoice_response_carries_links_and_issues(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    from ledgerbridge.tables import SyncIssue, utcnow

    connection = await make_connection(tenant.workspace_id)
    invoice = await finalized_invoice(api, customer["id"])
    await link_invoice(tenant.workspace_id, connection.id, invoice["id"])
    body = (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()
    [link] = body["links"]
    assert (link["connection_id"], link["remote_id"], link["remote_number"]) == (
        connection.id,
        f"R{invoice['id']}",
        f"REMOTE-{invoice['id']}",
    )
    assert link["remote_data"] == {"status": "open"}
    assert body["sync"] == "synced" and body["issues"] == []
    await SyncIssue(
        workspace=tenant.workspace_id,
        connection=connection.id,
        record_type="invoice",
        record_id=invoice["id"],
        code="item_not_mapped",
        message="An item has no income account.",
        first_seen_at=utcnow(),
        last_seen_at=utcnow(),
    ).save()
    body = (await api.get(f"/api/v1/invoices/{invoice['id']}")).json()
    assert [issue["code"] for issue in body["issues"]] == ["item_not_mapped"]
    assert body["sync"] == "error"


async def test_sync_filter_agrees_with_the_badge(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    connection = await make_connection(tenant.workspace_id)
    not_exported = await make_invoice(api, customer["id"])
    pending = await finalized_invoice(api, customer["id"])
    await api.post(f"/api/v1/invoices/{pending['id']}/export")
    expected = {"not_exported": not_exported["id"], "pending": pending["id"]}
    for state, badge in (
        ("synced", "synced"),
        ("needs_sync", "needs_sync"),
        ("warning", "warning"),
        ("error", "error"),
    ):
        invoice = await finalized_invoice(api, customer["id"])
        await link_invoice(tenant.workspace_id, connection.id, invoice["id"], state=state)
        expected[badge] = invoice["id"]
    everything = (await api.get("/api/v1/invoices")).json()["items"]
    assert {invoice["id"]: invoice["sync"] for invoice in everything} == {v: k for k, v in expected.items()}
    for badge, invoice_id in expected.items():
        listed = (await api.get("/api/v1/invoices", params={"sync": badge})).json()
        assert [invoice["id"] for invoice in listed["items"]] == [invoice_id], badge
    assert (await api.get("/api/v1/invoices", params={"sync": "bogus"})).status_code == 400


async def test_status_and_customer_filters(api: AsyncTestClient, customer: dict) -> None:
    other = await make_customer(api, "Other")
    draft = await make_invoice(api, customer["id"])
    final = await finalized_invoice(api, other["id"])
    by_status = (await api.get("/api/v1/invoices", params={"status": "finalized"})).json()
    assert [i["id"] for i in by_status["items"]] == [final["id"]]
    by_customer = (await api.get("/api/v1/invoices", params={"customer_id": customer["id"]})).json()
    assert [i["id"] for i in by_customer["items"]] == [draft["id"]]


async def test_upsert_by_external_ref(api: AsyncTestClient, tenant: Tenant, customer: dict) -> None:
    await make_connection(tenant.workspace_id)
    body = {"customer_id": customer["id"], "lines": [{"description": "Work", "quantity": "2", "unit_price": "10.5"}]}
    first = await api.put("/api/v1/invoices/by-ref/order-7", json=body)
    assert first.status_code == 201
    again = await api.put("/api/v1/invoices/by-ref/order-7", json=body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert (await api.get("/api/v1/invoices", params={"external_ref": "order-7"})).json()["total"] == 1

    invoice_id = first.json()["id"]
    await api.post(f"/api/v1/invoices/{invoice_id}/finalize")
    await api.post(f"/api/v1/invoices/{invoice_id}/export")
    retried = await api.put("/api/v1/invoices/by-ref/order-7", json=body)
    assert retried.status_code == 200, retried.text  # a retried push of the same invoice is harmless
    changed = await api.put(
        "/api/v1/invoices/by-ref/order-7", json={**body, "lines": [{"description": "Work", "unit_price": "99"}]}
    )
    assert changed.status_code == 409 and changed.json()["code"] == "invoice_locked"


async def test_delete_only_unexported_drafts(api: AsyncTestClient, customer: dict) -> None:
    draft = await make_invoice(api, customer["id"])
    assert (await api.delete(f"/api/v1/invoices/{draft['id']}")).status_code == 204
    final = await finalized_invoice(api, customer["id"])
    response = await api.delete(f"/api/v1/invoices/{final['id']}")
    assert response.status_code == 409 and "Void" in response.json()["fix"]


async def test_another_workspaces_invoice_is_not_found(
    api: AsyncTestClient, app, customer: dict, other_tenant: Tenant
) -> None:
    invoice = await finalized_invoice(api, customer["id"])
    async with AsyncTestClient(app=app) as other:
        other.headers.update(other_tenant.headers)
        for method, path in (
            ("GET", ""),
            ("POST", "/export"),
            ("POST", "/void"),
            ("POST", "/revert-to-draft"),
            ("POST", "/send"),
        ):
            response = await other.request(method, f"/api/v1/invoices/{invoice['id']}{path}")
            assert response.status_code == 404, (method, path)
        assert (await other.get("/api/v1/invoices")).json()["total"] == 0
