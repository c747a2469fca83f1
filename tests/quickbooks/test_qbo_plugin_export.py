"""Exports through the plugin: seed rules, SyncToken updates, requestid replay, batch, payments, time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
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
from ledgerbridge_quickbooks import plugin
from ledgerbridge_quickbooks.sandbox import CompanyPreset, SandboxConfig
from qbo_harness import REALM_2
from qbo_plugin_harness import Connected

pytest_plugins = ("qbo_plugin_harness",)


def _find(qb: Connected, entity: str, field: str, value: str) -> dict:
    return qb.qbo.find(entity, field, value)


def _invoice(qb: Connected, number: str = "INV-1", amount: str = "150.00", local_id: int = 1, **extra) -> InvoiceData:
    customer = _find(qb, "Customer", "DisplayName", "Cool Cars")["Id"]
    item = _find(qb, "Item", "Name", "Design")["Id"]
    line = InvoiceLineData(description="Design work", quantity=Decimal("2"), unit_price=Decimal(amount) / 2,
                           line_total=Decimal(amount), item_id=item, tax_rate_id="NON")
    values = dict(local_id=local_id, number=number, customer_id=customer, issue_date=date(2026, 3, 1),
                  due_date=date(2026, 3, 31), currency="USD", lines=(line,), subtotal=Decimal(amount),
                  tax_total=Decimal("0"), total=Decimal(amount), memo="Thanks!", customer_email="cars@example.com")
    values.update(extra)
    return InvoiceData(**values)


async def test_customer_seed_rules_link_same_email_and_disambiguate_another(qb: Connected):
    realm = qb.session.tenant_id
    qb.sandbox.service.create(realm, "Customer", {"DisplayName": "Ada Works",
                                                  "PrimaryEmailAddr": {"Address": "ada@example.com"}})
    same = await plugin.export_customer(session=qb.session, customer=CustomerData(
        local_id=1, name="Ada Works", email="ADA@example.com"), link=None, idempotency_key="lb-c1")
    assert same.created is False and same.warnings
    other = await plugin.export_customer(session=qb.session, customer=CustomerData(
        local_id=2, name="Ada Works", email="other@example.com", phone="555-0100"), link=None,
        idempotency_key="lb-c2")
    assert other.created is True and other.remote_id != same.remote_id
    assert _find(qb, "Customer", "Id", other.remote_id)["DisplayName"] == "Ada Works (other@example.com)"
    assert "Ada Works (other@example.com)" in other.warnings[0]
    again = await plugin.export_customer(session=qb.session, customer=CustomerData(
        local_id=2, name="Ada Works", email="other@example.com"), link=None, idempotency_key="lb-c2")
    assert again.remote_id == other.remote_id and again.created is False  # never a third copy
    fresh = await plugin.export_customer(session=qb.session, customer=CustomerData(
        local_id=3, name="Brand New Co", email="new@example.com"), link=None, idempotency_key="lb-c3")
    assert fresh.created and fresh.warnings == ()


async def test_customer_update_uses_sync_token_and_reports_conflicts(qb: Connected):
    created = await plugin.export_customer(session=qb.session, customer=CustomerData(
        local_id=1, name="Grace Ltd", email="g@example.com"), link=None, idempotency_key="lb-u1")
    link = LinkRef(remote_id=created.remote_id, remote_version=created.version)
    updated = await plugin.export_customer(session=qb.session, customer=CustomerData(
        local_id=1, name="Grace Ltd", email="g@example.com", phone="555"), link=link, idempotency_key="lb-u2")
    assert int(updated.version) == int(created.version) + 1
    body = qb.requests_to("customer")[-1].content
    assert b'"sparse":true' in body and f'"SyncToken":"{created.version}"'.encode() in body
    with pytest.raises(ProviderError) as caught:  # the old version again: someone changed it since
        await plugin.export_customer(session=qb.session, customer=CustomerData(
            local_id=1, name="Grace Ltd", email="g@example.com", phone="556"), link=link, idempotency_key="lb-u3")
    assert caught.value.code == "stale_object" and updated.version in caught.value.message
    assert _find(qb, "Customer", "Id", created.remote_id)["PrimaryPhone"]["FreeFormNumber"] == "555"


async def test_a_name_taken_by_an_employee_is_duplicate_name(qb: Connected):
    with pytest.raises(ProviderError) as caught:
        await plugin.export_customer(session=qb.session, customer=CustomerData(local_id=1, name="Emily Platt"),
                                     link=None, idempotency_key="lb-d1")
    assert caught.value.code == "duplicate_name" and "Emily Platt" in caught.value.message


async def test_items_with_the_same_name_are_one_item(qb: Connected):
    account = _find(qb, "Account", "Name", "Services")["Id"]
    existing = await plugin.export_item(session=qb.session, item=ItemData(
        local_id=1, name="Design", unit_price=Decimal("80"), income_account_id=account), link=None,
        idempotency_key="lb-i1")
    assert existing.created is False and existing.remote_id == _find(qb, "Item", "Name", "Design")["Id"]
    new = await plugin.export_item(session=qb.session, item=ItemData(
        local_id=2, name="Audit", description="Yearly audit", unit_price=Decimal("99.50"), income_account_id=account),
        link=None, idempotency_key="lb-i2")
    assert new.created and _find(qb, "Item", "Name", "Audit")["UnitPrice"] == Decimal("99.50")
    renamed = await plugin.export_item(session=qb.session, item=ItemData(
        local_id=2, name="Audit (yearly)", unit_price=Decimal("99.50"), income_account_id=account),
        link=LinkRef(new.remote_id, new.version), idempotency_key="lb-i3")
    assert renamed.remote_id == new.remote_id and not renamed.created


async def test_invoice_export_replay_numbers_and_duplicates(qb: Connected):
    first = await plugin.export_invoice(session=qb.session, invoice=_invoice(qb), link=None,
                                        idempotency_key="lb-inv-1")
    replay = await plugin.export_invoice(session=qb.session, invoice=_invoice(qb), link=None,
                                         idempotency_key="lb-inv-1")
    assert replay.remote_id == first.remote_id
    assert len(qb.qbo.query("SELECT * FROM Invoice WHERE DocNumber = 'INV-1'")["Invoice"]) == 1
    assert first.number == "INV-1" and first.record.total == Decimal("150.00") and first.record.status == "open"
    assert first.record.deep_link.endswith(f"/app/invoice?txnId={first.remote_id}&companyId={qb.session.tenant_id}")
    assert all("requestid=lb-inv-1" in str(r.url) for r in qb.requests_to("invoice"))
    with pytest.raises(ProviderError) as caught:
        await plugin.export_invoice(session=qb.session, invoice=_invoice(qb), link=None, idempotency_key="lb-inv-2")
    assert caught.value.code == "duplicate_number" and "INV-1" in caught.value.message
    theirs = await plugin.export_invoice(session=qb.session, invoice=_invoice(qb, send_number=False), link=None,
                                         idempotency_key="lb-inv-3")
    assert b"DocNumber" not in qb.requests_to("invoice")[-1].content and theirs.number.isdigit()
    changed = await plugin.export_invoice(session=qb.session, invoice=_invoice(qb, amount="200.00"),
                                          link=LinkRef(first.remote_id, first.version, "INV-1"),
                                          idempotency_key="lb-inv-4")
    assert changed.record.total == Decimal("200.00") and not changed.created


async def test_a_timeout_after_the_write_is_uncertain_and_find_invoice_finds_it(qb: Connected):
    qb.sandbox.add_fault("timeout_after_apply", path_prefix=f"/v3/company/{qb.session.tenant_id}/invoice")
    with pytest.raises(UncertainWrite):
        await plugin.export_invoice(session=qb.session, invoice=_invoice(qb, number="T-1"), link=None,
                                    idempotency_key="lb-t1")
    found = await plugin.find_invoice(session=qb.session, number="T-1")
    assert found is not None and found.total == Decimal("150.00")
    assert await plugin.find_invoice(session=qb.session, number="NOPE") is None
    retried = await plugin.export_invoice(session=qb.session, invoice=_invoice(qb, number="T-1"), link=None,
                                          idempotency_key="lb-t1")
    assert retried.remote_id == found.remote_id


async def test_batch_one_failure_does_not_fail_the_others_and_replays(qb: Connected):
    await plugin.export_invoice(session=qb.session, invoice=_invoice(qb, number="B-2"), link=None,
                                idempotency_key="lb-b-pre")
    batch = [(_invoice(qb, number=f"B-{n}", local_id=n), None, f"lb-b{n}") for n in (1, 2, 3)]
    outcomes = await plugin.export_invoices_batch(session=qb.session, invoices=batch)
    assert [o.local_id for o in outcomes] == [1, 2, 3]
    assert outcomes[0].result and outcomes[2].result and outcomes[1].error.code == "duplicate_number"
    again = await plugin.export_invoices_batch(session=qb.session, invoices=batch)
    assert [o.result.remote_id for o in again if o.result] == [outcomes[0].result.remote_id,
                                                               outcomes[2].result.remote_id]
    assert len(qb.qbo.query("SELECT * FROM Invoice WHERE DocNumber = 'B-1'")["Invoice"]) == 1
    requestid = qb.requests_to("batch")[0].url.params["requestid"]
    assert len(requestid) <= 36 and requestid == qb.requests_to("batch")[1].url.params["requestid"]


async def test_payment_void_delete_and_poll(qb: Connected):
    realm = qb.session.tenant_id
    qb.sandbox.advance(60)
    first = await plugin.poll_invoices(session=qb.session, cursor=None, remote_ids=None)
    inv = await plugin.export_invoice(session=qb.session, invoice=_invoice(qb, number="P-1"), link=None,
                                      idempotency_key="lb-p1")
    pay = await plugin.export_payment(session=qb.session, payment=PaymentData(
        local_id=1, invoice_id=inv.remote_id, customer_id=_find(qb, "Customer", "DisplayName", "Cool Cars")["Id"],
        paid_on=date(2026, 3, 2), amount=Decimal("50.00"), reference="CHK-1"), link=None, idempotency_key="lb-p2")
    polled = (await plugin.poll_invoices(session=qb.session, cursor=None, remote_ids=[inv.remote_id])).records[0]
    assert polled.status == "partially_paid" and polled.balance == Decimal("100.00")
    assert [(p.remote_id, p.amount, p.reference) for p in polled.payments] == [(pay.remote_id, Decimal("50.00"),
                                                                                "CHK-1")]
    doomed = await plugin.export_invoice(session=qb.session, invoice=_invoice(qb, number="P-2"), link=None,
                                         idempotency_key="lb-p3")
    voided = await plugin.void_invoice(session=qb.session, link=LinkRef(inv.remote_id, polled.version, "P-1"),
                                       idempotency_key="lb-p4")
    assert voided.record.status == "void" and voided.record.total == 0
    await plugin.delete_invoice(session=qb.session, link=LinkRef(doomed.remote_id, doomed.version, "P-2"),
                                idempotency_key="lb-p5")
    qb.sandbox.advance(60)
    before = len(qb.sent)
    changes = await plugin.poll_invoices(session=qb.session, cursor=first.cursor, remote_ids=None)
    by_id = {r.remote_id: r for r in changes.records}
    assert by_id[inv.remote_id].status == "void" and by_id[inv.remote_id].raw_status == "Voided"
    assert by_id[doomed.remote_id].status == "deleted" and by_id[doomed.remote_id].deleted
    assert any(r.url.path.endswith("/cdc") for r in qb.sent[before:])
    qb.sandbox.advance(60)
    before = len(qb.sent)
    quiet = await plugin.poll_invoices(session=qb.session, cursor=changes.cursor, remote_ids=None)
    assert quiet.records == [] and len(qb.sent) - before == 1  # nothing changed: exactly one request
    paid_inv = await plugin.export_invoice(session=qb.session, invoice=_invoice(qb, number="P-3"), link=None,
                                           idempotency_key="lb-p6")
    qb.sandbox.service.create(realm, "Payment", {
        "CustomerRef": {"value": _find(qb, "Customer", "DisplayName", "Cool Cars")["Id"]},
        "TotalAmt": Decimal("150.00"),
        "Line": [{"Amount": Decimal("150.00"), "LinkedTxn": [{"TxnId": paid_inv.remote_id, "TxnType": "Invoice"}]}]})
    gone = (await plugin.poll_invoices(session=qb.session, cursor=None,
                                       remote_ids=[paid_inv.remote_id, doomed.remote_id])).records
    assert {r.remote_id: r.status for r in gone} == {paid_inv.remote_id: "paid", doomed.remote_id: "deleted"}
    with pytest.raises(ProviderError) as caught:
        await plugin.void_invoice(session=qb.session, link=LinkRef(doomed.remote_id, "0", "P-2"),
                                  idempotency_key="lb-p7")
    assert caught.value.code == "remote_not_found"


async def test_time_entries_find_or_create_the_employee_and_update_the_same_activity(qb: Connected):
    customer = _find(qb, "Customer", "DisplayName", "Cool Cars")["Id"]
    entry = TimeEntryData(local_id=1, customer_id=customer, item_id=None, person="Emily Platt",
                          person_email="emily@example.com", worked_on=date(2026, 3, 2), hours=Decimal("1.5"),
                          rate=Decimal("80"))
    first = await plugin.export_time_entry(session=qb.session, entry=entry, link=None, idempotency_key="lb-te1")
    activity = _find(qb, "TimeActivity", "Id", first.remote_id)
    assert activity["EmployeeRef"]["name"] == "Emily Platt" and (activity["Hours"], activity["Minutes"]) == (1, 30)
    newbie = TimeEntryData(local_id=2, customer_id=customer, item_id=None, person="Nora Quist",
                           person_email="nora@example.com", worked_on=date(2026, 3, 2), hours=Decimal("2"),
                           rate=Decimal("60"), billable=False)
    second = await plugin.export_time_entry(session=qb.session, entry=newbie, link=None, idempotency_key="lb-te2")
    assert _find(qb, "Employee", "GivenName", "Nora")["FamilyName"] == "Quist"
    again = await plugin.export_time_entry(session=qb.session, entry=newbie.__class__(**{
        **newbie.__dict__, "hours": Decimal("3")}), link=LinkRef(second.remote_id, second.version),
        idempotency_key="lb-te3")
    assert again.remote_id == second.remote_id and _find(qb, "TimeActivity", "Id", second.remote_id)["Hours"] == 3
    assert len(qb.qbo.query("SELECT * FROM Employee WHERE GivenName = 'Nora'")["Employee"]) == 1


async def test_a_plan_without_time_tracking_is_plan_limit(qb_factory):
    qb = await qb_factory(SandboxConfig(companies=(CompanyPreset(realm_id="9341453170013431",
                                                                 company_name="Simple Start Co",
                                                                 time_tracking=False),)))
    entry = TimeEntryData(local_id=1, customer_id="1", item_id=None, person="Emily Platt", person_email="",
                          worked_on=date(2026, 3, 2), hours=Decimal("1"), rate=Decimal("1"))
    with pytest.raises(ProviderError) as caught:
        await plugin.export_time_entry(session=qb.session, entry=entry, link=None, idempotency_key="lb-pl")
    assert caught.value.code == "plan_limit" and "time tracking" in caught.value.message
    assert not qb.requests_to("employee")  # nothing written before refusing


async def test_another_realm_is_environment_mismatch(qb: Connected):
    with pytest.raises(ProviderError) as caught:
        await plugin.import_customers(session=qb.new_session(tenant_id=REALM_2), cursor=None)
    assert caught.value.code == "environment_mismatch"


async def test_time_billed_here_goes_as_has_been_billed_and_time_alone_as_billable(qb: Connected):
    customer = _find(qb, "Customer", "DisplayName", "Cool Cars")["Id"]
    alone = TimeEntryData(local_id=1, customer_id=customer, item_id=None, person="Emily Platt", person_email="",
                          worked_on=date(2026, 3, 2), hours=Decimal("1"), rate=Decimal("80"))
    billed = TimeEntryData(**{**alone.__dict__, "local_id": 2, "billed": True})
    first = await plugin.export_time_entry(session=qb.session, entry=alone, link=None, idempotency_key="lb-tb1")
    second = await plugin.export_time_entry(session=qb.session, entry=billed, link=None, idempotency_key="lb-tb2")
    assert _find(qb, "TimeActivity", "Id", first.remote_id)["BillableStatus"] == "Billable"
    assert _find(qb, "TimeActivity", "Id", second.remote_id)["BillableStatus"] == "HasBeenBilled"
    # Invoiced here later: the update marks the same activity as billed, so QuickBooks never offers it again.
    invoiced = TimeEntryData(**{**alone.__dict__, "billed": True})
    again = await plugin.export_time_entry(session=qb.session, entry=invoiced,
                                           link=LinkRef(first.remote_id, first.version), idempotency_key="lb-tb3")
    assert again.remote_id == first.remote_id
    assert _find(qb, "TimeActivity", "Id", first.remote_id)["BillableStatus"] == "HasBeenBilled"


async def test_a_company_outside_the_us_is_recorded_as_needing_a_tax_code_per_line(qb: Connected, qb_factory):
    assert qb.session.provider_data["tax_code_per_line"] is False  # the US demo company
    uk = await qb_factory(SandboxConfig(companies=(CompanyPreset(realm_id="9341453170013431",
                                                                 company_name="Sandbox Company UK", country="GB"),)))
    assert uk.session.provider_data["country"] == "GB"
    assert uk.session.provider_data["tax_code_per_line"] is True


async def test_an_overpayment_leaves_unapplied_credit_and_a_void_gives_the_balance_back(qb: Connected):
    inv = await plugin.export_invoice(session=qb.session, invoice=_invoice(qb, number="OV-1"), link=None,
                                      idempotency_key="lb-ov1")  # 150.00
    customer = _find(qb, "Customer", "DisplayName", "Cool Cars")["Id"]
    pay = await plugin.export_payment(session=qb.session, payment=PaymentData(
        local_id=7, invoice_id=inv.remote_id, customer_id=customer, paid_on=date(2026, 3, 2),
        amount=Decimal("180.00"), applied_amount=Decimal("150.00")), link=None, idempotency_key="lb-ov2")
    stored = _find(qb, "Payment", "Id", pay.remote_id)
    assert (Decimal(str(stored["TotalAmt"])), Decimal(str(stored["UnappliedAmt"]))) == (Decimal("180.00"),
                                                                                        Decimal("30.00"))
    assert Decimal(str(_find(qb, "Invoice", "Id", inv.remote_id)["Balance"])) == 0

    link = LinkRef(pay.remote_id, pay.version)
    voided = await plugin.void_payment(session=qb.session, link=link, idempotency_key="lb-ov3")
    assert voided.remote_id == pay.remote_id
    writes = [r for r in qb.requests_to("payment") if r.method == "POST"]
    assert (writes[-1].url.params["operation"], writes[-1].url.params["include"]) == ("update", "void")
    assert Decimal(str(_find(qb, "Invoice", "Id", inv.remote_id)["Balance"])) == Decimal("150.00")
    assert Decimal(str(_find(qb, "Payment", "Id", pay.remote_id)["TotalAmt"])) == 0
    again = await plugin.void_payment(session=qb.session, link=link, idempotency_key="lb-ov4")  # a resumed run
    assert again.remote_id == pay.remote_id and again.already_removed and not voided.already_removed
    assert len([r for r in qb.requests_to("payment") if r.method == "POST"]) == len(writes)
