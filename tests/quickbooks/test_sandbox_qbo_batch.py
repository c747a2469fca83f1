"""Batch operations and requestid idempotency."""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge_testing.sandbox import jsoncodec
from qbo_harness import REALM_2, QboHarness, loads


def count_invoices(qbo: QboHarness) -> int:
    return qbo.query("SELECT COUNT(*) FROM Invoice")["totalCount"]


# -- requestid ----------------------------------------------------------------------------------------------


def test_requestid_replays_without_creating_a_second_invoice(qbo: QboHarness) -> None:
    before = count_invoices(qbo)
    body = qbo.invoice_body("10.00")
    first = qbo.post("invoice", body, params={"requestid": "req-001"})
    second = qbo.post("invoice", body, params={"requestid": "req-001"})
    assert first.status_code == second.status_code == 200
    assert first.content == second.content  # byte-for-byte replay, same Id and time
    assert count_invoices(qbo) == before + 1
    third = qbo.post("invoice", body, params={"requestid": "req-002"})
    assert loads(third.text)["Invoice"]["Id"] != loads(first.text)["Invoice"]["Id"]
    assert count_invoices(qbo) == before + 2


def test_requestid_replay_ignores_a_changed_body(qbo: QboHarness) -> None:
    first = qbo.create("invoice", qbo.invoice_body("10.00"), requestid="same")
    again = qbo.create("invoice", qbo.invoice_body("99.00"), requestid="same")
    assert again["Id"] == first["Id"] and again["TotalAmt"] == Decimal("10.00")


def test_requestid_replays_failures_too(qbo: QboHarness) -> None:
    bad = qbo.post("customer", {"DisplayName": "Cool Cars"}, params={"requestid": "dup-name"})
    assert qbo.fault(bad)["code"] == "6240"
    retry = qbo.post("customer", {"DisplayName": "Brand New Name"}, params={"requestid": "dup-name"})
    assert retry.status_code == 400 and retry.content == bad.content
    assert qbo.query("SELECT * FROM Customer WHERE DisplayName = 'Brand New Name'") == {}


def test_requestid_is_scoped_per_company(qbo: QboHarness) -> None:
    qbo.create("customer", {"DisplayName": "Scoped"}, requestid="shared-id")
    other = qbo.client_for(REALM_2)
    response = other.post(
        f"/v3/company/{REALM_2}/customer",
        params={"requestid": "shared-id"},
        content=jsoncodec.dumps({"DisplayName": "Scoped"}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert loads(response.text)["Customer"]["DisplayName"] == "Scoped"


def test_requestid_longer_than_50_is_refused(qbo: QboHarness) -> None:
    error = qbo.fault(qbo.post("customer", {"DisplayName": "Long Id"}, params={"requestid": "x" * 51}))
    assert error["code"] == "6000"
    assert qbo.create("customer", {"DisplayName": "Fifty"}, requestid="y" * 50)


def test_requestid_on_delete_replays(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body())
    body = {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
    first = qbo.post("invoice", body, params={"operation": "delete", "requestid": "del-1"})
    second = qbo.post("invoice", body, params={"operation": "delete", "requestid": "del-1"})
    assert first.status_code == second.status_code == 200  # a retried delete does not fail with 610


# -- batch --------------------------------------------------------------------------------------------------


def test_batch_mixed_results_with_per_item_faults(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("20.00"))
    body = {
        "BatchItemRequest": [
            {"bId": "b1", "operation": "create", "Customer": {"DisplayName": "Batch Customer"}},
            {"bId": "b2", "operation": "create", "Customer": {"DisplayName": "Cool Cars"}},
            {"bId": "b3", "operation": "update", "Invoice": {"Id": invoice["Id"], "SyncToken": "7", "sparse": True}},
            {"bId": "b4", "Query": "SELECT * FROM Item WHERE Name = 'Design'"},
            {"bId": "b5", "operation": "delete", "Invoice": {"Id": invoice["Id"], "SyncToken": "0"}},
            {"bId": "b6", "operation": "update", "optionsData": "void", "Invoice": {"Id": "424242", "SyncToken": "0"}},
        ]
    }
    response = qbo.post("batch", body)
    assert response.status_code == 200
    items = {item["bId"]: item for item in loads(response.text)["BatchItemResponse"]}
    assert items["b1"]["Customer"]["DisplayName"] == "Batch Customer"
    assert items["b2"]["Fault"]["Error"][0]["code"] == "6240"
    assert items["b2"]["Fault"]["type"] == "ValidationFault"
    assert items["b3"]["Fault"]["Error"][0]["code"] == "5010"
    assert items["b4"]["QueryResponse"]["Item"][0]["Name"] == "Design"
    assert items["b5"]["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": invoice["Id"]}
    assert items["b6"]["Fault"]["Error"][0]["code"] == "610"
    assert qbo.find("Customer", "DisplayName", "Batch Customer")


def test_batch_items_cannot_see_each_others_results(qbo: QboHarness) -> None:
    account = qbo.find("Account", "Name", "Services")["Id"]
    first = {
        "bId": "1",
        "operation": "create",
        "Item": {"Name": "Fresh", "Type": "Service", "IncomeAccountRef": {"value": account}},
    }
    response = qbo.ok(qbo.post("batch", {"BatchItemRequest": [first]}))
    created_id = response["BatchItemResponse"][0]["Item"]["Id"]
    next_id = str(int(created_id) + 1)
    # item 2 guesses the id item 1 will get; QBO does not let it see that object
    body = {
        "BatchItemRequest": [
            {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Invisible"}},
            {
                "bId": "2",
                "operation": "create",
                "Invoice": {
                    "CustomerRef": {"value": next_id},
                    "Line": [
                        {
                            "Amount": 5,
                            "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": {"ItemRef": {"value": created_id}},
                        }
                    ],
                },
            },
            {"bId": "3", "Query": "SELECT * FROM Customer WHERE DisplayName = 'Invisible'"},
        ]
    }
    items = qbo.ok(qbo.post("batch", body))["BatchItemResponse"]
    assert items[0]["Customer"]["Id"] == next_id
    assert items[1]["Fault"]["Error"][0]["code"] == "2500"
    assert items[2]["QueryResponse"] == {}
    assert qbo.find("Customer", "DisplayName", "Invisible")["Id"] == next_id  # visible after the batch


def test_batch_over_30_items_is_refused(qbo: QboHarness) -> None:
    items = [{"bId": str(i), "Query": "SELECT * FROM Item"} for i in range(31)]
    assert qbo.fault(qbo.post("batch", {"BatchItemRequest": items}))["code"] == "6000"
    assert qbo.post("batch", {"BatchItemRequest": items[:30]}).status_code == 200


def test_batch_requestid_rules_and_replay(qbo: QboHarness) -> None:
    body = {
        "BatchItemRequest": [
            {"bId": "short", "operation": "create", "Customer": {"DisplayName": "Once"}},
            {"bId": "much-too-long-bid", "operation": "create", "Customer": {"DisplayName": "Twice"}},
        ]
    }
    first = qbo.post("batch", body, params={"requestid": "batch-1"})
    items = loads(first.text)["BatchItemResponse"]
    assert "Customer" in items[0]
    assert items[1]["Fault"]["Error"][0]["code"] == "6000"
    again = qbo.post("batch", body, params={"requestid": "batch-1"})
    assert again.content == first.content
    assert qbo.query("SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Once'") == {"totalCount": 1}
    too_long = qbo.post("batch", body, params={"requestid": "r" * 37})
    assert qbo.fault(too_long)["code"] == "6000"


def test_batch_void_payment_and_unknown_entity(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("30.00"))
    payment = qbo.create(
        "payment",
        {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": Decimal("30"),
            "Line": [{"Amount": Decimal("30"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    body = {
        "BatchItemRequest": [
            {
                "bId": "v",
                "operation": "update",
                "optionsData": "void",
                "Payment": {"Id": payment["Id"], "SyncToken": payment["SyncToken"], "sparse": True},
            },
            {"bId": "u", "operation": "create", "Unicorn": {"Name": "x"}},
        ]
    }
    items = qbo.ok(qbo.post("batch", body))["BatchItemResponse"]
    assert items[0]["Payment"]["TotalAmt"] == 0
    assert items[1]["Fault"]["Error"][0]["code"] == "2010"
    assert qbo.read("invoice", invoice["Id"])["Balance"] == Decimal("30.00")
