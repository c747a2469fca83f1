"""Exporting through the plugin: contacts, items, invoices as draft or approved, batches, idempotent replays,
the lost-response lookup, payments, void and delete, and reading statuses back."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from ledgerbridge.errors import ProviderError, UncertainWrite
from ledgerbridge.provider import CustomerData, InvoiceData, InvoiceLineData, ItemData, LinkRef, PaymentData
from ledgerbridge_xero import plugin
from xero_plugin_harness import Connected

pytest_plugins = ("xero_plugin_harness",)


def invoice_data(customer_id: str, number: str = "LB-1", amount: str = "120.00", tax_id: str | None = None,
                 tax_name: str = "", item_id: str | None = None, send_number: bool = True,
                 local_id: int = 1) -> InvoiceData:
    total = Decimal(amount)
    line = InvoiceLineData(description="Work", quantity=Decimal("2"), unit_price=total / 2, line_total=total,
                           item_id=item_id, item_name="Consulting", tax_rate_id=tax_id, tax_rate_name=tax_name)
    return InvoiceData(local_id=local_id, number=number, customer_id=customer_id, issue_date=date(2026, 3, 2),
                       due_date=date(2026, 4, 1), currency="NZD", lines=(line,), subtotal=total,
                       tax_total=Decimal("0"), total=total, memo="Thanks", send_number=send_number)


async def a_customer(xero: Connected, name: str = "New Client") -> str:
    result = await plugin.export_customer(session=xero.session, customer=CustomerData(
        local_id=1, name=name, given_name="Nia", family_name="Obi", email="nia@client.example"),
        link=None, idempotency_key=f"k-c-{name}")
    return result.remote_id


async def an_item(xero: Connected, name: str = "Consulting hours") -> str:
    result = await plugin.export_item(session=xero.session, item=ItemData(
        local_id=2, name=name, unit_price=Decimal("60"), income_account_id="200"), link=None,
        idempotency_key=f"k-i-{name}")
    return result.remote_id


def mapped(xero: Connected, **options: object) -> Connected:
    """Give the connection a default income account (code 200), as the mapping page's "assign to all" does."""
    xero.session = xero.new_session(default_income_account_id="200", **options)
    return xero


def invoices_numbered(xero: Connected, number: str) -> list[dict]:
    body = xero.xero.ok(xero.xero.get("Invoices", params={"InvoiceNumbers": number}))
    return body["Invoices"]


async def test_contacts_create_update_archive_and_names_xero_already_has(xero_connect):
    xero: Connected = await xero_connect()
    created = await plugin.export_customer(session=xero.session, customer=CustomerData(
        local_id=1, name="Nia Obi Studio", email="nia@client.example", phone="555-0199"), link=None,
        idempotency_key="k1")
    assert created.created and created.record.name == "Nia Obi Studio"
    updated = await plugin.export_customer(session=xero.session, customer=CustomerData(
        local_id=1, name="Nia Obi Studio Ltd", email="nia@client.example", active=False),
        link=LinkRef(created.remote_id), idempotency_key="k2")
    assert not updated.created and updated.remote_id == created.remote_id
    assert xero.xero.contact("Nia Obi Studio Ltd")["ContactStatus"] == "ARCHIVED"
    same = await plugin.export_customer(session=xero.session, customer=CustomerData(
        local_id=2, name="Bayside Club", email="accounts@bayside.example"), link=None, idempotency_key="k3")
    assert not same.created and same.remote_id == xero.xero.contact("Bayside Club")["ContactID"] and same.warnings
    with pytest.raises(ProviderError) as caught:
        await plugin.export_customer(session=xero.session, customer=CustomerData(
            local_id=3, name="City Agency", email="someone@else.example"), link=None, idempotency_key="k4")
    assert caught.value.code == "duplicate_name" and "City Agency" in caught.value.message


async def test_items_are_keyed_by_a_unique_code(xero_connect):
    xero: Connected = await xero_connect()
    first = await plugin.export_item(session=xero.session, item=ItemData(
        local_id=2, name="Consulting hours", unit_price=Decimal("60.00"), income_account_id="200"), link=None,
        idempotency_key="k1")
    assert first.number == "CONSULTING-HOURS" and first.record.income_account_id == "200"
    again = await plugin.export_item(session=xero.session, item=ItemData(
        local_id=2, name="Consulting hours", unit_price=Decimal("65.00"), income_account_id="260"),
        link=LinkRef(first.remote_id), idempotency_key="k2")
    assert again.remote_id == first.remote_id and again.record.unit_price == Decimal("65.00")
    long = await plugin.export_item(session=xero.session, item=ItemData(
        local_id=3, name="A very long service name that does not fit in thirty", income_account_id="200"),
        link=None, idempotency_key="k3")
    assert len(long.number) <= 30 and long.remote_id != first.remote_id


async def test_invoice_as_draft_then_approved_in_place(xero_connect):
    xero: Connected = await xero_connect()
    customer, item = await a_customer(xero), await an_item(xero)
    drafts = xero.new_session(export_as_draft=True, default_income_account_id="200")
    draft = await plugin.export_invoice(session=drafts, invoice=invoice_data(customer, item_id=item), link=None,
                                        idempotency_key="k1")
    assert draft.created and draft.record.status == "draft" and draft.record.raw_status == "DRAFT"
    assert draft.record.total == Decimal("120.00") and draft.number == "LB-1"
    assert "Edit.aspx" in draft.record.deep_link and "shortcode=%21mBdtL" in draft.record.deep_link
    sent = json.loads(xero.requests_to("Invoices", "POST")[-1].content)["Invoices"][0]
    assert sent["LineItems"][0]["ItemCode"] == "CONSULTING-HOURS" and sent["LineAmountTypes"] == "NoTax"
    assert sent["LineItems"][0]["TaxType"] == "NONE" and sent["Status"] == "DRAFT"
    assert xero.requests_to("Invoices", "POST")[-1].headers["Idempotency-Key"] == "k1"
    approved = await plugin.export_invoice(session=xero.session, invoice=invoice_data(customer, amount="150.00",
                                                                                      item_id=item),
                                           link=LinkRef(draft.remote_id), idempotency_key="k2")
    assert approved.remote_id == draft.remote_id and not approved.created
    assert approved.record.status == "open" and approved.record.total == Decimal("150.00")
    assert len(invoices_numbered(xero, "LB-1")) == 1


async def test_tax_per_line_and_a_rate_xero_does_not_have(xero_connect):
    xero: Connected = mapped(await xero_connect())
    customer = await a_customer(xero)
    taxed = await plugin.export_invoice(session=xero.session, invoice=invoice_data(customer, "LB-T", tax_id="OUTPUT2",
                                                                                   tax_name="GST"),
                                        link=None, idempotency_key="k1")
    assert taxed.record.total == Decimal("138.00")
    sent = json.loads(xero.requests_to("Invoices", "POST")[-1].content)["Invoices"][0]
    assert sent["LineAmountTypes"] == "Exclusive" and sent["LineItems"][0]["TaxType"] == "OUTPUT2"
    before = len(xero.sent)
    with pytest.raises(ProviderError) as caught:
        await plugin.export_invoice(session=xero.session, invoice=invoice_data(customer, "LB-U", tax_name="GST 9%"),
                                    link=None, idempotency_key="k2")
    assert caught.value.code == "validation_failed" and "GST 9%" in caught.value.message
    assert len(xero.sent) == before, "nothing was sent"


async def test_a_repeated_key_replays_instead_of_creating_twice(xero_connect):
    xero: Connected = mapped(await xero_connect())
    customer = await a_customer(xero)
    data = invoice_data(customer, send_number=False)
    first = await plugin.export_invoice(session=xero.session, invoice=data, link=None, idempotency_key="same-key")
    second = await plugin.export_invoice(session=xero.session, invoice=data, link=None, idempotency_key="same-key")
    assert first.remote_id == second.remote_id and first.number.startswith("INV-")
    assert len(invoices_numbered(xero, first.number)) == 1


async def test_a_lost_answer_is_found_by_number(xero_connect):
    xero: Connected = mapped(await xero_connect())
    customer, item = await a_customer(xero), await an_item(xero)
    xero.sandbox.add_fault("timeout_after_apply", path_prefix="/api.xro/2.0/Invoices", method="POST", delay=5)
    with pytest.raises(UncertainWrite):
        impatient = xero.new_session(timeout=0.5, default_income_account_id="200")
        await plugin.export_invoice(session=impatient, invoice=invoice_data(customer, "LB-LOST", item_id=item),
                                    link=None, idempotency_key="k1")
    found = await plugin.find_invoice(session=xero.session, number="LB-LOST")
    assert found is not None and found.status == "open" and found.number == "LB-LOST"
    assert await plugin.find_invoice(session=xero.session, number="LB-NEVER") is None
    # A number held by a deleted invoice is still taken, so it is still found.
    await plugin.void_invoice(session=xero.session, link=LinkRef(found.remote_id), idempotency_key="k2")
    voided = await plugin.find_invoice(session=xero.session, number="LB-LOST")
    assert voided is not None and voided.status == "void"
    with pytest.raises(ProviderError) as caught:
        await plugin.export_invoice(session=xero.session, invoice=invoice_data(customer, "LB-LOST"), link=None,
                                    idempotency_key="k3")
    assert caught.value.code == "duplicate_number"


async def test_batch_answers_per_invoice_and_replays_on_retry(xero_connect):
    xero: Connected = mapped(await xero_connect())
    customer, item = await a_customer(xero), await an_item(xero)
    await plugin.export_invoice(session=xero.session, invoice=invoice_data(customer, "B-2"), link=None,
                                idempotency_key="earlier")
    batch = [(invoice_data(customer, f"B-{n}", item_id=item, local_id=n), None, f"key-{n}") for n in (1, 2, 3)]
    outcomes = await plugin.export_invoices_batch(session=xero.session, invoices=batch)
    assert [o.local_id for o in outcomes] == [1, 2, 3]
    assert outcomes[0].result and outcomes[2].result and outcomes[1].result is None
    assert isinstance(outcomes[1].error, ProviderError) and outcomes[1].error.code == "duplicate_number"
    request = xero.requests_to("Invoices", "PUT")[-1]
    assert request.url.params["summarizeErrors"] == "false" and request.headers["Idempotency-Key"].startswith("batch-")
    again = await plugin.export_invoices_batch(session=xero.session, invoices=batch)
    assert [o.result.remote_id for o in again if o.result] == [outcomes[0].result.remote_id,
                                                               outcomes[2].result.remote_id]
    assert len(invoices_numbered(xero, "B-1")) == 1 and len(invoices_numbered(xero, "B-3")) == 1


async def test_payments_void_delete_and_polling(xero_connect):
    xero: Connected = mapped(await xero_connect())
    customer = await a_customer(xero)
    xero.sandbox.advance(120)
    paid, voided, deleted, refused = [
        await plugin.export_invoice(session=xero.session, invoice=invoice_data(customer, f"P-{n}"), link=None,
                                    idempotency_key=f"k{n}") for n in range(4)]
    draft = await plugin.export_invoice(session=xero.new_session(export_as_draft=True, default_income_account_id="200"),
                                        invoice=invoice_data(customer, "P-D"), link=None, idempotency_key="kd")
    xero.sandbox.advance(120)
    full = await plugin.poll_invoices(session=xero.session, cursor=None, remote_ids=None)
    assert {r.number for r in full.records} >= {"P-0", "P-1", "P-2", "P-3", "P-D"} and full.next_cursor is None
    xero.sandbox.advance(120)
    payment = await plugin.export_payment(session=xero.session, payment=PaymentData(
        local_id=1, invoice_id=paid.remote_id, customer_id=customer, paid_on=date(2026, 3, 5), amount=Decimal("50"),
        reference="Part"), link=None, idempotency_key="kp1")
    page = await plugin.poll_invoices(session=xero.session, cursor=full.cursor, remote_ids=None)
    assert [r.remote_id for r in page.records] == [paid.remote_id], "only what changed"
    part = page.records[0]
    assert part.status == "partially_paid" and part.balance == Decimal("70.00") and part.raw_status == "AUTHORISED"
    assert [(p.remote_id, p.amount) for p in part.payments] == [(payment.remote_id, Decimal("50.00"))]
    await plugin.export_payment(session=xero.session, payment=PaymentData(
        local_id=2, invoice_id=paid.remote_id, customer_id=customer, paid_on=date(2026, 3, 6),
        amount=Decimal("70")), link=None, idempotency_key="kp2")
    await plugin.void_invoice(session=xero.session, link=LinkRef(voided.remote_id), idempotency_key="kv")
    await plugin.delete_invoice(session=xero.session, link=LinkRef(draft.remote_id), idempotency_key="kx")
    instead = await plugin.delete_invoice(session=xero.session, link=LinkRef(deleted.remote_id),
                                          idempotency_key="ky")
    assert instead.record.status == "void" and "voided" in instead.warnings[0]
    with pytest.raises(ProviderError) as caught:
        await plugin.void_invoice(session=xero.session, link=LinkRef(paid.remote_id), idempotency_key="kz")
    assert caught.value.code == "validation_failed" and "payments" in caught.value.message
    ids = [paid.remote_id, voided.remote_id, draft.remote_id, refused.remote_id]
    states = {r.remote_id: r for r in (await plugin.poll_invoices(session=xero.session, cursor=None,
                                                                  remote_ids=ids)).records}
    assert states[paid.remote_id].status == "paid" and len(states[paid.remote_id].payments) == 2
    assert states[voided.remote_id].status == "void" and states[voided.remote_id].raw_status == "VOIDED"
    assert states[draft.remote_id].status == "deleted" and states[draft.remote_id].deleted
    assert states[refused.remote_id].status == "open"
    xero.sandbox.advance(120)
    assert (await plugin.poll_invoices(session=xero.session, cursor=page.cursor, remote_ids=None)).records


async def test_a_voided_payment_is_deleted_in_xero_once(xero_connect):
    xero: Connected = mapped(await xero_connect())
    customer = await a_customer(xero)
    invoice = await plugin.export_invoice(session=xero.session, invoice=invoice_data(customer, "VP-1"), link=None,
                                          idempotency_key="kvp1")
    payment = await plugin.export_payment(session=xero.session, payment=PaymentData(
        local_id=1, invoice_id=invoice.remote_id, customer_id=customer, paid_on=date(2026, 3, 5),
        amount=Decimal("50")), link=None, idempotency_key="kvp2")
    link = LinkRef(payment.remote_id)
    voided = await plugin.void_payment(session=xero.session, link=link, idempotency_key="kvp3")
    assert voided.remote_id == payment.remote_id and "deleted" in voided.warnings[0]
    [state] = (await plugin.poll_invoices(session=xero.session, cursor=None, remote_ids=[invoice.remote_id])).records
    assert state.balance == Decimal("120.00") and state.status == "open" and not state.payments, state
    again = await plugin.void_payment(session=xero.session, link=link, idempotency_key="kvp4")  # a resumed run
    assert again.remote_id == payment.remote_id and again.already_removed and not voided.already_removed
