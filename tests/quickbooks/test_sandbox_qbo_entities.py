"""Entity rules that bite real integrations, exercised over HTTP."""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge_quickbooks.sandbox import CompanyPreset, SandboxConfig
from ledgerbridge_testing.sandbox import jsoncodec
from qbo_harness import REALM_2, QboHarness, loads


def line(item_id: str, amount: str, tax: str = "NON", **detail: object) -> dict:
    return {
        "Amount": Decimal(amount),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "TaxCodeRef": {"value": tax}, **detail},
    }


# -- SyncToken ----------------------------------------------------------------------------------------------


def test_each_write_increments_synctoken_and_stale_token_is_5010(qbo: QboHarness) -> None:
    created = qbo.create("customer", {"DisplayName": "Sync Test"})
    assert created["SyncToken"] == "0"
    updated = qbo.create("customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "a"})
    assert updated["SyncToken"] == "1"
    stale = qbo.post("customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "b"})
    error = qbo.fault(stale)
    assert error["code"] == "5010" and error["Message"] == "Stale Object Error"
    assert qbo.read("customer", created["Id"])["Notes"] == "a"


def test_update_without_synctoken_is_rejected(qbo: QboHarness) -> None:
    created = qbo.create("customer", {"DisplayName": "No Token"})
    assert qbo.fault(qbo.post("customer", {"Id": created["Id"], "sparse": True, "Notes": "x"}))["code"] == "2020"


def test_sparse_update_keeps_other_fields_full_update_clears_them(qbo: QboHarness) -> None:
    created = qbo.create(
        "customer", {"DisplayName": "Sparse Co", "Notes": "keep me", "PrimaryEmailAddr": {"Address": "a@example.com"}}
    )
    sparse = qbo.create("customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "S"})
    assert sparse["Notes"] == "keep me" and sparse["CompanyName"] == "S"
    full = qbo.create("customer", {"Id": created["Id"], "SyncToken": "1", "DisplayName": "Sparse Co"})
    assert "Notes" not in full and "PrimaryEmailAddr" not in full and "CompanyName" not in full


# -- names --------------------------------------------------------------------------------------------------


def test_duplicate_customer_display_name_is_6240_case_insensitive(qbo: QboHarness) -> None:
    error = qbo.fault(qbo.post("customer", {"DisplayName": "cool  CARS"}))
    assert error["code"] == "6240" and error["Message"] == "Duplicate Name Exists Error"


def test_display_name_unique_across_customers_and_employees_and_inactive(qbo: QboHarness) -> None:
    assert qbo.fault(qbo.post("customer", {"DisplayName": "Emily Platt"}))["code"] == "6240"
    assert qbo.fault(qbo.post("customer", {"DisplayName": "Inactive Customer Ltd"}))["code"] == "6240"
    assert qbo.fault(qbo.post("employee", {"GivenName": "Cool", "FamilyName": "Cars"}))["code"] == "6240"


def test_rename_into_existing_name_is_6240(qbo: QboHarness) -> None:
    customer = qbo.find("Customer", "DisplayName", "Cool Cars")
    body = {
        "Id": customer["Id"],
        "SyncToken": customer["SyncToken"],
        "sparse": True,
        "DisplayName": "Bill's Windsurf Shop",
    }
    assert qbo.fault(qbo.post("customer", body))["code"] == "6240"


def test_display_name_derived_from_name_parts(qbo: QboHarness) -> None:
    created = qbo.create("customer", {"GivenName": "Ada", "FamilyName": "Lovelace"})
    assert created["DisplayName"] == "Ada Lovelace" and created["FullyQualifiedName"] == "Ada Lovelace"
    assert qbo.fault(qbo.post("customer", {"Notes": "nameless"}))["code"] == "2020"


def test_item_name_unique_and_income_account_required(qbo: QboHarness) -> None:
    account = qbo.find("Account", "Name", "Services")["Id"]
    assert (
        qbo.fault(qbo.post("item", {"Name": "design", "Type": "Service", "IncomeAccountRef": {"value": account}}))[
            "code"
        ]
        == "6240"
    )
    missing = qbo.fault(qbo.post("item", {"Name": "No Account", "Type": "Service"}))
    assert missing["code"] == "2020" and missing["element"] == "IncomeAccountRef"
    assert qbo.fault(qbo.post("item", {"Name": "Typeless", "IncomeAccountRef": {"value": account}}))["code"] == "2020"
    item = qbo.create(
        "item",
        {
            "Name": "Consulting",
            "Type": "NonInventory",
            "UnitPrice": Decimal("12.5"),
            "IncomeAccountRef": {"value": account},
        },
    )
    assert item["IncomeAccountRef"] == {"value": account, "name": "Services"}


def test_deactivation_appends_deleted_to_item_and_account_names(qbo: QboHarness) -> None:
    item = qbo.find("Item", "Name", "Hours")
    gone = qbo.create("item", {"Id": item["Id"], "SyncToken": item["SyncToken"], "sparse": True, "Active": False})
    assert gone["Name"] == "Hours (deleted)" and gone["Active"] is False
    # the old name is free again
    account = qbo.find("Account", "Name", "Services")["Id"]
    assert qbo.create("item", {"Name": "Hours", "Type": "Service", "IncomeAccountRef": {"value": account}})
    acct = qbo.find("Account", "Name", "Other Ordinary Income")
    closed = qbo.create("account", {"Id": acct["Id"], "SyncToken": acct["SyncToken"], "sparse": True, "Active": False})
    assert closed["Name"] == "Other Ordinary Income (deleted)"
    assert "Other Ordinary Income" not in [a["Name"] for a in qbo.query("SELECT * FROM Account")["Account"]]


def test_account_classification_and_duplicate_name(qbo: QboHarness) -> None:
    created = qbo.create("account", {"Name": "Consulting Income", "AccountType": "Income"})
    assert created["Classification"] == "Revenue" and created["AccountSubType"]
    assert qbo.fault(qbo.post("account", {"Name": "consulting income", "AccountType": "Income"}))["code"] == "6240"
    assert qbo.fault(qbo.post("account", {"Name": "Bad", "AccountType": "Cash"}))["code"] == "2170"


# -- validation ---------------------------------------------------------------------------------------------


def test_unknown_property_is_2010_even_nested(qbo: QboHarness) -> None:
    top = qbo.fault(qbo.post("customer", {"DisplayName": "X", "Colour": "red"}))
    assert top["code"] == "2010" and top["element"] == "Colour"
    nested = qbo.fault(qbo.post("customer", {"DisplayName": "Y", "BillAddr": {"Lin1": "typo"}}))
    assert nested["code"] == "2010"
    wrapped = qbo.fault(qbo.post("customer", {"Customer": {"DisplayName": "Z"}}))
    assert wrapped["code"] == "2010"


def test_bad_enum_and_bad_types(qbo: QboHarness) -> None:
    body = qbo.invoice_body(EmailStatus="Sent")
    assert qbo.fault(qbo.post("invoice", body))["code"] == "2170"
    assert qbo.fault(qbo.post("customer", {"DisplayName": "T", "Taxable": "maybe"}))["code"] == "2010"
    assert qbo.fault(qbo.post("invoice", qbo.invoice_body(TxnDate="2026-02-30")))["code"] == "2010"


def test_invalid_and_inactive_references(qbo: QboHarness) -> None:
    body = qbo.invoice_body()
    body["CustomerRef"] = {"value": "99999"}
    assert qbo.fault(qbo.post("invoice", body))["code"] == "2500"
    inactive = qbo.find("Customer", "DisplayName", "Inactive Customer Ltd")["Id"]
    body["CustomerRef"] = {"value": inactive}
    assert qbo.fault(qbo.post("invoice", body))["code"] == "610"
    retired = qbo.find("Item", "Name", "Retired Service (deleted)")["Id"]
    body = qbo.invoice_body()
    body["Line"][0]["SalesItemLineDetail"]["ItemRef"] = {"value": retired}
    assert qbo.fault(qbo.post("invoice", body))["code"] == "610"


def test_read_missing_and_non_numeric_ids(qbo: QboHarness) -> None:
    assert qbo.fault(qbo.get("customer/987654"))["code"] == "610"
    assert qbo.fault(qbo.get("customer/abc"))["code"] == "2030"


def test_taxcode_is_read_only(qbo: QboHarness) -> None:
    assert qbo.read("taxcode", "TAX")["Taxable"] is True
    assert qbo.fault(qbo.post("taxcode", {"Name": "New"}))["code"] == "500"


# -- invoices -----------------------------------------------------------------------------------------------


def test_totals_tax_and_subtotal_line_are_computed_in_decimal(qbo: QboHarness) -> None:
    design = qbo.find("Item", "Name", "Design")["Id"]
    install = qbo.find("Item", "Name", "Installation")["Id"]
    customer = qbo.find("Customer", "DisplayName", "Cool Cars")["Id"]
    invoice = qbo.create(
        "invoice",
        {
            "CustomerRef": {"value": customer},
            "Line": [
                line(design, "0.10", "TAX"),
                line(install, "0.20", "TAX"),
                line(design, "33.33", "NON", Qty=Decimal(3), UnitPrice=Decimal("11.11")),
                {"DetailType": "DescriptionOnly", "Description": "thanks"},
            ],
            "TotalAmt": Decimal("1"),  # read-only: ignored
        },
    )
    subtotal = [ln for ln in invoice["Line"] if ln["DetailType"] == "SubTotalLineDetail"]
    assert len(subtotal) == 1 and subtotal[0]["Amount"] == Decimal("33.63")
    assert invoice["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    tax = invoice["TxnTaxDetail"]
    assert tax["TotalTax"] == Decimal("0.02")  # 8.25% of 0.30 = 0.02475 -> 0.02
    assert tax["TaxLine"][0]["TaxLineDetail"]["NetAmountTaxable"] == Decimal("0.30")
    assert invoice["TotalAmt"] == Decimal("33.65") and invoice["Balance"] == Decimal("33.65")
    assert [ln.get("LineNum") for ln in invoice["Line"][:4]] == [1, 2, 3, 4]


def test_qty_times_price_must_match_amount(qbo: QboHarness) -> None:
    body = qbo.invoice_body()
    body["Line"][0]["SalesItemLineDetail"].update({"Qty": Decimal(2), "UnitPrice": Decimal("10")})
    assert qbo.fault(qbo.post("invoice", body))["code"] == "6000"


def test_us_line_tax_code_must_be_tax_or_non(qbo: QboHarness) -> None:
    body = qbo.invoice_body()
    body["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"] = {"value": "GST"}
    assert qbo.fault(qbo.post("invoice", body))["code"] == "2500"
    del body["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"]
    created = qbo.create("invoice", body)  # Design is not taxable: defaults to NON
    assert created["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "NON"}


def test_docnumber_sequence_max_length_and_duplicates(qbo: QboHarness) -> None:
    first = qbo.create("invoice", qbo.invoice_body())
    assert first["DocNumber"] == "1002"  # the seeded invoice is 1001
    too_long = qbo.fault(qbo.post("invoice", qbo.invoice_body(DocNumber="X" * 22)))
    assert too_long["code"] == "2050" and too_long["element"] == "DocNumber"
    assert qbo.create("invoice", qbo.invoice_body(DocNumber="Y" * 21))["DocNumber"] == "Y" * 21
    duplicate = qbo.fault(qbo.post("invoice", qbo.invoice_body(DocNumber="1002")))
    assert duplicate["code"] == "6140"
    assert qbo.create("invoice", qbo.invoice_body(DocNumber="AUTO_GENERATE"))["DocNumber"] == "1003"


def test_custom_numbers_on_and_duplicates_allowed_when_warning_off(qbo: QboHarness) -> None:
    http = qbo.client_for(REALM_2)
    customer = loads(
        http.get(f"/v3/company/{REALM_2}/query", params={"query": "SELECT * FROM Customer MAXRESULTS 1"}).text
    )
    item = loads(
        http.get(f"/v3/company/{REALM_2}/query", params={"query": "SELECT * FROM Item WHERE Name = 'Consulting'"}).text
    )
    body = {
        "CustomerRef": {"value": customer["QueryResponse"]["Customer"][0]["Id"]},
        "Line": [line(item["QueryResponse"]["Item"][0]["Id"], "120.00")],
    }

    def post(payload: dict) -> object:
        return http.post(
            f"/v3/company/{REALM_2}/invoice",
            content=jsoncodec.dumps(payload),
            headers={"Content-Type": "application/json"},
        )

    no_number = loads(post(body).text)["Invoice"]
    assert "DocNumber" not in no_number  # custom numbers on: QBO leaves it empty
    auto = loads(post({**body, "DocNumber": "AUTO_GENERATE"}).text)
    assert auto["Invoice"]["DocNumber"] == "1001"
    one = post({**body, "DocNumber": "INV-7"})
    two = post({**body, "DocNumber": "INV-7"})
    assert one.status_code == 200 and two.status_code == 200  # duplicate warning off in this company


def test_preferences_expose_custom_numbers_and_drive_behaviour(qbo: QboHarness) -> None:
    prefs = qbo.ok(qbo.get("preferences"))["Preferences"]
    assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is False
    qbo.create(
        "preferences",
        {
            "Id": prefs["Id"],
            "SyncToken": prefs["SyncToken"],
            "sparse": True,
            "SalesFormsPrefs": {**prefs["SalesFormsPrefs"], "CustomTxnNumbers": True},
        },
    )
    assert "DocNumber" not in qbo.create("invoice", qbo.invoice_body())


def test_duplicate_check_can_be_configured_off(qbo_factory) -> None:  # type: ignore[no-untyped-def]
    config = SandboxConfig(companies=(CompanyPreset("1111", "Lenient Co", warn_duplicate_doc_number=False),))
    harness = qbo_factory(config, realm="1111")
    harness.create("invoice", harness.invoice_body(customer="Amy's Bird Sanctuary", DocNumber="A-1"))
    harness.create("invoice", harness.invoice_body(customer="Amy's Bird Sanctuary", DocNumber="A-1"))


def test_updating_docnumber_to_an_existing_one_is_6140(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body())
    error = qbo.fault(
        qbo.post(
            "invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"], "sparse": True, "DocNumber": "1001"}
        )
    )
    assert error["code"] == "6140"


# -- payments, void, delete ---------------------------------------------------------------------------------


def test_payment_lowers_balance_and_links_both_ways(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("200.00"))
    payment = qbo.create(
        "payment",
        {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": Decimal("150.00"),
            "Line": [{"Amount": Decimal("120.00"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    assert payment["UnappliedAmt"] == Decimal("30.00")
    after = qbo.read("invoice", invoice["Id"])
    assert after["Balance"] == Decimal("80.00")
    assert {"TxnId": payment["Id"], "TxnType": "Payment"} in after["LinkedTxn"]
    assert int(after["SyncToken"]) == int(invoice["SyncToken"]) + 1  # the link changed the invoice
    customer = qbo.read("customer", invoice["CustomerRef"]["value"])
    assert customer["Balance"] == Decimal("50.00")  # 80 open - 30 unapplied credit


def test_overpaying_an_invoice_or_another_customers_invoice_fails(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("10.00"))
    too_much = {
        "CustomerRef": invoice["CustomerRef"],
        "TotalAmt": Decimal("20"),
        "Line": [{"Amount": Decimal("20"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
    }
    assert qbo.fault(qbo.post("payment", too_much))["code"] == "6000"
    other = qbo.find("Customer", "DisplayName", "Amy's Bird Sanctuary")["Id"]
    wrong = {
        **too_much,
        "CustomerRef": {"value": other},
        "TotalAmt": Decimal("5"),
        "Line": [{"Amount": Decimal("5"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
    }
    assert qbo.fault(qbo.post("payment", wrong))["code"] == "6000"


def test_full_payment_makes_balance_zero(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("99.99"))
    qbo.create(
        "payment",
        {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": Decimal("99.99"),
            "Line": [{"Amount": Decimal("99.99"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    assert qbo.read("invoice", invoice["Id"])["Balance"] == Decimal("0.00")


def test_void_keeps_invoice_with_zero_amounts(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("45.00"))
    voided = qbo.ok(
        qbo.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, params={"operation": "void"})
    )["Invoice"]
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0
    assert voided["PrivateNote"] == "Voided" and voided["SyncToken"] == "1"
    assert all(ln.get("Amount", 0) == 0 for ln in voided["Line"])
    assert qbo.query(f"SELECT * FROM Invoice WHERE Id = '{invoice['Id']}'")["Invoice"][0]["TotalAmt"] == 0
    stale = qbo.post("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, params={"operation": "void"})
    assert qbo.fault(stale)["code"] == "5010"


def test_delete_removes_invoice_from_reads_and_queries(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("45.00"))
    response = qbo.ok(
        qbo.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, params={"operation": "delete"})
    )
    assert response["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": invoice["Id"]}
    gone = qbo.fault(qbo.get(f"invoice/{invoice['Id']}"))
    assert gone["code"] == "610" and "deleted" in gone["Detail"]
    assert qbo.query(f"SELECT * FROM Invoice WHERE Id = '{invoice['Id']}'") == {}


def test_deleting_a_paid_invoice_turns_the_payment_into_credit(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("60.00"))
    payment = qbo.create(
        "payment",
        {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": Decimal("60"),
            "Line": [{"Amount": Decimal("60"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    current = qbo.read("invoice", invoice["Id"])
    qbo.ok(
        qbo.post("invoice", {"Id": current["Id"], "SyncToken": current["SyncToken"]}, params={"operation": "delete"})
    )
    after = qbo.read("payment", payment["Id"])
    assert after["Line"] == [] and after["UnappliedAmt"] == Decimal("60.00")


def test_payment_delete_and_void_restore_invoice_balance(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("80.00"))
    link = [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    first = qbo.create(
        "payment",
        {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": Decimal("30"),
            "Line": [{"Amount": Decimal("30"), "LinkedTxn": link}],
        },
    )
    second = qbo.create(
        "payment",
        {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": Decimal("20"),
            "Line": [{"Amount": Decimal("20"), "LinkedTxn": link}],
        },
    )
    assert qbo.read("invoice", invoice["Id"])["Balance"] == Decimal("30.00")
    deleted = qbo.ok(
        qbo.post("payment", {"Id": first["Id"], "SyncToken": first["SyncToken"]}, params={"operation": "delete"})
    )
    assert deleted["Payment"]["status"] == "Deleted"
    assert qbo.read("invoice", invoice["Id"])["Balance"] == Decimal("60.00")
    voided = qbo.ok(
        qbo.post(
            "payment",
            {"Id": second["Id"], "SyncToken": second["SyncToken"], "sparse": True},
            params={"operation": "update", "include": "void"},
        )
    )["Payment"]
    assert voided["TotalAmt"] == 0
    after = qbo.read("invoice", invoice["Id"])
    assert after["Balance"] == Decimal("80.00") and after["LinkedTxn"] == []


def test_invoice_update_below_paid_amount_is_refused(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("50.00"))
    qbo.create(
        "payment",
        {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": Decimal("40"),
            "Line": [{"Amount": Decimal("40"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    current = qbo.read("invoice", invoice["Id"])
    lines = [ln for ln in current["Line"] if ln["DetailType"] != "SubTotalLineDetail"]
    lines[0]["Amount"] = Decimal("30.00")
    response = qbo.post(
        "invoice", {"Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True, "Line": lines}
    )
    assert qbo.fault(response)["code"] == "6000"


def test_invoice_send_sets_email_status(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body())
    sent = qbo.ok(qbo.http.post(qbo.path(f"invoice/{invoice['Id']}/send"), params={"sendTo": "a@b.example"}))
    assert sent["Invoice"]["EmailStatus"] == "EmailSent"


def test_invoice_link_only_with_online_payment_and_email(qbo: QboHarness) -> None:
    plain = qbo.create("invoice", qbo.invoice_body())
    assert "InvoiceLink" not in qbo.ok(qbo.get(f"invoice/{plain['Id']}", params={"include": "invoiceLink"}))["Invoice"]
    payable = qbo.create("invoice", qbo.invoice_body(AllowOnlineCreditCardPayment=True))
    read = qbo.ok(qbo.get(f"invoice/{payable['Id']}", params={"include": "invoiceLink", "minorversion": "40"}))
    assert read["Invoice"]["InvoiceLink"].startswith("http")


# -- employees and time -------------------------------------------------------------------------------------


def test_employee_and_time_activity(qbo: QboHarness) -> None:
    employee = qbo.create(
        "employee", {"GivenName": "Grace", "FamilyName": "Hopper", "BillableTime": True, "BillRate": Decimal("90")}
    )
    assert employee["DisplayName"] == "Grace Hopper"
    customer = qbo.find("Customer", "DisplayName", "Cool Cars")["Id"]
    activity = qbo.create(
        "timeactivity",
        {
            "NameOf": "Employee",
            "EmployeeRef": {"value": employee["Id"]},
            "CustomerRef": {"value": customer},
            "Hours": 2,
            "Minutes": 30,
            "BillableStatus": "Billable",
            "HourlyRate": Decimal("90"),
            "TxnDate": "2026-03-01",
            "Description": "Pairing",
        },
    )
    assert activity["EmployeeRef"]["name"] == "Grace Hopper" and activity["Hours"] == 2
    assert (
        qbo.fault(qbo.post("timeactivity", {"NameOf": "Employee", "EmployeeRef": {"value": employee["Id"]}}))["code"]
        == "2020"
    )
    deleted = qbo.ok(qbo.post("timeactivity", {"Id": activity["Id"], "SyncToken": "0"}, params={"operation": "delete"}))
    assert deleted["TimeActivity"]["status"] == "Deleted"


def test_company_info_read_and_update(qbo: QboHarness) -> None:
    info = qbo.read("companyinfo", qbo.realm)
    assert info["Country"] == "US" and info["CompanyAddr"]["Country"] == "USA"
    updated = qbo.create(
        "companyinfo", {"Id": info["Id"], "SyncToken": info["SyncToken"], "sparse": True, "LegalName": "Renamed LLC"}
    )
    assert updated["LegalName"] == "Renamed LLC" and updated["SyncToken"] == "1"


def test_customer_delete_operation_is_unsupported(qbo: QboHarness) -> None:
    customer = qbo.find("Customer", "DisplayName", "Cool Cars")
    response = qbo.post(
        "customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"]}, params={"operation": "delete"}
    )
    assert qbo.fault(response)["code"] == "500"


def test_minorversion_below_75_is_accepted_as_75(qbo: QboHarness) -> None:
    for version in ("4", "75", "99"):
        assert qbo.get("query", params={"query": "SELECT * FROM Item", "minorversion": version}).status_code == 200
