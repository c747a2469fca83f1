"""Change data capture over HTTP."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from qbo_harness import START, QboHarness


def cdc(qbo: QboHarness, entities: str, since: str) -> list[dict]:
    body = qbo.ok(qbo.get("cdc", params={"entities": entities, "changedSince": since}))
    assert set(body) == {"CDCResponse", "time"}
    return body["CDCResponse"][0]["QueryResponse"]


def iso(delta: timedelta) -> str:
    return (START + delta).isoformat()


def test_cdc_returns_only_objects_changed_since(qbo: QboHarness) -> None:
    qbo.advance(3600)
    customer = qbo.create("customer", {"DisplayName": "Changed Later"})
    invoice = qbo.find("Invoice", "DocNumber", "1001")
    qbo.create(
        "invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"], "sparse": True, "PrivateNote": "edited"}
    )
    result = cdc(qbo, "Customer,Invoice,Item", iso(timedelta(minutes=30)))
    assert [list(entry)[:1] for entry in result] == [["Customer"], ["Invoice"], []]
    assert [c["Id"] for c in result[0]["Customer"]] == [customer["Id"]]
    assert result[1]["Invoice"][0]["PrivateNote"] == "edited"  # full payloads
    assert result[1]["startPosition"] == 1 and result[1]["maxResults"] == 1
    everything = cdc(qbo, "Customer", iso(timedelta(minutes=-1)))
    assert len(everything[0]["Customer"]) == 5  # deactivated customers are changes too


def test_cdc_reports_deleted_objects_minimally(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body())
    qbo.advance(120)
    qbo.ok(
        qbo.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, params={"operation": "delete"})
    )
    result = cdc(qbo, "Invoice", iso(timedelta(minutes=1)))
    deleted = [row for row in result[0]["Invoice"] if row["Id"] == invoice["Id"]]
    assert len(deleted) == 1
    assert set(deleted[0]) == {"Id", "status", "domain", "MetaData"}
    assert deleted[0]["status"] == "Deleted" and deleted[0]["domain"] == "QBO"


def test_cdc_includes_voided_invoices_and_payment_side_effects(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("40.00"))
    other = qbo.create("invoice", qbo.invoice_body("15.00"))
    qbo.advance(600)
    qbo.ok(qbo.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, params={"operation": "void"}))
    qbo.create(
        "payment",
        {
            "CustomerRef": other["CustomerRef"],
            "TotalAmt": Decimal("15"),
            "Line": [{"Amount": Decimal("15"), "LinkedTxn": [{"TxnId": other["Id"], "TxnType": "Invoice"}]}],
        },
    )
    result = cdc(qbo, "Invoice,Payment", iso(timedelta(minutes=5)))
    by_id = {row["Id"]: row for row in result[0]["Invoice"]}
    assert by_id[invoice["Id"]]["TotalAmt"] == 0
    assert by_id[other["Id"]]["Balance"] == 0
    assert len(result[1]["Payment"]) == 1


def test_cdc_look_back_is_limited_to_30_days(qbo: QboHarness) -> None:
    assert cdc(qbo, "Customer", iso(timedelta(days=-29)))
    error = qbo.fault(qbo.get("cdc", params={"entities": "Customer", "changedSince": iso(timedelta(days=-31))}))
    assert error["code"] == "6000"
    qbo.advance(2 * 86400)
    error = qbo.fault(qbo.get("cdc", params={"entities": "Customer", "changedSince": iso(timedelta(days=-29))}))
    assert error["code"] == "6000"


def test_cdc_accepts_a_plain_date(qbo: QboHarness) -> None:
    assert cdc(qbo, "Customer", START.date().isoformat())[0]["Customer"]


@pytest.mark.parametrize("entity", ["TaxCode", "TaxRate", "TimeActivity", "Unicorn"])
def test_cdc_unavailable_entities(qbo: QboHarness, entity: str) -> None:
    response = qbo.get("cdc", params={"entities": f"Customer,{entity}", "changedSince": START.isoformat()})
    assert qbo.fault(response)["code"] == "4001"


def test_cdc_requires_its_parameters(qbo: QboHarness) -> None:
    assert qbo.fault(qbo.get("cdc", params={"entities": "Customer"}))["code"] == "2020"
    assert qbo.fault(qbo.get("cdc", params={"changedSince": START.isoformat()}))["code"] == "2020"


def test_cdc_caps_at_1000_objects(qbo: QboHarness) -> None:
    for index in range(1001):
        qbo.sandbox.service.create(qbo.realm, "Customer", {"DisplayName": f"Bulk Customer {index}"})
    result = cdc(qbo, "Customer,Invoice", iso(timedelta(minutes=-1)))
    assert len(result[0]["Customer"]) == 1000
    assert result[1] == {}
