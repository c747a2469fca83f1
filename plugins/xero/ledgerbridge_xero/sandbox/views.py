"""Human-facing pages: the accountant's view and the "View in Xero" deep links.

The accountant's view offers the same actions, with the same names and fields, as the QBO sandbox so
one end-to-end suite drives every provider. Each action calls :class:`~.service.XeroService`, so an
edit gets a new ``UpdatedDateUTC``, shows in ``If-Modified-Since`` listings and raises webhooks just
like an API write.

Deep links follow FACTS Xero 9: ``/organisationlogin/default.aspx?shortcode=..&redirecturl=..`` then
``/AccountsReceivable/View.aspx?InvoiceID=..`` (``Edit.aspx`` for drafts), and the newer
``/app/{shortCode}/invoicing/view/{InvoiceID}``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox.accountant import (
    AccountantAction,
    ActionFailed,
    Table,
    Wording,
    bookkeeper_actions,
    parse_amount,
    render_page,
    render_table,
)
from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from ledgerbridge_xero.sandbox import render
from ledgerbridge_xero.sandbox.errors import ElementInvalid, XeroApiError
from ledgerbridge_xero.sandbox.msdate import parse_date
from ledgerbridge_xero.sandbox.service import ElementResult
from ledgerbridge_xero.sandbox.store import Organisation, Record

if TYPE_CHECKING:
    from ledgerbridge_xero.sandbox.app import XeroSandbox

ACCOUNTANT_PATH = "/accountant"
XERO_WORDING = Wording(
    customer="Contact",
    line_id="LineItemID (default: first line)",
    record_payment="Receive payment",
    reference="Reference",
    void_invoice="Void invoice",
    rename_customer="Rename contact",
    new_name="New name",
    deactivate_customer="Archive contact",
)
PAYMENT_ACCOUNT_CODE = "090"


def _saved(results: list[ElementResult]) -> Record:
    result = results[0]
    if result.errors:
        raise ActionFailed("; ".join(result.errors), status=400, detail=[{"Message": m} for m in result.errors])
    assert result.record is not None
    return result.record


class XeroAccountantView:
    """The :class:`~ledgerbridge_testing.sandbox.accountant.AccountantView` of the Xero sandbox."""

    title = "Xero sandbox: accountant's view"

    def __init__(self, sandbox: XeroSandbox) -> None:
        self.sandbox = sandbox

    def companies(self) -> list[tuple[str, str]]:
        return [(o.tenant_id, o.preset.name) for o in self.sandbox.service.organisations.values()]

    def _org(self, tenant_id: str) -> Organisation:
        try:
            return self.sandbox.service.organisation(tenant_id)
        except XeroApiError as exc:
            raise ActionFailed("unknown organisation", status=404) from exc

    def tables(self, company: str) -> list[Table]:
        org = self._org(company)
        with org.locked():
            invoices = [render.invoice(org, r) for r in org.collection("Invoices").values()]
            payments = [render.payment(org, r) for r in org.collection("Payments").values()]
            contacts = [render.contact(org, r) for r in org.collection("Contacts").values()]
        return [
            Table(
                "Invoices",
                ["InvoiceID", "Number", "Contact", "Total", "Amount due", "Status", "Updated"],
                [
                    [
                        i["InvoiceID"],
                        i.get("InvoiceNumber", ""),
                        i["Contact"].get("Name", ""),
                        str(i["Total"]),
                        str(i["AmountDue"]),
                        i["Status"],
                        i["UpdatedDateUTC"],
                    ]
                    for i in invoices
                ],
                links={n: f"/AccountsReceivable/View.aspx?InvoiceID={i['InvoiceID']}" for n, i in enumerate(invoices)},
            ),
            Table(
                "Payments",
                ["PaymentID", "Invoice", "Amount", "Date", "Status"],
                [
                    [p["PaymentID"], p["Invoice"]["InvoiceNumber"], str(p["Amount"]), p["DateString"], p["Status"]]
                    for p in payments
                ],
            ),
            Table(
                "Customers",  # Xero says "Contacts"; every sandbox's accountant view shares this title
                ["ContactID", "Name", "Status", "Active", "Updated"],
                [
                    [
                        c["ContactID"],
                        c["Name"],
                        c["ContactStatus"],
                        "true" if c["ContactStatus"] == "ACTIVE" else "false",
                        c["UpdatedDateUTC"],
                    ]
                    for c in contacts
                ],
            ),
        ]

    def actions(self, company: str) -> list[AccountantAction]:
        org = self._org(company)
        with org.locked():
            invoices = tuple(
                (r["InvoiceID"], f"{r.get('InvoiceNumber') or '(no number)'} ({r['Status']})")
                for r in org.collection("Invoices").values()
            )
            contacts = tuple((r["ContactID"], r["Name"]) for r in org.collection("Contacts").values())
            payments = tuple((r["PaymentID"], f"{r['Amount']} ({r['Status']})")
                             for r in org.collection("Payments").values())
        return bookkeeper_actions(self, invoices, contacts, XERO_WORDING, payments)

    # -- actions (all through XeroService) -------------------------------------------------------------

    def _invoice(self, org: Organisation, invoice_id: str) -> Record:
        if not invoice_id:
            raise ActionFailed("choose an invoice")
        try:
            return self.sandbox.service.get(org, "Invoices", invoice_id)
        except XeroApiError as exc:
            raise ActionFailed("invoice not found", status=404) from exc

    def _update_invoice(self, org: Organisation, invoice_id: str, changes: dict[str, Any], unitdp: int = 2) -> Any:
        record = _saved(self.sandbox.service.save_invoices(org, [changes], "update", invoice_id, unitdp))
        return render.invoice(org, record)

    def edit_invoice_amount(self, tenant_id: str, params: Mapping[str, str]) -> Any:
        """Give one line a new amount (quantity kept when it divides evenly, else 1 x amount)."""
        org = self._org(tenant_id)
        with org.locked():
            invoice = self._invoice(org, params.get("invoice_id", ""))
            amount = parse_amount(params.get("amount", ""), "amount")
            wanted = params.get("line_id") or None
            lines, changed = [], False
            for line in invoice["LineItems"]:
                raw = {
                    k: line[k]
                    for k in (
                        "LineItemID",
                        "Description",
                        "Quantity",
                        "UnitAmount",
                        "ItemCode",
                        "AccountCode",
                        "TaxType",
                        "DiscountRate",
                        "Tracking",
                    )
                    if k in line
                }
                target = line["LineItemID"] == wanted if wanted else not changed
                if target:
                    quantity = Decimal(line.get("Quantity") or 1)
                    unit = amount / quantity
                    if unit != unit.quantize(Decimal("0.0001")) or line.get("DiscountRate"):
                        quantity, unit = Decimal("1"), amount
                    raw.update(Quantity=quantity, UnitAmount=unit, LineAmount=amount)
                    raw.pop("DiscountRate", None)
                    changed = True
                lines.append(raw)
            if not changed:
                raise ActionFailed("line not found" if wanted else "the invoice has no lines")
            return self._update_invoice(org, invoice["InvoiceID"], {"LineItems": lines}, unitdp=4)

    def edit_invoice_number(self, tenant_id: str, params: Mapping[str, str]) -> Any:
        org = self._org(tenant_id)
        invoice = self._invoice(org, params.get("invoice_id", ""))
        number = params.get("doc_number", "").strip()
        if not number:
            raise ActionFailed("doc_number is required")
        return self._update_invoice(org, invoice["InvoiceID"], {"InvoiceNumber": number})

    def record_payment(self, tenant_id: str, params: Mapping[str, str]) -> Any:
        org = self._org(tenant_id)
        invoice = self._invoice(org, params.get("invoice_id", ""))
        body: dict[str, Any] = {
            "Invoice": {"InvoiceID": invoice["InvoiceID"]},
            "Account": {"Code": PAYMENT_ACCOUNT_CODE},
            "Amount": parse_amount(params.get("amount", ""), "amount"),
        }
        if params.get("txn_date"):
            try:
                body["Date"] = parse_date(params["txn_date"]).isoformat()
            except ValueError as exc:
                raise ActionFailed("txn_date must be YYYY-MM-DD") from exc
        if params.get("reference"):
            body["Reference"] = params["reference"]
        payment = _saved(self.sandbox.service.create_payments(org, [body]))
        return render.payment(org, payment)

    def delete_payment(self, tenant_id: str, params: Mapping[str, str]) -> Any:
        """Remove the payment (Xero has no void for payments): Status DELETED, the invoice owes it again."""
        org = self._org(tenant_id)
        payment_id = params.get("payment_id", "")
        if not payment_id:
            raise ActionFailed("choose a payment")
        try:
            payment = self.sandbox.service.delete_payment(org, payment_id, {"Status": "DELETED"})
        except XeroApiError as exc:
            raise ActionFailed("payment not found", status=exc.status) from exc
        except ElementInvalid as exc:
            raise ActionFailed("; ".join(exc.messages), status=400) from exc
        return render.payment(org, payment)

    def void_invoice(self, tenant_id: str, params: Mapping[str, str]) -> Any:
        org = self._org(tenant_id)
        invoice = self._invoice(org, params.get("invoice_id", ""))
        return self._update_invoice(org, invoice["InvoiceID"], {"Status": "VOIDED"})

    def delete_invoice(self, tenant_id: str, params: Mapping[str, str]) -> Any:
        org = self._org(tenant_id)
        invoice = self._invoice(org, params.get("invoice_id", ""))
        return self._update_invoice(org, invoice["InvoiceID"], {"Status": "DELETED"})

    def _contact(self, tenant_id: str, params: Mapping[str, str], changes: dict[str, Any]) -> Any:
        org = self._org(tenant_id)
        contact_id = params.get("customer_id", "")
        if not contact_id:
            raise ActionFailed("choose a contact")
        try:
            self.sandbox.service.get(org, "Contacts", contact_id)
        except XeroApiError as exc:
            raise ActionFailed("contact not found", status=404) from exc
        record = _saved(self.sandbox.service.save_contacts(org, [changes], "update", contact_id))
        return render.contact(org, record)

    def rename_customer(self, tenant_id: str, params: Mapping[str, str]) -> Any:
        name = params.get("display_name", "").strip()
        if not name:
            raise ActionFailed("display_name is required")
        return self._contact(tenant_id, params, {"Name": name})

    def deactivate_customer(self, tenant_id: str, params: Mapping[str, str]) -> Any:
        return self._contact(tenant_id, params, {"ContactStatus": "ARCHIVED"})


def build_deeplink_router(sandbox: XeroSandbox) -> Router:
    """The pages "View in Xero" links land on."""

    def find(invoice_id: str) -> tuple[Organisation, Record]:
        for org in sandbox.service.organisations.values():
            record = org.collection("Invoices").get(invoice_id.lower()) or org.collection("Invoices").get(invoice_id)
            if record is not None:
                return org, record
        raise NotFoundException("invoice not found")

    def invoice_page(invoice_id: str) -> Response[str]:
        org, record = find(invoice_id)
        with org.locked():
            view = render.invoice(org, record)
        lines = Table(
            "Lines",
            ["Description", "Qty", "Unit", "Tax type", "Amount"],
            [
                [
                    str(x.get("Description", "")),
                    str(x.get("Quantity", "")),
                    str(x.get("UnitAmount", "")),
                    str(x.get("TaxType", "")),
                    str(x["LineAmount"]),
                ]
                for x in view["LineItems"]
            ],
        )
        body = (
            f"<p>{html.escape(org.preset.name)} &middot; <a href='{ACCOUNTANT_PATH}/{org.tenant_id}'>"
            "accountant's view</a></p>"
            f"<h1>Invoice {html.escape(view.get('InvoiceNumber', ''))} <small>({html.escape(view['Status'])})"
            f"</small></h1><p>To: {html.escape(view['Contact'].get('Name', ''))}<br>"
            f"Date: {html.escape(view['DateString'][:10])}<br>Total: {view['Total']} {view['CurrencyCode']}<br>"
            f"Amount due: {view['AmountDue']}</p>{render_table(lines)}"
        )
        return Response(render_page(f"Invoice {view.get('InvoiceNumber', '')}", body), media_type="text/html")

    @get("/organisationlogin/default.aspx")
    async def organisation_login(shortcode: FromQuery[str] = "", redirecturl: FromQuery[str] = "/") -> Redirect:
        """Pick the organisation by short code, then go to the page asked for (same site only)."""
        if not any(o.preset.short_code == shortcode for o in sandbox.service.organisations.values()):
            raise NotFoundException("unknown organisation short code")
        target = redirecturl if redirecturl.startswith("/") and not redirecturl.startswith("//") else "/"
        return Redirect(target, status_code=302)

    @get(["/AccountsReceivable/View.aspx", "/AccountsReceivable/Edit.aspx"])
    async def view_invoice(request: Request[Any, Any, Any]) -> Response[str]:
        """The invoice as a bookkeeper sees it (``?InvoiceID=``)."""
        return invoice_page(request.query_params.get("InvoiceID", ""))

    @get("/app/{short_code:str}/invoicing/view/{invoice_id:str}")
    async def app_invoice(short_code: FromPath[str], invoice_id: FromPath[str]) -> Response[str]:
        """The newer deep-link form."""
        return invoice_page(invoice_id)

    @get("/invoice/{invoice_id:str}")
    async def online_invoice(invoice_id: FromPath[str]) -> Response[str]:
        """The customer-facing online invoice (``OnlineInvoiceUrl``)."""
        return invoice_page(invoice_id)

    return Router(
        path="", route_handlers=[organisation_login, view_invoice, app_invoice, online_invoice], include_in_schema=False
    )
