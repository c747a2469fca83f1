"""The invoice and time forms' drop-downs, built once per page (`ledgerbridge_web.option_lists`): the
stored or posted choice is the one selected, on each line row its own, names are escaped, and the
form's render does not grow with the rows (only with the choices, which it must list)."""

from __future__ import annotations

import re

from ledgerbridge.tables import Invoice, InvoiceLine

from tests.conftest import Tenant
from tests.web import seeding
from tests.web.conftest import UI

SELECT = re.compile(r'<select id="([^"]+)"[^>]*>(.*?)</select>', re.S)


def _selected(page: str) -> dict[str, list[str]]:
    """Each drop-down's id -> the values of its selected options."""
    return {name: re.findall(r'<option value="([^"]*)" selected>', body) for name, body in SELECT.findall(page)}


async def test_each_line_and_the_customer_show_their_own_choice(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    customers = [await seeding.customer(ws, name) for name in ("Acme", 'Tom & "Jerry" <Ltd>', "Zed")]
    items = [await seeding.item(ws, name, "10") for name in ("Alpha", "Beta", "Gamma")]
    invoice_id = await seeding.invoice(ws, customers[1].id, "F-1", status="draft")
    await InvoiceLine.update({InvoiceLine.item: items[2].id}).where(InvoiceLine.invoice == invoice_id)
    line = await InvoiceLine.objects().where(InvoiceLine.invoice == invoice_id).first()
    await InvoiceLine.insert(InvoiceLine(invoice=invoice_id, position=1, item=items[0].id, description="Second",
                                         quantity=line.quantity, unit_price=line.unit_price,
                                         line_total=line.line_total, tax_amount=line.tax_amount))

    edit = await ui.get(f"/invoices/{invoice_id}/edit")
    chosen = _selected(edit)
    assert chosen["f-customer_id"] == [str(customers[1].id)]
    assert chosen["line-0-item_id"] == [str(items[2].id)] and chosen["line-1-item_id"] == [str(items[0].id)]
    assert chosen["line-2-item_id"] == chosen["line-3-item_id"] == [], "the empty rows choose no item"
    assert "Tom &amp; &#34;Jerry&#34; &lt;Ltd&gt;" in edit and "<Ltd>" not in edit
    rows = dict(SELECT.findall(edit))
    assert all(rows[f"line-{n}-item_id"].count("<option") == 4 for n in range(4)), "(no item) and every item"

    blank = await ui.get("/invoices/new")
    assert _selected(blank)["f-customer_id"] == [], "nothing chosen for a new invoice"
    assert _selected(await ui.get(f"/invoices/new?customer_id={customers[2].id}"))["f-customer_id"] == [
        str(customers[2].id)]
    assert _selected(await ui.get(f"/invoices/new?customer_id={customers[2].id}9"))["f-customer_id"] == [], \
        "an id that is a prefix of another's never selects it"
    refused = await ui.client.post("/invoices/new", data={
        "customer_id": str(customers[0].id), "issue_date": "not a date", "line_count": "1",
        "line-0-item_id": str(items[1].id), "line-0-quantity": "1", "_csrf_token": ui.token},
        headers={"accept": "text/html"}, follow_redirects=False)
    assert refused.status_code == 400
    again = _selected(refused.text)
    assert again["f-customer_id"] == [str(customers[0].id)] and again["line-0-item_id"] == [str(items[1].id)]
    assert await Invoice.count().where(Invoice.number != "F-1") == 0


async def test_the_time_form_keeps_its_choices(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    globex = await seeding.customer(ws, "Globex")
    await seeding.customer(ws, "Initech")
    await ui.get("/time-entries/new")  # hands out the form token
    refused = await ui.client.post("/time-entries/new", data={
        "customer_id": str(globex.id), "person": "", "worked_on": "2026-11-02", "hours": "2",
        "_csrf_token": ui.token}, headers={"accept": "text/html"}, follow_redirects=False)
    assert refused.status_code == 400
    chosen = _selected(refused.text)
    assert chosen["f-customer_id"] == [str(globex.id)] and chosen["f-item_id"] == []
