"""xero-python (Xero's official SDK) against the Xero sandbox, used the way its README shows.

An ApiClient with an OAuth2Token and a token getter/saver, ``IdentityApi.get_connections`` to find the
tenant, then ``AccountingApi`` calls: list, create, read, update, void, delete, paging, If-Modified-Since,
batch creation with ``summarize_errors``, idempotency keys, errors as the SDK's exceptions, the invoice
PDF, and a token refresh and revocation through the SDK. The SDK is pointed at the sandbox the ways it
allows: each API class takes a ``base_url``, and the token endpoints are ``TokenApi`` class attributes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from xero_python.accounting import AccountingApi
from xero_python.accounting.models import (
    Account,
    AccountType,
    Contact,
    Contacts,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    Payment,
)
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import AccountingBadRequestException, NotFoundException
from xero_python.exceptions.http_status_exceptions import HTTPStatusException
from xero_python.identity import IdentityApi

from tests.contracts.conftest import Served

CLIENT_ID = "ledgerbridge-demo-client"
CLIENT_SECRET = "ledgerbridge-demo-secret"
SCOPES = [
    "offline_access",
    "openid",
    "profile",
    "email",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings",
]


class XeroSession:
    """The README's wiring: one ApiClient, a stored token, identity and accounting APIs on the sandbox."""

    def __init__(self, served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in ("refresh_token_url", "revoke_token_url", "client_credentials_token_url"):
            path = "/connect/revocation" if name == "revoke_token_url" else "/connect/token"
            monkeypatch.setattr(TokenApi, name, f"{served.base_url}{path}")
        issued = served.sandbox.connect(scopes=tuple(SCOPES))
        self.token: dict[str, Any] = {
            "access_token": issued["access_token"],
            "refresh_token": issued["refresh_token"],
            "expires_in": issued["expires_in"],
            "token_type": "Bearer",
            "scope": SCOPES,
            "expires_at": dt.datetime.now().timestamp() + issued["expires_in"],
        }
        self.api_client = ApiClient(
            Configuration(oauth2_token=OAuth2Token(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)),
            pool_threads=1,
            oauth2_token_getter=lambda: self.token,
            oauth2_token_saver=self._save,
        )
        self.identity = IdentityApi(self.api_client, base_url=served.base_url)
        self.accounting = AccountingApi(self.api_client, base_url=f"{served.base_url}/api.xro/2.0")
        self.api_client.set_oauth2_token(self.token)
        self.tenant_id = self.identity.get_connections()[0].tenant_id

    def _save(self, token: dict[str, Any]) -> None:
        self.token = token


@pytest.fixture
def xero(xero_served: Served, monkeypatch: pytest.MonkeyPatch) -> XeroSession:
    return XeroSession(xero_served, monkeypatch)


def _invoice(xero: XeroSession, amount: str = "200.00", status: str = "AUTHORISED") -> Invoice:
    contact = xero.accounting.get_contacts(xero.tenant_id, where='Name=="Ridgeway University"').contacts
    contact = contact[0] if contact else xero.accounting.get_contacts(xero.tenant_id).contacts[0]
    return Invoice(
        type="ACCREC",
        contact=Contact(contact_id=contact.contact_id),
        line_items=[
            LineItem(description="Consulting", quantity=Decimal(1), unit_amount=Decimal(amount), account_code="200")
        ],
        date=dt.date(2026, 3, 2),
        due_date=dt.date(2026, 4, 1),
        line_amount_types=LineAmountTypes.EXCLUSIVE,
        status=status,
    )


def test_connections_refresh_and_revoke(xero: XeroSession) -> None:
    connections = xero.identity.get_connections()
    assert connections[0].tenant_type == "ORGANISATION"
    old_access = xero.token["access_token"]
    xero.api_client.refresh_oauth2_token()
    assert xero.token["access_token"] != old_access
    assert xero.accounting.get_organisations(xero.tenant_id).organisations
    assert xero.api_client.revoke_oauth2_token()
    with pytest.raises(HTTPStatusException):
        xero.accounting.get_organisations(xero.tenant_id)


def test_list_settings_and_contacts(xero: XeroSession) -> None:
    org = xero.accounting.get_organisations(xero.tenant_id).organisations[0]
    assert org.base_currency
    accounts = xero.accounting.get_accounts(xero.tenant_id, where='Type=="REVENUE"').accounts
    assert accounts and all(a.type == AccountType.REVENUE for a in accounts)
    assert isinstance(accounts[0], Account)
    assert xero.accounting.get_tax_rates(xero.tenant_id).tax_rates
    assert xero.accounting.get_items(xero.tenant_id).items
    contacts = xero.accounting.get_contacts(xero.tenant_id, page=1, page_size=2)
    assert len(contacts.contacts) == 2
    assert contacts.pagination.page_size == 2 and contacts.pagination.item_count >= 3


def test_create_read_update_contact(xero: XeroSession) -> None:
    created = xero.accounting.create_contacts(
        xero.tenant_id, Contacts(contacts=[Contact(name="Contract Test Ltd", email_address="a@contract.example")])
    ).contacts[0]
    assert created.contact_id and created.contact_status == "ACTIVE"
    read = xero.accounting.get_contact(xero.tenant_id, created.contact_id).contacts[0]
    assert read.email_address == "a@contract.example"
    updated = xero.accounting.update_contact(
        xero.tenant_id, created.contact_id, Contacts(contacts=[Contact(first_name="Ada")])
    ).contacts[0]
    assert updated.first_name == "Ada" and updated.name == "Contract Test Ltd"


def test_invoice_lifecycle_with_pdf_and_payment(xero: XeroSession) -> None:
    created = xero.accounting.create_invoices(
        xero.tenant_id, Invoices(invoices=[_invoice(xero)]), idempotency_key="contract-invoice-1"
    ).invoices[0]
    assert created.invoice_id and created.status == "AUTHORISED"
    assert created.total == Decimal("230.00")  # NZ GST 15 % on account 200
    again = xero.accounting.create_invoices(
        xero.tenant_id, Invoices(invoices=[_invoice(xero)]), idempotency_key="contract-invoice-1"
    ).invoices[0]
    assert again.invoice_id == created.invoice_id

    read = xero.accounting.get_invoice(xero.tenant_id, created.invoice_id).invoices[0]
    assert read.invoice_number == created.invoice_number
    assert read.line_items[0].line_item_id

    updated = xero.accounting.update_invoice(
        xero.tenant_id, created.invoice_id, Invoices(invoices=[Invoice(reference="PO-42")])
    ).invoices[0]
    assert updated.reference == "PO-42" and updated.total == Decimal("230.00")

    pdf_path = xero.accounting.get_invoice_as_pdf(xero.tenant_id, created.invoice_id)
    content = Path(pdf_path).read_bytes()
    assert content.startswith(b"%PDF-") and created.invoice_number.encode() in content

    online = xero.accounting.get_online_invoice(xero.tenant_id, created.invoice_id)
    assert online.online_invoices[0].online_invoice_url.startswith("http")

    bank = xero.accounting.get_accounts(xero.tenant_id, where='Type=="BANK"').accounts[0]
    payment = xero.accounting.create_payment(
        xero.tenant_id,
        Payment(
            invoice=Invoice(invoice_id=created.invoice_id),
            account=Account(account_id=bank.account_id),
            amount=Decimal("230.00"),
            date=dt.date(2026, 3, 3),
        ),
    ).payments[0]
    assert payment.payment_id
    assert xero.accounting.get_invoice(xero.tenant_id, created.invoice_id).invoices[0].status == "PAID"
    xero.accounting.delete_payment(xero.tenant_id, payment.payment_id, {"Status": "DELETED"})
    assert xero.accounting.get_invoice(xero.tenant_id, created.invoice_id).invoices[0].status == "AUTHORISED"

    voided = xero.accounting.update_invoice(
        xero.tenant_id, created.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")])
    ).invoices[0]
    assert voided.status == "VOIDED"


def test_draft_invoice_is_deleted(xero: XeroSession) -> None:
    draft = xero.accounting.create_invoices(
        xero.tenant_id, Invoices(invoices=[_invoice(xero, status="DRAFT")])
    ).invoices[0]
    assert draft.status == "DRAFT"
    deleted = xero.accounting.update_invoice(
        xero.tenant_id, draft.invoice_id, Invoices(invoices=[Invoice(status="DELETED")])
    ).invoices[0]
    assert deleted.status == "DELETED"


def test_paging_and_if_modified_since(xero_served: Served, xero: XeroSession) -> None:
    xero_served.sandbox.advance(60)
    since = xero_served.sandbox.clock.now().replace(tzinfo=None)
    xero_served.sandbox.advance(5)
    created = xero.accounting.create_invoices(xero.tenant_id, Invoices(invoices=[_invoice(xero)])).invoices[0]
    changed = xero.accounting.get_invoices(xero.tenant_id, if_modified_since=since).invoices
    assert [i.invoice_id for i in changed] == [created.invoice_id]
    page = xero.accounting.get_invoices(xero.tenant_id, page=1, page_size=1, order="InvoiceNumber ASC")
    assert len(page.invoices) == 1 and page.pagination.page_count >= 1
    by_status = xero.accounting.get_invoices(xero.tenant_id, statuses=["AUTHORISED"]).invoices
    assert all(i.status == "AUTHORISED" for i in by_status)


def test_batch_with_summarize_errors_off(xero: XeroSession) -> None:
    good = _invoice(xero)
    bad = _invoice(xero)
    bad.line_items[0].account_code = "999"
    result = xero.accounting.create_invoices(
        xero.tenant_id, Invoices(invoices=[good, bad]), summarize_errors=False
    ).invoices
    assert result[0].has_errors is False and result[0].invoice_id
    assert result[1].has_errors is True and result[1].validation_errors


def test_errors_arrive_as_sdk_exceptions(xero: XeroSession) -> None:
    with pytest.raises(NotFoundException):
        xero.accounting.get_invoice(xero.tenant_id, "00000000-0000-0000-0000-000000000000")
    bad = _invoice(xero)
    bad.line_items[0].account_code = "999"
    with pytest.raises(AccountingBadRequestException) as caught:
        xero.accounting.create_invoices(xero.tenant_id, Invoices(invoices=[bad]))
    assert caught.value.error_data["Elements"][0]["ValidationErrors"]
    assert caught.value.reason == caught.value.error_data["Elements"][0]["ValidationErrors"][0]["Message"]
