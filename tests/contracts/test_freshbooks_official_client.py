"""freshbooks-sdk (FreshBooks' official Python SDK) against the FreshBooks sandbox, as its user guide shows.

Authorization URL, code exchange and refresh through ``Client``, ``current_user()`` for the business
memberships, then the accounting resources: list with paging and filters (including ``updated_since``),
create, read with ``includes``, update, soft and hard delete, payments, ledger accounts, webhook
callbacks with verification, errors as ``FreshBooksError``, and the invoice PDF and share link. The SDK
reads its hosts from ``FRESHBOOKS_API_URL`` / ``FRESHBOOKS_AUTH_URL``, which the tests set to the sandbox.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from freshbooks import Client, FilterBuilder, IncludesBuilder, PaginateBuilder
from freshbooks.errors import FreshBooksError
from ledgerbridge_freshbooks.sandbox.config import KNOWN_SCOPES

from tests.contracts.conftest import Served

CLIENT_ID = "ledgerbridge-demo-client"
CLIENT_SECRET = "ledgerbridge-demo-secret"
REDIRECT = "http://localhost:8000/callback"
DANA = 4101


class FreshBooksSession:
    """An SDK client authorised through the code flow, with Dana's first business."""

    def __init__(self, served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("FRESHBOOKS_API_URL", served.base_url)
        monkeypatch.setenv("FRESHBOOKS_AUTH_URL", served.base_url)
        self.served = served
        self.client = Client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT)
        auth_url = self.client.get_auth_request_url(scopes=["user:profile:read", "user:clients:write"])
        assert auth_url.startswith(f"{served.base_url}/oauth/authorize?")
        assert parse_qs(urlparse(auth_url).query)["client_id"] == [CLIENT_ID]
        code = served.sandbox.issue_code(CLIENT_ID, REDIRECT, DANA, KNOWN_SCOPES)
        self.token = self.client.get_access_token(code)
        identity = self.client.current_user()
        business = identity.data["business_memberships"][0]["business"]
        self.account_id: str = business["account_id"]
        self.business_uuid: str = business["business_uuid"]


@pytest.fixture
def fb(freshbooks_served: Served, monkeypatch: pytest.MonkeyPatch) -> FreshBooksSession:
    return FreshBooksSession(freshbooks_served, monkeypatch)


def _client_id(fb: FreshBooksSession, organization: str = "Cool Cars") -> int:
    filters = FilterBuilder()
    filters.equals("organization", organization)
    return fb.client.clients.list(fb.account_id, builders=[filters]).data["clients"][0]["id"]


def _invoice_data(fb: FreshBooksSession, amount: str = "50.00", qty: int = 2) -> dict[str, object]:
    return {
        "customerid": _client_id(fb),
        "create_date": "2026-03-02",
        "lines": [{"type": 0, "name": "Design", "unit_cost": {"amount": amount, "code": "USD"}, "qty": qty}],
    }


def test_token_flow_and_identity(fb: FreshBooksSession) -> None:
    assert fb.token.access_token and fb.token.refresh_token
    assert isinstance(fb.token.access_token_expires_at, dt.datetime)
    identity = fb.client.current_user()
    assert identity.identity_id == DANA
    assert len(identity.business_memberships) == 2
    refreshed = fb.client.refresh_access_token()
    assert refreshed.access_token != fb.token.access_token
    assert fb.client.clients.list(fb.account_id).data["clients"]


def test_list_with_paging_and_filters(fb: FreshBooksSession) -> None:
    everyone = fb.client.clients.list(fb.account_id)
    assert everyone.pages.total >= 3
    first = fb.client.clients.list(fb.account_id, builders=[PaginateBuilder(1, 2)])
    second = fb.client.clients.list(fb.account_id, builders=[PaginateBuilder(2, 2)])
    assert first.pages.page == 1 and first.pages.per_page == 2 and first.pages.pages >= 2
    assert {c["id"] for c in first.data["clients"]}.isdisjoint({c["id"] for c in second.data["clients"]})
    like = FilterBuilder()
    like.like("email_like", "coolcars")
    assert [c["organization"] for c in fb.client.clients.list(fb.account_id, builders=[like]).data["clients"]] == [
        "Cool Cars"
    ]
    assert fb.client.items.list(fb.account_id).data["items"]
    assert fb.client.taxes.list(fb.account_id).data["taxes"]
    assert fb.client.ledger_accounts.list(fb.business_uuid).data


def test_client_create_read_update_delete(fb: FreshBooksSession) -> None:
    created = fb.client.clients.create(
        fb.account_id, {"organization": "Contract Test Ltd", "email": "a@contract.example", "fname": "Ada"}
    )
    assert created.id and created.organization == "Contract Test Ltd"
    read = fb.client.clients.get(fb.account_id, created.id)
    assert read.email == "a@contract.example"
    updated = fb.client.clients.update(fb.account_id, created.id, {"organization": "Contract Test Limited"})
    assert updated.organization == "Contract Test Limited" and updated.email == "a@contract.example"
    deleted = fb.client.clients.delete(fb.account_id, created.id)
    assert deleted.vis_state == 1


def test_invoice_with_includes_update_payment_and_delete(fb: FreshBooksSession) -> None:
    created = fb.client.invoices.create(fb.account_id, _invoice_data(fb))
    assert created.invoiceid and Decimal(created.data["amount"]["amount"]) == Decimal("100.00")
    assert created.data["outstanding"]["amount"] == created.data["amount"]["amount"]

    includes = IncludesBuilder().include("lines").include("presentation")
    read = fb.client.invoices.get(fb.account_id, created.invoiceid, includes=includes)
    assert read.data["lines"][0]["name"] == "Design"
    assert read.data["presentation"]["invoiceid"] == created.invoiceid

    updated = fb.client.invoices.update(
        fb.account_id, created.invoiceid, {"notes": "Thanks", "lines": _invoice_data(fb, "60.00")["lines"]}
    )
    assert Decimal(updated.data["amount"]["amount"]) == Decimal("120.00") and updated.notes == "Thanks"

    payment = fb.client.payments.create(
        fb.account_id,
        {"invoiceid": created.invoiceid, "amount": {"amount": "120.00"}, "date": "2026-03-03", "type": "Check"},
    )
    assert payment.logid
    paid = fb.client.invoices.get(fb.account_id, created.invoiceid)
    assert paid.payment_status == "paid" and Decimal(paid.data["outstanding"]["amount"]) == 0
    fb.client.payments.delete(fb.account_id, payment.logid)

    gone = fb.client.invoices.delete(fb.account_id, created.invoiceid)
    assert gone.vis_state == 1


def test_updated_since_tracks_changes(fb: FreshBooksSession) -> None:
    fb.served.sandbox.advance(60)
    since = fb.served.sandbox.clock.now()
    fb.served.sandbox.advance(5)
    created = fb.client.invoices.create(fb.account_id, _invoice_data(fb))
    filters = FilterBuilder()
    filters.date_time("updated_since", since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    changed = fb.client.invoices.list(fb.account_id, builders=[filters]).data["invoices"]
    assert [i["invoiceid"] for i in changed] == [created.invoiceid]


def test_callbacks_register_verify_and_delete(fb: FreshBooksSession) -> None:
    callback = fb.client.callbacks.create(
        fb.account_id, {"event": "invoice.create", "uri": "https://hooks.example/freshbooks"}
    )
    assert callback.callbackid and callback.verified is False
    listed = fb.client.callbacks.list(fb.account_id).data["callbacks"]
    assert [c["callbackid"] for c in listed] == [callback.callbackid]
    resent = fb.client.callbacks.resend_verification(fb.account_id, callback.callbackid)
    assert resent.callbackid == callback.callbackid
    fb.client.callbacks.delete(fb.account_id, callback.callbackid)
    assert fb.client.callbacks.list(fb.account_id).data["callbacks"] == []


def test_errors_arrive_as_freshbooks_errors(fb: FreshBooksSession) -> None:
    with pytest.raises(FreshBooksError) as missing:
        fb.client.clients.get(fb.account_id, 999999)
    assert missing.value.status_code == 404
    with pytest.raises(FreshBooksError) as invalid:
        fb.client.invoices.create(fb.account_id, {"customerid": 999999, "create_date": "2026-03-02"})
    assert 400 <= invalid.value.status_code < 500
    with pytest.raises(FreshBooksError) as callback_error:
        fb.client.callbacks.create(fb.account_id, {"event": "invoice", "uri": "https://hooks.example/x"})
    assert callback_error.value.status_code == 422


def test_invoice_pdf_and_share_link(fb: FreshBooksSession) -> None:
    created = fb.client.invoices.create(fb.account_id, _invoice_data(fb))
    base = f"{fb.served.base_url}/accounting/account/{fb.account_id}/invoices/invoices/{created.invoiceid}"
    headers = {"Authorization": f"Bearer {fb.token.access_token}"}
    pdf = httpx.get(f"{base}/pdf", headers={**headers, "Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.content.startswith(b"%PDF-") and str(created.invoice_number).encode() in pdf.content
    link = httpx.get(f"{base}/share_link", params={"share_method": "share_link"}, headers=headers)
    assert link.json()["response"]["result"]["share_link"]["invoiceid"] == created.invoiceid
