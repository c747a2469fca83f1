"""Exporting through the plugin: clients, items, invoices (sent, numbered), payments, write-off, delete,
the lost-response lookup, and reading statuses back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fb_plugin_harness import Connected
from ledgerbridge.errors import ProviderError, UncertainWrite
from ledgerbridge.provider import (
    CustomerData,
    InvoiceData,
    InvoiceLineData,
    ItemData,
    LinkRef,
    PaymentData,
    TimeEntryData,
)
from ledgerbridge_freshbooks import plugin

pytest_plugins = ("fb_plugin_harness",)


def invoice_data(customer_id: str, number: str = "LB-1", amount: str = "120.00", tax_id: str | None = None,
                 send_number: bool = True) -> InvoiceData:
    total = Decimal(amount)
    line = InvoiceLineData(description="Work", quantity=Decimal("2"), unit_price=total / 2, line_total=total,
                           item_name="Consulting", tax_rate_id=tax_id)
    return InvoiceData(local_id=1, number=number, customer_id=customer_id, issue_date=date(2026, 3, 2),
                       due_date=date(2026, 4, 1), currency="USD", lines=(line,), subtotal=total,
                       tax_total=Decimal("0"), total=total, memo="Thanks", send_number=send_number)


async def a_customer(fb: Connected, name: str = "New Client") -> str:
    result = await plugin.export_customer(session=fb.session, customer=CustomerData(
        local_id=1, name=name, given_name="Nia", family_name="Obi", email="nia@client.example"),
        link=None, idempotency_key="k-c")
    return result.remote_id


async def test_customer_and_item_create_update_and_archive(fb_connect):
    fb: Connected = await fb_connect()
    created = await plugin.export_customer(session=fb.session, customer=CustomerData(
        local_id=1, name="Nia Obi Studio", email="nia@client.example", phone="555-0199"), link=None,
        idempotency_key="k1")
    assert created.created and created.record.name == "Nia Obi Studio"
    updated = await plugin.export_customer(session=fb.session, customer=CustomerData(
        local_id=1, name="Nia Obi Studio Ltd", email="nia@client.example", active=False),
        link=LinkRef(created.remote_id), idempotency_key="k2")
    assert not updated.created and updated.remote_id == created.remote_id
    row = fb.fb.result(fb.fb.get(f"users/clients/{created.remote_id}"))["client"]
    assert row["organization"] == "Nia Obi Studio Ltd" and row["vis_state"] == 2
    item = await plugin.export_item(session=fb.session, item=ItemData(local_id=2, name="Audit",
                                    unit_price=Decimal("99.50")), link=None, idempotency_key="k3")
    assert item.record.unit_price == Decimal("99.50")
    body = fb.requests_to("items")[-1].content
    assert b'"amount": "99.50"' in body  # money goes out as an exact string


async def test_invoice_is_numbered_sent_and_updated_in_place(fb_connect):
    fb: Connected = await fb_connect()
    customer = await a_customer(fb)
    tax = next(t for t in (await plugin.import_tax_rates(session=fb.session, cursor=None)).records
               if t.name == "Sales Tax")
    first = await plugin.export_invoice(session=fb.session, invoice=invoice_data(customer, tax_id=tax.remote_id),
                                        link=None, idempotency_key="k1")
    remote = first.record
    assert first.created and first.number == "LB-1" and remote.status == "open"
    assert remote.raw_status == "sent, unpaid"
    assert remote.total == Decimal("129.90") and remote.balance == Decimal("129.90")  # 8.25 % Sales Tax by name
    assert remote.deep_link == f"{fb.fb.base_url}/#/invoice/{fb.account()}-{first.remote_id}"
    second = await plugin.export_invoice(session=fb.session, invoice=invoice_data(customer, amount="150.00"),
                                         link=LinkRef(first.remote_id, first.version, "LB-1"), idempotency_key="k2")
    assert not second.created and second.remote_id == first.remote_id and second.record.total == Decimal("150.00")
    listed = fb.fb.listing("invoices/invoices", **{"search[invoice_number]": "LB-1"})["invoices"]
    assert len(listed) == 1 and listed[0]["display_status"] == "sent"
    assert plugin.record_url(provider_data=fb.tenant.extra, environment="production", record_type="invoice",
                             remote_id=first.remote_id) == remote.deep_link


async def test_draft_export_and_provider_numbering(fb_connect):
    fb: Connected = await fb_connect()
    customer = await a_customer(fb)
    draft = await plugin.export_invoice(session=fb.new_session(export_as_draft=True),
                                        invoice=invoice_data(customer, send_number=False), link=None,
                                        idempotency_key="k")
    assert draft.record.status == "draft" and draft.number == "INV-00001"
    assert "invoice_number" not in fb.requests_to("invoices")[0].content.decode()


async def test_a_taken_number_is_duplicate_number_even_when_deleted(fb_connect):
    fb: Connected = await fb_connect()
    customer = await a_customer(fb)
    first = await plugin.export_invoice(session=fb.session, invoice=invoice_data(customer), link=None,
                                        idempotency_key="k1")
    await plugin.delete_invoice(session=fb.session, link=LinkRef(first.remote_id), idempotency_key="k2")
    with pytest.raises(ProviderError) as caught:
        await plugin.export_invoice(session=fb.session, invoice=invoice_data(customer), link=None,
                                    idempotency_key="k3")
    assert caught.value.code == "duplicate_number" and "LB-1" in caught.value.message
    found = await plugin.find_invoice(session=fb.session, number="LB-1")
    assert found.remote_id == first.remote_id and found.deleted and found.status == "deleted"


async def test_find_invoice_finds_a_create_whose_answer_was_lost(fb_connect):
    fb: Connected = await fb_connect()
    customer = await a_customer(fb)
    assert await plugin.find_invoice(session=fb.session, number="LB-9") is None
    fb.sandbox.add_fault("timeout_after_apply", "/accounting/", method="POST", delay=0.5)
    with pytest.raises(UncertainWrite):
        await plugin.export_invoice(session=fb.new_session(timeout=0.3), invoice=invoice_data(customer, "LB-9"),
                                    link=None, idempotency_key="k1")
    found = await plugin.find_invoice(session=fb.session, number="LB-9")
    assert found is not None and found.number == "LB-9" and found.total == Decimal("120.00")


async def test_payments_and_polled_statuses(fb_connect):
    fb: Connected = await fb_connect()
    customer = await a_customer(fb)
    invoices = [await plugin.export_invoice(session=fb.session, invoice=invoice_data(customer, f"LB-{n}"),
                                            link=None, idempotency_key=f"k{n}") for n in range(4)]
    paid, partial, voided, deleted = (r.remote_id for r in invoices)
    full = await plugin.export_payment(session=fb.session, payment=PaymentData(
        local_id=1, invoice_id=paid, customer_id=customer, paid_on=date(2026, 3, 3), amount=Decimal("120.00"),
        method="bank_transfer", reference="wire 1"), link=None, idempotency_key="p1")
    assert full.record.amount == Decimal("120.00") and full.record.method == "Bank Transfer"
    await plugin.export_payment(session=fb.session, payment=PaymentData(
        local_id=2, invoice_id=partial, customer_id=customer, paid_on=date(2026, 3, 3), amount=Decimal("20.00")),
        link=None, idempotency_key="p2")
    written_off = await plugin.void_invoice(session=fb.session, link=LinkRef(voided), idempotency_key="v")
    assert written_off.record.status == "void" and written_off.record.total == 0
    with pytest.raises(ProviderError) as caught:
        await plugin.void_invoice(session=fb.session, link=LinkRef(paid), idempotency_key="v2")
    assert caught.value.code == "validation_failed"
    await plugin.delete_invoice(session=fb.session, link=LinkRef(deleted), idempotency_key="d")
    page = await plugin.poll_invoices(session=fb.session, cursor=None, remote_ids=None)
    while page.next_cursor:
        more = await plugin.poll_invoices(session=fb.session, cursor=page.next_cursor, remote_ids=None)
        page = type(page)(page.records + more.records, more.next_cursor, more.cursor)
    status = {r.remote_id: r for r in page.records}
    assert status[paid].status == "paid" and status[paid].balance == 0
    assert [p.amount for p in status[paid].payments] == [Decimal("120.00")]
    assert status[partial].status == "partially_paid" and status[partial].balance == Decimal("100.00")
    assert status[partial].raw_status == "partial"
    assert status[voided].status == "void" and status[deleted].status == "deleted" and status[deleted].deleted
    assert page.cursor
    by_id = await plugin.poll_invoices(session=fb.session, cursor=None, remote_ids=[partial, "999999"])
    assert [(r.remote_id, r.status) for r in by_id.records] == [(partial, "partially_paid"), ("999999", "deleted")]
    # A payment webhook names the payment; the poll reads the invoice it pays.
    via_payment = await plugin.poll_invoices(session=fb.session, cursor=None,
                                             remote_ids=[f"payment:{full.remote_id}"])
    assert [r.remote_id for r in via_payment.records] == [paid]


async def test_polling_since_a_cursor_reads_changes_including_deletions(fb_connect):
    fb: Connected = await fb_connect()
    customer = await a_customer(fb)
    kept = await plugin.export_invoice(session=fb.session, invoice=invoice_data(customer, "LB-A"), link=None,
                                       idempotency_key="a")
    await fb.advance(5 * 86400)
    gone = await plugin.export_invoice(session=fb.session, invoice=invoice_data(customer, "LB-B"), link=None,
                                       idempotency_key="b")
    first = await plugin.poll_invoices(session=fb.session, cursor=None, remote_ids=None)
    cursor = first.cursor or (await plugin.poll_invoices(session=fb.session, cursor=first.next_cursor,
                                                         remote_ids=None)).cursor
    await fb.advance(3600)
    fb.fb.update(f"invoices/invoices/{gone.remote_id}", "invoice", {"vis_state": 1})
    seen = []
    page = await plugin.poll_invoices(session=fb.session, cursor=cursor, remote_ids=None)
    seen.extend(page.records)
    while page.next_cursor:
        page = await plugin.poll_invoices(session=fb.session, cursor=page.next_cursor, remote_ids=None)
        seen.extend(page.records)
    assert [(r.remote_id, r.status) for r in seen] == [(gone.remote_id, "deleted")]
    assert kept.remote_id not in {r.remote_id for r in seen} and page.cursor > cursor


async def test_time_entries_go_to_time_tracking_billed_or_billable_and_update_in_place(fb_connect):
    fb: Connected = await fb_connect()
    client_id = await a_customer(fb, "Time Client")
    alone = TimeEntryData(local_id=1, customer_id=client_id, item_id=None, person="Ada", person_email="",
                          worked_on=date(2026, 3, 2), hours=Decimal("1.5"), rate=Decimal("80"), description="Design")
    first = await plugin.export_time_entry(session=fb.session, entry=alone, link=None, idempotency_key="k-t1")
    billed = await plugin.export_time_entry(session=fb.session, entry=TimeEntryData(**{
        **alone.__dict__, "local_id": 2, "billed": True}), link=None, idempotency_key="k-t2")
    business = fb.sandbox.state.business(fb.account())
    entries = business.table("time_entries")
    row = entries[int(first.remote_id)]
    assert (row["duration"], row["billable"], row["billed"], row["client_id"]) == (5400, True, False, int(client_id))
    assert row["note"] == "Ada: Design" and row["started_at"] == "2026-03-02T09:00:00Z"
    assert entries[int(billed.remote_id)]["billed"] is True
    again = await plugin.export_time_entry(session=fb.session, entry=TimeEntryData(**{
        **alone.__dict__, "hours": Decimal("2")}), link=LinkRef(first.remote_id), idempotency_key="k-t3")
    assert again.remote_id == first.remote_id and not again.created
    assert entries[int(first.remote_id)]["duration"] == 7200 and len(entries) == 2
    assert fb.requests_to("time_entries")[0].url.path.startswith("/timetracking/business/")
    with pytest.raises(ProviderError) as caught:
        await plugin.export_time_entry(session=fb.session, entry=TimeEntryData(**{
            **alone.__dict__, "customer_id": "999999"}), link=None, idempotency_key="k-t4")
    assert caught.value.code == "remote_not_found" and "time" in caught.value.message


async def test_a_voided_payment_is_deleted_in_freshbooks_once(fb_connect):
    fb: Connected = await fb_connect()
    customer = await a_customer(fb)
    invoice = await plugin.export_invoice(session=fb.session, invoice=invoice_data(customer, "VP-1"), link=None,
                                          idempotency_key="kvp1")
    payment = await plugin.export_payment(session=fb.session, payment=PaymentData(
        local_id=1, invoice_id=invoice.remote_id, customer_id=customer, paid_on=date(2026, 3, 3),
        amount=Decimal("20.00")), link=None, idempotency_key="kvp2")
    link = LinkRef(payment.remote_id)
    voided = await plugin.void_payment(session=fb.session, link=link, idempotency_key="kvp3")
    assert voided.record.deleted and "deleted" in voided.warnings[0]
    [state] = (await plugin.poll_invoices(session=fb.session, cursor=None, remote_ids=[invoice.remote_id])).records
    assert state.balance == Decimal("120.00") and not state.payments, state
    again = await plugin.void_payment(session=fb.session, link=link, idempotency_key="kvp4")  # a resumed run
    assert again.record.deleted and again.already_removed and not voided.already_removed
