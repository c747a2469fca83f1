"""Human-facing pages of the QBO sandbox: the accountant's view and the invoice deep link.

The accountant's view lets a person (or a test, through its JSON API) do what a bookkeeper does in
QuickBooks: change an invoice line amount or number, record, void or delete a payment, void or delete an invoice,
rename, deactivate or merge customers. Every action calls :class:`~.service.QboService`, so the
change gets a new SyncToken, a new ``LastUpdatedTime``, shows in CDC and triggers webhooks exactly as
an edit in QBO does.

``/app/invoice?txnId=`` mirrors the staff deep link integrators build ("View in QuickBooks").
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox.accountant import (
    AccountantAction,
    ActionFailed,
    ActionField,
    Table,
    Wording,
    bookkeeper_actions,
    parse_amount,
    render_page,
    render_table,
)
from litestar import Response, Router, get
from litestar.params import FromQuery

from ledgerbridge_quickbooks.sandbox.calc import UNIT_PRICE_STEP
from ledgerbridge_quickbooks.sandbox.errors import QboFault
from ledgerbridge_quickbooks.sandbox.store import Record

if TYPE_CHECKING:
    from ledgerbridge_quickbooks.sandbox.app import QboSandbox

ACCOUNTANT_PATH = "/accountant"
QBO_WORDING = Wording(
    customer="Customer",
    line_id="Line Id (default: first item line)",
    record_payment="Receive payment",
    reference="Reference no.",
    void_invoice="Void invoice",
    rename_customer="Rename customer",
    new_name="New display name",
    deactivate_customer="Make customer inactive",
)


def invoice_status(company_voided: bool, invoice: Record, today_iso: str) -> str:
    """QBO has no status field; derive the words a bookkeeper sees (FACTS QBO 3 "Status fields")."""
    if company_voided:
        return "Voided"
    total = Decimal(invoice.get("TotalAmt", 0))
    balance = Decimal(invoice.get("Balance", 0))
    if balance == 0 and total > 0:
        return "Paid"
    if 0 < balance < total:
        return "Partially paid"
    if invoice.get("DueDate", "9999") < today_iso:
        return "Overdue"
    return "Open"


def _fault(fault: QboFault) -> ActionFailed:
    return ActionFailed(f"{fault.code} {fault.message}: {fault.detail}", status=fault.status, detail=fault.fault_body())


class QboAccountantView:
    """The :class:`~ledgerbridge_testing.sandbox.accountant.AccountantView` of the QBO sandbox."""

    title = "QuickBooks Online sandbox: accountant's view"

    def __init__(self, sandbox: QboSandbox) -> None:
        self.sandbox = sandbox

    def companies(self) -> list[tuple[str, str]]:
        """Realm ids and company names."""
        return [(c.realm_id, c.preset.company_name) for c in self.sandbox.state.companies.values()]

    def _records(self, realm_id: str, entity: str) -> list[Record]:
        company = self.sandbox.service.company(realm_id)
        with company.locked():
            rows = [self.sandbox.service.render(company, entity, r) for r in company.records.get(entity, {}).values()]
        return sorted(rows, key=lambda r: int(r["Id"]) if r["Id"].isdigit() else 0)

    def tables(self, company: str) -> list[Table]:
        """Customers, invoices and payments, newest last."""
        service = self.sandbox.service
        state = service.company(company)
        today = service.clock.now().astimezone(state.tz).date().isoformat()
        customers = self._records(company, "Customer")
        invoices = self._records(company, "Invoice")
        payments = self._records(company, "Payment")
        activities = self._records(company, "TimeActivity")
        invoice_rows = [
            [
                r["Id"],
                r.get("DocNumber", ""),
                r["CustomerRef"].get("name", ""),
                str(r.get("TotalAmt")),
                str(r.get("Balance")),
                invoice_status(("Invoice", r["Id"]) in state.voided, r, today),
                r["SyncToken"],
                r["MetaData"]["LastUpdatedTime"],
            ]
            for r in invoices
        ]
        return [
            Table(
                "Invoices",
                ["Id", "No.", "Customer", "Total", "Balance", "Status", "SyncToken", "Last updated"],
                invoice_rows,
                links={i: f"/app/invoice?txnId={r['Id']}&companyId={company}" for i, r in enumerate(invoices)},
            ),
            Table(
                "Payments",
                ["Id", "Customer", "Amount", "Unapplied", "Applied to", "SyncToken"],
                [
                    [
                        r["Id"],
                        r["CustomerRef"].get("name", ""),
                        str(r.get("TotalAmt")),
                        str(r.get("UnappliedAmt")),
                        ", ".join(x["TxnId"] for ln in r.get("Line", []) for x in ln.get("LinkedTxn", [])),
                        r["SyncToken"],
                    ]
                    for r in payments
                ],
            ),
            Table(  # every sandbox's view shares this title and the Description and Billed columns
                "Time",
                ["Id", "Description", "Hours", "BillableStatus", "Billed"],
                [
                    [r["Id"], r.get("Description", ""), f"{r.get('Hours', 0)}:{int(r.get('Minutes', 0)):02d}",
                     r.get("BillableStatus", ""), "yes" if r.get("BillableStatus") == "HasBeenBilled" else "no"]
                    for r in activities
                ],
            ),
            Table(
                "Customers",
                ["Id", "Display name", "Active", "Balance", "SyncToken"],
                [
                    [r["Id"], r["DisplayName"], str(r.get("Active")), str(r.get("Balance")), r["SyncToken"]]
                    for r in customers
                ],
            ),
        ]

    def actions(self, company: str) -> list[AccountantAction]:
        """The bookkeeper's edits, with selects filled from the company's data."""
        invoices = [
            (r["Id"], f"{r.get('DocNumber') or '(no number)'} - {r['CustomerRef'].get('name', '')}")
            for r in self._records(company, "Invoice")
        ]
        customers = [(r["Id"], r["DisplayName"]) for r in self._records(company, "Customer")]
        payments = [(r["Id"], f"{r['Id']}: {r.get('TotalAmt')} - {r['CustomerRef'].get('name', '')}")
                    for r in self._records(company, "Payment")]
        return [
            *bookkeeper_actions(self, invoices, customers, QBO_WORDING, payments),
            AccountantAction(
                "void_payment",
                "Void payment",
                (ActionField("payment_id", "Payment", "select", tuple(payments)),),
                self.void_payment,
                "The payment stays at zero; its invoice owes the amount again.",
            ),
            AccountantAction(
                "edit_payment",
                "Edit payment",
                (
                    ActionField("payment_id", "Payment", "select", tuple(payments)),
                    ActionField("invoice_id", "Invoice", "select", tuple(invoices)),
                    ActionField("amount", "Payment amount for this invoice"),
                ),
                self.edit_payment,
                "What the payment applies to the invoice changes; its total follows.",
            ),
            AccountantAction(
                "merge_customers",
                "Merge customers",
                (
                    ActionField("from_id", "Merge this customer", "select", tuple(customers)),
                    ActionField("into_id", "into this one", "select", tuple(customers)),
                ),
                self.merge_customers,
            ),
        ]

    # -- actions (all through QboService) ------------------------------------------------------------------

    def _current(self, realm_id: str, entity: str, entity_id: str) -> Record:
        if not entity_id:
            raise ActionFailed(f"choose a {entity.lower()}")
        try:
            return self.sandbox.service.read(realm_id, entity, entity_id)
        except QboFault as fault:
            raise _fault(fault) from fault

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Record:
        try:
            return method(*args, **kwargs)
        except QboFault as fault:
            raise _fault(fault) from fault

    def edit_invoice_amount(self, realm_id: str, params: Mapping[str, str]) -> Record:
        """Change one item line's amount (unit price follows when a quantity is set)."""
        invoice = self._current(realm_id, "Invoice", params.get("invoice_id", ""))
        amount = parse_amount(params.get("amount", ""), "amount")
        wanted = params.get("line_id") or None
        lines = []
        changed = False
        for line in invoice.get("Line", []):
            if line.get("DetailType") == "SubTotalLineDetail":
                continue
            line = dict(line)
            is_target = line.get("DetailType") == "SalesItemLineDetail" and (
                line.get("Id") == wanted if wanted else not changed
            )
            if is_target:
                line["Amount"] = amount
                detail = dict(line["SalesItemLineDetail"])
                qty = detail.get("Qty")
                if qty:
                    detail["UnitPrice"] = (amount / Decimal(qty)).quantize(UNIT_PRICE_STEP, rounding=ROUND_HALF_UP)
                else:
                    detail.pop("UnitPrice", None)
                line["SalesItemLineDetail"] = detail
                changed = True
            lines.append(line)
        if not changed:
            raise ActionFailed("no matching item line on this invoice")
        return self._call(
            self.sandbox.service.update,
            realm_id,
            "Invoice",
            {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"], "sparse": True, "Line": lines},
        )

    def edit_invoice_number(self, realm_id: str, params: Mapping[str, str]) -> Record:
        """Retype the invoice number (duplicate and length rules apply)."""
        invoice = self._current(realm_id, "Invoice", params.get("invoice_id", ""))
        return self._call(
            self.sandbox.service.update,
            realm_id,
            "Invoice",
            {
                "Id": invoice["Id"],
                "SyncToken": invoice["SyncToken"],
                "sparse": True,
                "DocNumber": params.get("doc_number", ""),
            },
        )

    def record_payment(self, realm_id: str, params: Mapping[str, str]) -> Record:
        """Receive a payment against one invoice, or against two (`also_invoice_id`, `also_amount`): one
        payment with a line per invoice, as "Receive payment" records one cheque for several invoices."""
        invoice = self._current(realm_id, "Invoice", params.get("invoice_id", ""))
        amount = parse_amount(params.get("amount", ""), "amount")
        lines = [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]
        if params.get("also_invoice_id"):
            other = self._current(realm_id, "Invoice", params["also_invoice_id"])
            also = parse_amount(params.get("also_amount", ""), "also_amount")
            lines.append({"Amount": also, "LinkedTxn": [{"TxnId": other["Id"], "TxnType": "Invoice"}]})
            amount += also
        body: dict[str, Any] = {
            "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
            "TotalAmt": amount,
            "Line": lines,
        }
        if params.get("txn_date"):
            body["TxnDate"] = params["txn_date"]
        if params.get("reference"):
            body["PaymentRefNum"] = params["reference"]
        return self._call(self.sandbox.service.create, realm_id, "Payment", body)

    def edit_payment(self, realm_id: str, params: Mapping[str, str]) -> Record:
        """Change what a payment applies to one invoice (`invoice_id`) to `amount`; its total follows."""
        payment = self._current(realm_id, "Payment", params.get("payment_id", ""))
        amount = parse_amount(params.get("amount", ""), "amount")
        lines, total = [], Decimal("0")
        for line in payment.get("Line", []):
            linked = [txn for txn in line.get("LinkedTxn", []) if txn.get("TxnType") == "Invoice"]
            if any(str(txn.get("TxnId")) == str(params.get("invoice_id", "")) for txn in linked):
                line = {**line, "Amount": amount}
            lines.append(line)
            total += Decimal(str(line.get("Amount", 0)))
        return self._call(
            self.sandbox.service.update, realm_id, "Payment",
            {"Id": payment["Id"], "SyncToken": payment["SyncToken"], "sparse": True, "Line": lines, "TotalAmt": total},
        )

    def void_invoice(self, realm_id: str, params: Mapping[str, str]) -> Record:
        """Void: amounts become zero, the invoice stays."""
        invoice = self._current(realm_id, "Invoice", params.get("invoice_id", ""))
        return self._call(
            self.sandbox.service.void, realm_id, "Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
        )

    def delete_invoice(self, realm_id: str, params: Mapping[str, str]) -> Record:
        """Delete: the invoice disappears (CDC reports it as Deleted)."""
        invoice = self._current(realm_id, "Invoice", params.get("invoice_id", ""))
        return self._call(
            self.sandbox.service.delete, realm_id, "Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
        )

    def delete_payment(self, realm_id: str, params: Mapping[str, str]) -> Record:
        """Delete: the payment disappears (CDC reports it as Deleted) and its invoices owe it again."""
        payment = self._current(realm_id, "Payment", params.get("payment_id", ""))
        return self._call(
            self.sandbox.service.delete, realm_id, "Payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}
        )

    def void_payment(self, realm_id: str, params: Mapping[str, str]) -> Record:
        """Void: the payment stays, at zero, applied to nothing (as `operation=update&include=void`)."""
        payment = self._current(realm_id, "Payment", params.get("payment_id", ""))
        return self._call(
            self.sandbox.service.update,
            realm_id,
            "Payment",
            {"Id": payment["Id"], "SyncToken": payment["SyncToken"], "sparse": True},
            void=True,
        )

    def rename_customer(self, realm_id: str, params: Mapping[str, str]) -> Record:
        """Change a customer's DisplayName (uniqueness applies)."""
        customer = self._current(realm_id, "Customer", params.get("customer_id", ""))
        return self._call(
            self.sandbox.service.update,
            realm_id,
            "Customer",
            {
                "Id": customer["Id"],
                "SyncToken": customer["SyncToken"],
                "sparse": True,
                "DisplayName": params.get("display_name", ""),
            },
        )

    def deactivate_customer(self, realm_id: str, params: Mapping[str, str]) -> Record:
        """Make a customer inactive (QBO's "delete" for name-list records)."""
        customer = self._current(realm_id, "Customer", params.get("customer_id", ""))
        return self._call(
            self.sandbox.service.update,
            realm_id,
            "Customer",
            {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Active": False},
        )

    def merge_customers(self, realm_id: str, params: Mapping[str, str]) -> Record:
        """Merge one customer into another."""
        return self._call(
            self.sandbox.service.merge_customers, realm_id, params.get("from_id", ""), params.get("into_id", "")
        )


def render_invoice_page(sandbox: QboSandbox, realm_id: str, invoice: Record) -> str:
    """A read-only invoice page similar in content to QBO's invoice screen."""
    company = sandbox.service.company(realm_id)
    today = sandbox.clock.now().astimezone(company.tz).date().isoformat()
    status = invoice_status(("Invoice", invoice["Id"]) in company.voided, invoice, today)
    lines = [
        [
            ln.get("LineNum", ""),
            (ln.get("SalesItemLineDetail") or {}).get("ItemRef", {}).get("name", ""),
            ln.get("Description", ""),
            str((ln.get("SalesItemLineDetail") or {}).get("Qty", "")),
            str(ln.get("Amount", "")),
            (ln.get("SalesItemLineDetail") or {}).get("TaxCodeRef", {}).get("value", ""),
        ]
        for ln in invoice.get("Line", [])
        if ln.get("DetailType") in ("SalesItemLineDetail", "DescriptionOnly")
    ]
    tax = (invoice.get("TxnTaxDetail") or {}).get("TotalTax", 0)
    header = (
        f"<h1>Invoice {html.escape(invoice.get('DocNumber') or '(no number)')}</h1>"
        f"<p><strong>{html.escape(company.preset.company_name)}</strong> - status: "
        f"<span class='status'>{html.escape(status)}</span></p>"
        f"<p>Customer: {html.escape(invoice['CustomerRef'].get('name', ''))}<br>"
        f"Invoice date: {html.escape(invoice.get('TxnDate', ''))} - Due: {html.escape(invoice.get('DueDate', ''))}<br>"
        f"Txn Id {html.escape(invoice['Id'])}, SyncToken {html.escape(invoice['SyncToken'])}, "
        f"last updated {html.escape(invoice['MetaData']['LastUpdatedTime'])}</p>"
    )
    totals = (
        f"<p>Tax: {html.escape(str(tax))}<br><strong>Total: {html.escape(str(invoice.get('TotalAmt')))}"
        f"</strong><br>Balance due: <span class='balance'>{html.escape(str(invoice.get('Balance')))}"
        f"</span></p>"
    )
    back = f"<p><a href='{ACCOUNTANT_PATH}/{html.escape(realm_id)}'>Accountant's view</a></p>"
    table = render_table(Table("Lines", ["#", "Product/Service", "Description", "Qty", "Amount", "Tax"], lines))
    return render_page(f"Invoice {invoice.get('DocNumber', '')}", header + table + totals + back)


def build_deeplink_router(sandbox: QboSandbox) -> Router:
    """``GET /app/invoice?txnId=...[&companyId=...]``."""

    @get("/app/invoice")
    async def invoice_page(
        txnId: FromQuery[str | None] = None, companyId: FromQuery[str | None] = None
    ) -> Response[str]:
        """Render the invoice behind a "View in QuickBooks" link."""
        matches = []
        for company in sandbox.state.companies.values():
            if companyId and company.realm_id != companyId:
                continue
            try:
                matches.append((company.realm_id, sandbox.service.read(company.realm_id, "Invoice", txnId or "")))
            except QboFault:
                continue
        if not matches:
            page = render_page(
                "Invoice not found",
                "<h1>Invoice not found</h1><p>We can't find this transaction. It may have been deleted.</p>",
            )
            return Response(page, status_code=404, media_type="text/html")
        if len(matches) > 1:
            links = "".join(
                f"<li><a href='/app/invoice?txnId={html.escape(txnId or '')}&companyId={realm}'>"
                f"{html.escape(realm)}</a></li>"
                for realm, _ in matches
            )
            return Response(
                render_page("Choose a company", f"<h1>Choose a company</h1><ul>{links}</ul>"), media_type="text/html"
            )
        realm, invoice = matches[0]
        return Response(render_invoice_page(sandbox, realm, invoice), media_type="text/html")

    return Router(path="/", route_handlers=[invoice_page], include_in_schema=False)
