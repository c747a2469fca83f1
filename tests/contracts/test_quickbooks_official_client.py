"""python-quickbooks (with intuit-oauth) against the QBO sandbox, used the way its README shows.

The library is what many QuickBooks integrations are built on; if it cannot work against our sandbox,
the sandbox disagrees with real QuickBooks somewhere. Each test is one documented use: connect with a
token, list, create, read, full and sparse update, void and delete, query with paging, change data
capture, batch, error handling and the invoice PDF. The library is pointed at the sandbox the only way it
allows: the OAuth client takes a discovery-document URL as its environment, and the API host is a
class attribute (``api_url_v3``) that a subclass overrides.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import AuthorizationException, ObjectNotFoundException, QuickbooksException
from quickbooks.helpers import qb_datetime_utc_offset_format
from quickbooks.objects.account import Account
from quickbooks.objects.base import Address, EmailAddress, Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.taxcode import TaxCode

from tests.contracts.conftest import Served

CLIENT_ID = "ledgerbridge-demo-client"
CLIENT_SECRET = "ledgerbridge-demo-secret"
REDIRECT = "http://localhost:8000/callback"
MINOR_VERSION = 75


def _client_for(served: Served) -> tuple[QuickBooks, AuthClient]:
    """An AuthClient that found the sandbox through its discovery document, and a QuickBooks client on it."""
    realm = served.sandbox.realm_ids[0]
    auth_client = AuthClient(
        CLIENT_ID,
        CLIENT_SECRET,
        REDIRECT,
        environment=f"{served.base_url}/.well-known/openid_sandbox_configuration",
    )
    code = served.sandbox.oauth.issue_code(CLIENT_ID, REDIRECT, realm, [Scopes.ACCOUNTING.value])
    auth_client.get_bearer_token(code, realm_id=realm)

    class SandboxQuickBooks(QuickBooks):
        api_url_v3 = f"{served.base_url}/v3"
        sandbox_api_url_v3 = f"{served.base_url}/v3"

    qb = SandboxQuickBooks(
        auth_client=auth_client,
        refresh_token=auth_client.refresh_token,
        company_id=realm,
        minorversion=MINOR_VERSION,
        use_decimal=True,
    )
    return qb, auth_client


@pytest.fixture
def qb(qbo_served: Served) -> Iterator[QuickBooks]:
    client, _ = _client_for(qbo_served)
    yield client


def _invoice_for(qb: QuickBooks, amount: str = "150.00") -> Invoice:
    """An invoice built the way the README builds one: a SalesItemLine with only Amount and ItemRef set."""
    customer = Customer.filter(DisplayName="Cool Cars", qb=qb)[0]
    item = Item.filter(Name="Design", qb=qb)[0]
    line = SalesItemLine()
    line.LineNum = 1
    line.Description = "Design work"
    line.Amount = Decimal(amount)
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    invoice = Invoice()
    invoice.Line.append(line)
    invoice.CustomerRef = customer.to_ref()
    invoice.CustomerMemo = {"value": "Thank you"}
    return invoice


def test_connect_refresh_and_revoke_through_intuit_oauth(qbo_served: Served) -> None:
    qb, auth_client = _client_for(qbo_served)
    first_access = auth_client.access_token
    assert auth_client.refresh_token and auth_client.x_refresh_token_expires_in
    auth_client.refresh()
    assert auth_client.access_token != first_access
    # the refreshed access token works through a new session
    qb = type(qb)(
        auth_client=auth_client,
        refresh_token=auth_client.refresh_token,
        company_id=qb.company_id,
        minorversion=MINOR_VERSION,
    )
    assert Customer.count(qb=qb) >= 1
    assert auth_client.revoke(token=auth_client.refresh_token)
    with pytest.raises(AuthorizationException):
        Customer.all(qb=qb)


def test_list_the_name_lists(qb: QuickBooks) -> None:
    customers = Customer.all(qb=qb)
    assert any(c.DisplayName == "Cool Cars" for c in customers)
    assert all(c.Id and c.SyncToken is not None for c in customers)
    items = Item.all(qb=qb)
    assert any(i.Name == "Design" for i in items)
    income = Account.filter(AccountType="Income", qb=qb)
    assert income and all(a.AccountType == "Income" for a in income)
    assert TaxCode.all(qb=qb)


def test_create_customer_with_library_defaults_read_and_update(qb: QuickBooks) -> None:
    customer = Customer()
    customer.DisplayName = "Contract Test Ltd"
    customer.CompanyName = "Contract Test Ltd"
    customer.PrimaryEmailAddr = EmailAddress()
    customer.PrimaryEmailAddr.Address = "billing@contract.example"
    customer.BillAddr = Address()
    customer.BillAddr.Line1 = "1 Test Street"
    customer.BillAddr.City = "Mountain View"
    customer.BillAddr.CountrySubDivisionCode = "CA"
    customer.BillAddr.PostalCode = "94043"
    saved = customer.save(qb=qb)
    assert saved.Id and saved.DisplayName == "Contract Test Ltd"

    read = Customer.get(saved.Id, qb=qb)
    assert read.PrimaryEmailAddr.Address == "billing@contract.example"
    assert read.BillAddr.City == "Mountain View" and read.BillAddr.Id

    # full update: the object read back, changed, saved
    read.CompanyName = "Contract Test Limited"
    updated = read.save(qb=qb)
    assert updated.CompanyName == "Contract Test Limited"
    assert int(updated.SyncToken) == int(read.SyncToken) + 1

    # sparse update through the client's update_object, as the library's README shows for a partial body
    body = {"Id": updated.Id, "SyncToken": updated.SyncToken, "sparse": True, "Notes": "Prefers email"}
    after = Customer.from_json(qb.update_object("Customer", json.dumps(body))["Customer"])
    assert after.Notes == "Prefers email"
    assert after.CompanyName == "Contract Test Limited"
    assert after.PrimaryEmailAddr.Address == "billing@contract.example"


def test_create_invoice_read_update_and_download_pdf(qb: QuickBooks) -> None:
    invoice = _invoice_for(qb).save(qb=qb)
    assert invoice.Id and invoice.DocNumber
    assert Decimal(str(invoice.TotalAmt)) == Decimal("150.00")
    assert Decimal(str(invoice.Balance)) == Decimal("150.00")

    read = Invoice.get(invoice.Id, qb=qb)
    assert read.CustomerRef.value == invoice.CustomerRef.value
    assert read.Line[0].SalesItemLineDetail.ItemRef.value == invoice.Line[0].SalesItemLineDetail.ItemRef.value

    read.Line[0].Amount = Decimal("175.00")
    updated = read.save(qb=qb)
    assert Decimal(str(updated.TotalAmt)) == Decimal("175.00")

    pdf = updated.download_pdf(qb=qb)
    assert pdf.startswith(b"%PDF-")
    assert updated.DocNumber.encode() in pdf


def test_void_and_delete_invoices(qb: QuickBooks) -> None:
    to_void = _invoice_for(qb, "80.00").save(qb=qb)
    to_void.void(qb=qb)
    voided = Invoice.get(to_void.Id, qb=qb)
    assert Decimal(str(voided.TotalAmt)) == 0
    assert "Voided" in (voided.PrivateNote or "")

    to_delete = _invoice_for(qb, "90.00").save(qb=qb)
    to_delete.delete(qb=qb)
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(to_delete.Id, qb=qb)


def test_payment_is_recorded_and_read_back(qb: QuickBooks) -> None:
    invoice = _invoice_for(qb, "120.00").save(qb=qb)
    payment = Payment()
    payment.TotalAmt = Decimal("120.00")
    payment.CustomerRef = invoice.CustomerRef
    line = PaymentLine()
    line.Amount = Decimal("120.00")
    line.LinkedTxn.append(invoice.to_linked_txn())
    payment.Line.append(line)
    saved = payment.save(qb=qb)
    assert Decimal(str(saved.TotalAmt)) == Decimal("120.00")
    assert Decimal(str(Invoice.get(invoice.Id, qb=qb).Balance)) == 0
    saved.void(qb=qb)
    assert Decimal(str(Invoice.get(invoice.Id, qb=qb).Balance)) == Decimal("120.00")


def test_query_with_paging_and_count(qb: QuickBooks) -> None:
    total = Customer.count(qb=qb)
    assert total >= 3
    first = Customer.all(order_by="Id", start_position=1, max_results=2, qb=qb)
    second = Customer.all(order_by="Id", start_position=3, max_results=2, qb=qb)
    assert len(first) == 2
    assert {c.Id for c in first}.isdisjoint({c.Id for c in second})
    assert Customer.where("Active = true", order_by="DisplayName", qb=qb)
    assert Customer.choose(["Cool Cars"], field="DisplayName", qb=qb)[0].DisplayName == "Cool Cars"


def test_change_data_capture(qbo_served: Served, qb: QuickBooks) -> None:
    qbo_served.sandbox.advance(60)  # past the seeded records' timestamps
    since = qbo_served.sandbox.clock.now()
    qbo_served.sandbox.advance(5)
    invoice = _invoice_for(qb, "60.00").save(qb=qb)
    # a naive datetime would be read in the company's time zone (as QBO does): send the offset
    response = change_data_capture([Invoice, Customer], qb_datetime_utc_offset_format(since, "+00:00"), qb=qb)
    changed = list(response.Invoice)
    assert [i.Id for i in changed] == [invoice.Id]


def test_batch_create(qb: QuickBooks) -> None:
    customers = []
    for name in ("Batch One", "Batch Two"):
        customer = Customer()
        customer.DisplayName = name
        customers.append(customer)
    duplicate = Customer()
    duplicate.DisplayName = "Cool Cars"
    customers.append(duplicate)
    result = batch_create(customers, qb=qb)
    assert sorted(c.DisplayName for c in result.successes) == ["Batch One", "Batch Two"]
    assert len(result.faults) == 1
    assert result.faults[0].original_object.DisplayName == "Cool Cars"


def test_errors_arrive_as_library_exceptions(qb: QuickBooks) -> None:
    with pytest.raises(ObjectNotFoundException):
        Invoice.get("999999", qb=qb)
    stale = Customer.filter(DisplayName="Cool Cars", qb=qb)[0]
    stale.Notes = "first"
    stale.save(qb=qb)
    stale.Notes = "second"
    with pytest.raises(QuickbooksException) as stale_error:
        stale.save(qb=qb)
    assert stale_error.value.error_code == 5010
    bad: Any = Invoice()
    bad.CustomerRef = Ref()
    bad.CustomerRef.value = "424242"
    with pytest.raises(QuickbooksException):
        bad.save(qb=qb)
