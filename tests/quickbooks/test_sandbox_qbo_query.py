"""The query language subset, over HTTP, against the seeded demo company."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from qbo_harness import START, QboHarness, loads

ACTIVE_CUSTOMERS = ["Amy's Bird Sanctuary", "Bill's Windsurf Shop", "Cool Cars"]


def names(rows: list[dict], key: str = "DisplayName") -> list[str]:
    return [row[key] for row in rows]


def test_select_all_excludes_inactive_and_reports_paging(qbo: QboHarness) -> None:
    result = qbo.query("SELECT * FROM Customer")
    assert names(result["Customer"]) == ACTIVE_CUSTOMERS
    assert result["startPosition"] == 1 and result["maxResults"] == 3


def test_active_filters_include_inactive_records(qbo: QboHarness) -> None:
    both = qbo.query("SELECT * FROM Customer WHERE Active IN (true, false)")
    assert len(both["Customer"]) == 4
    inactive = qbo.query("select * from Customer where Active = false")
    assert names(inactive["Customer"]) == ["Inactive Customer Ltd"]


def test_keywords_entity_and_values_are_case_insensitive(qbo: QboHarness) -> None:
    result = qbo.query("select * from customer where displayname = 'cool cars'")
    assert names(result["Customer"]) == ["Cool Cars"]


def test_count(qbo: QboHarness) -> None:
    assert qbo.query("SELECT COUNT(*) FROM Item") == {"totalCount": 4}
    assert qbo.query("SELECT count(*) FROM Item WHERE Active IN (true,false)") == {"totalCount": 5}


def test_empty_result_shape(qbo: QboHarness) -> None:
    response = qbo.get("query", params={"query": "SELECT * FROM Customer WHERE DisplayName = 'Nobody'"})
    body = loads(response.text)
    assert set(body) == {"QueryResponse", "time"}
    assert body["QueryResponse"] == {}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", body["time"])


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("%Car%", ["Cool Cars"]), ("Amy%", ["Amy's Bird Sanctuary"]), ("%shop", ["Bill's Windsurf Shop"])],
)
def test_like(qbo: QboHarness, pattern: str, expected: list[str]) -> None:
    assert names(qbo.query(f"SELECT * FROM Customer WHERE DisplayName LIKE '{pattern}'")["Customer"]) == expected


def test_in_with_escaped_quote(qbo: QboHarness) -> None:
    result = qbo.query("SELECT * FROM Customer WHERE DisplayName IN ('Cool Cars', 'Amy\\'s Bird Sanctuary')")
    assert names(result["Customer"]) == ["Amy's Bird Sanctuary", "Cool Cars"]


def test_id_comparisons_are_numeric(qbo: QboHarness) -> None:
    accounts = qbo.query("SELECT * FROM Account WHERE Active IN (true, false) MAXRESULTS 1000")["Account"]
    ids = sorted(int(a["Id"]) for a in accounts)
    pivot = next(i for i in ids if i >= 9 and i + 1 in ids and len(str(i)) < len(str(max(ids))))
    result = qbo.query(f"SELECT * FROM Account WHERE Id >= '{pivot}' AND Active IN (true, false)")["Account"]
    assert sorted(int(a["Id"]) for a in result) == [i for i in ids if i >= pivot]
    lower = qbo.query(f"SELECT * FROM Account WHERE Id < '{pivot}' AND Id > '{ids[0]}' AND Active IN (true,false)")
    assert sorted(int(a["Id"]) for a in lower["Account"]) == [i for i in ids if ids[0] < i < pivot]


def test_orderby_and_default_order(qbo: QboHarness) -> None:
    desc = qbo.query("SELECT * FROM Customer ORDERBY DisplayName DESC")
    assert names(desc["Customer"]) == sorted(ACTIVE_CUSTOMERS, reverse=True)
    asc = qbo.query("SELECT * FROM Customer ORDERBY DisplayName ASC")
    assert names(asc["Customer"]) == sorted(ACTIVE_CUSTOMERS)
    ids = [int(c["Id"]) for c in qbo.query("SELECT * FROM Customer")["Customer"]]
    assert ids == sorted(ids)


def test_startposition_is_one_based_and_maxresults_pages(qbo: QboHarness) -> None:
    page = qbo.query("SELECT * FROM Customer ORDERBY DisplayName STARTPOSITION 2 MAXRESULTS 1")
    assert names(page["Customer"]) == ["Bill's Windsurf Shop"]
    assert page["startPosition"] == 2 and page["maxResults"] == 1
    assert qbo.query("SELECT * FROM Customer STARTPOSITION 10") == {}


def test_maxresults_default_100_and_cap_1000(qbo: QboHarness) -> None:
    service, realm = qbo.sandbox.service, qbo.realm
    account = qbo.find("Account", "Name", "Services")["Id"]
    for index in range(1005):
        service.create(
            realm, "Item", {"Name": f"Bulk {index:04d}", "Type": "Service", "IncomeAccountRef": {"value": account}}
        )
    assert qbo.query("SELECT * FROM Item")["maxResults"] == 100
    capped = qbo.query("SELECT * FROM Item MAXRESULTS 5000")
    assert capped["maxResults"] == 1000 and len(capped["Item"]) == 1000
    last = qbo.query("SELECT * FROM Item STARTPOSITION 1001 MAXRESULTS 1000")
    assert len(last["Item"]) == 1009 - 1000


def test_account_type_income_filter(qbo: QboHarness) -> None:
    income = qbo.query("SELECT * FROM Account WHERE AccountType = 'Income'")["Account"]
    assert sorted(names(income, "Name")) == ["Discounts given", "Sales of Product Income", "Services"]
    assert all(a["Classification"] == "Revenue" for a in income)
    with_inactive = qbo.query("SELECT * FROM Account WHERE AccountType = 'Income' AND Active IN (true, false)")
    assert "Fees Billed (deleted)" in names(with_inactive["Account"], "Name")


def test_last_updated_time_filter_both_spellings(qbo: QboHarness) -> None:
    qbo.advance(600)
    customer = qbo.find("Customer", "DisplayName", "Cool Cars")
    qbo.create(
        "customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Notes": "touched"}
    )
    cutoff = (START + timedelta(minutes=5)).astimezone().isoformat()
    for spelling in ("MetaData", "Metadata", "metadata"):
        result = qbo.query(f"SELECT * FROM Customer WHERE {spelling}.LastUpdatedTime > '{cutoff}'")
        assert names(result["Customer"]) == ["Cool Cars"], spelling
    assert qbo.query(f"SELECT * FROM Customer WHERE MetaData.LastUpdatedTime < '{cutoff}'")["maxResults"] == 2


def test_docnumber_and_name_filters(qbo: QboHarness) -> None:
    invoices = qbo.query("SELECT * FROM Invoice WHERE DocNumber = '1001'")["Invoice"]
    assert len(invoices) == 1
    items = qbo.query("SELECT * FROM Item WHERE Name = 'Design'")["Item"]
    assert names(items, "Name") == ["Design"]


def test_select_named_fields(qbo: QboHarness) -> None:
    rows = qbo.query("SELECT Id, DisplayName FROM Customer")["Customer"]
    assert set(rows[0]) == {"Id", "DisplayName", "domain", "sparse"} and rows[0]["sparse"] is True


def test_post_query_with_application_text(qbo: QboHarness) -> None:
    response = qbo.http.post(
        qbo.path("query"), content=b"SELECT * FROM Employee", headers={"Content-Type": "application/text"}
    )
    assert len(qbo.ok(response)["QueryResponse"]["Employee"]) == 2


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM Unicorn",
        "SELECT * Customer",
        "SELECT * FROM Customer WHERE DisplayName = 'a' OR DisplayName = 'b'",
        "SELECT * FROM Customer WHERE FavouriteColour = 'blue'",
        "SELECT * FROM Customer WHERE DisplayName != 'x'",
        "SELECT * FROM Customer WHERE DisplayName = unquoted",
        "SELECT * FROM Customer MAXRESULTS 0",
        "DELETE FROM Customer",
    ],
)
def test_invalid_queries_are_4001(qbo: QboHarness, text: str) -> None:
    error = qbo.fault(qbo.get("query", params={"query": text}))
    assert error["code"] == "4001"
