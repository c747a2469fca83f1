"""Human-facing pages: the accountant's view, the staff deep link and the client's share link.

The accountant's view offers the same action names and fields as the other sandboxes so one end-to-end
suite drives every provider; each action calls :class:`~.service.FbService`, so ``updated`` moves and
webhooks fire exactly as for an API call. FreshBooks has no void (FACTS.md "FreshBooks 3"); the
bookkeeper's nearest move, writing the invoice off to zero, is what ``void_invoice`` does here.

FreshBooks' web links are fragment routes (``https://my.freshbooks.com/#/invoice/{accountid}-{invoiceid}``
and ``#/link/{secret}``), which never reach a server; the sandbox's ``/`` page reads the fragment and
loads ``/view/invoice/...`` or ``/view/link/...``, so the links integrators build work unchanged.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date
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
from litestar import Response, Router, get
from litestar.params import FromPath

from ledgerbridge_freshbooks.sandbox.errors import FbError
from ledgerbridge_freshbooks.sandbox.store import Record, eastern_date

if TYPE_CHECKING:
    from ledgerbridge_freshbooks.sandbox.app import FbSandbox

ACCOUNTANT_PATH = "/accountant"
FB_WORDING = Wording(
    customer="Client",
    line_id="Line id (default: first line)",
    record_payment="Add a payment",
    reference="Note / reference",
    void_invoice="Write off (FreshBooks has no void)",
    void_description="Sets every line to zero; FreshBooks offers no void.",
    rename_customer="Rename client",
    new_name="New organization name",
    deactivate_customer="Archive client",
)

#: Sent to ``/`` so fragment links (``/#/invoice/...``) reach the right page.
FRAGMENT_ROUTER = (
    "<script>(function(){var h=location.hash;var m=h.match(/^#\\/invoice\\/([^?]+)/);"
    "if(m){location.replace('/view/invoice/'+m[1]);return;}"
    "m=h.match(/^#\\/link\\/([^?]+)/);if(m){location.replace('/view/link/'+m[1]);}})();</script>"
)


def _failed(error: FbError) -> ActionFailed:
    return ActionFailed(f"{error.errno} {error.message}", status=error.status, detail=error.classic())


class FbAccountantView:
    """The :class:`~ledgerbridge_testing.sandbox.accountant.AccountantView` of the FreshBooks sandbox."""

    title = "FreshBooks sandbox: accountant's view"

    def __init__(self, sandbox: FbSandbox) -> None:
        self.sandbox = sandbox

    def companies(self) -> list[tuple[str, str]]:
        """Account ids and business names."""
        return [(b.account_id, b.preset.name) for b in self.sandbox.state.businesses.values()]

    def _all(self, account_id: FromPath[str], table: str) -> list[Record]:
        service = self.sandbox.service
        business = service.business(account_id)
        with business.locked():
            return [
                service.render(business, table, r, include_lines=True) for _, r in sorted(business.table(table).items())
            ]

    def tables(self, company: str) -> list[Table]:
        """Invoices, payments and clients, deleted ones included."""
        invoices = self._all(company, "invoices")
        payments = self._all(company, "payments")
        clients = self._all(company, "clients")
        business = self.sandbox.service.business(company)
        with business.locked():
            entries = [dict(r) for _, r in sorted(business.table("time_entries").items())]
        return [
            Table(  # every sandbox's view shares this title and the Description and Billed columns
                "Time",
                ["Id", "Description", "Duration", "billable", "Billed"],
                [[str(r["id"]), r.get("note", ""), str(r.get("duration", "")), str(r.get("billable")).lower(),
                  "yes" if r.get("billed") else "no"] for r in entries],
            ),
            Table(
                "Invoices",
                [
                    "Id",
                    "Number",
                    "Client",
                    "Amount",
                    "Outstanding",
                    "v3_status",
                    "display_status",
                    "vis_state",
                    "Updated",
                ],
                [
                    [
                        str(r["id"]),
                        r["invoice_number"],
                        r["organization"],
                        r["amount"]["amount"],
                        r["outstanding"]["amount"],
                        r["v3_status"],
                        r["display_status"],
                        str(r["vis_state"]),
                        r["updated"],
                    ]
                    for r in invoices
                ],
                links={i: f"/view/invoice/{company}-{r['id']}" for i, r in enumerate(invoices)},
            ),
            Table(
                "Payments",
                ["Id", "Invoice", "Amount", "Date", "Type", "Note", "vis_state"],
                [
                    [
                        str(r["id"]),
                        str(r["invoiceid"]),
                        r["amount"]["amount"],
                        r["date"],
                        r["type"],
                        r["note"],
                        str(r["vis_state"]),
                    ]
                    for r in payments
                ],
            ),
            Table(
                "Customers",  # FreshBooks says "Clients"; every sandbox's accountant view shares this title
                ["Id", "Organization", "Name", "Email", "vis_state", "Updated"],
                [
                    [
                        str(r["id"]),
                        r["organization"],
                        f"{r['fname']} {r['lname']}".strip(),
                        r["email"],
                        str(r["vis_state"]),
                        r["updated"],
                    ]
                    for r in clients
                ],
            ),
        ]

    def actions(self, company: str) -> list[AccountantAction]:
        """The same action names and fields as every LedgerBridge sandbox."""
        invoices = tuple(
            (str(r["id"]), f"{r['invoice_number']} - {r['organization']}") for r in self._all(company, "invoices")
        )
        clients = tuple((str(r["id"]), r["organization"] or r["email"]) for r in self._all(company, "clients"))
        payments = tuple((str(r["id"]), f"{r['amount']['amount']} on invoice {r['invoiceid']}")
                         for r in self._all(company, "payments") if r["vis_state"] == 0)
        return bookkeeper_actions(self, invoices, clients, FB_WORDING, payments)

    # -- actions (all through FbService) -----------------------------------------------------------------

    def _actor(self, account_id: FromPath[str]) -> int | None:
        return self.sandbox.state.owner_of(account_id)

    def _call(self, method: Any, *args: Any) -> Record:
        try:
            return method(*args)
        except FbError as error:
            raise _failed(error) from error

    def _invoice(self, account_id: FromPath[str], params: Mapping[str, str]) -> Record:
        if not params.get("invoice_id"):
            raise ActionFailed("choose an invoice")
        return self._call(self.sandbox.service.get, account_id, "invoices", params["invoice_id"], True)

    def _update(self, account_id: FromPath[str], table: str, record_id: Any, data: dict[str, Any]) -> Record:
        return self._call(self.sandbox.service.update, account_id, table, record_id, data, self._actor(account_id))

    @staticmethod
    def _line_input(line: Record) -> dict[str, Any]:
        return {
            k: line[k]
            for k in (
                "lineid",
                "name",
                "description",
                "qty",
                "unit_cost",
                "type",
                "taxName1",
                "taxAmount1",
                "taxName2",
                "taxAmount2",
            )
            if line.get(k) is not None
        }

    def edit_invoice_amount(self, account_id: FromPath[str], params: Mapping[str, str]) -> Record:
        """Change one line's amount: unit cost follows when it divides evenly by the quantity, else qty 1."""
        invoice = self._invoice(account_id, params)
        amount = parse_amount(params.get("amount", ""), "amount")
        wanted = params.get("line_id") or str(invoice["lines"][0]["lineid"] if invoice["lines"] else "")
        lines, changed = [], False
        for line in invoice["lines"]:
            data = self._line_input(line)
            if str(line["lineid"]) == wanted:
                qty = Decimal(line["qty"]) or Decimal(1)
                unit = amount / qty
                if unit != unit.quantize(Decimal("0.01")):
                    qty, unit = Decimal(1), amount
                data.update(qty=str(qty), unit_cost={"amount": str(unit), "code": invoice["currency_code"]})
                changed = True
            lines.append(data)
        if not changed:
            raise ActionFailed("no matching line on this invoice")
        return self._update(account_id, "invoices", invoice["id"], {"lines": lines})

    def edit_invoice_number(self, account_id: FromPath[str], params: Mapping[str, str]) -> Record:
        """Retype the invoice number (uniqueness applies: 409 on a taken number)."""
        invoice = self._invoice(account_id, params)
        return self._update(account_id, "invoices", invoice["id"], {"invoice_number": params.get("doc_number", "")})

    def record_payment(self, account_id: FromPath[str], params: Mapping[str, str]) -> Record:
        """Record a payment against one invoice."""
        invoice = self._invoice(account_id, params)
        amount = parse_amount(params.get("amount", ""), "amount")
        today = eastern_date(self.sandbox.clock.now())
        data = {
            "invoiceid": invoice["id"],
            "amount": {"amount": str(amount), "code": invoice["currency_code"]},
            "date": params.get("txn_date") or today.isoformat(),
            "type": "Check",
            "note": params.get("reference", ""),
        }
        return self._call(self.sandbox.service.create, account_id, "payments", data, self._actor(account_id))

    def void_invoice(self, account_id: FromPath[str], params: Mapping[str, str]) -> Record:
        """Write the invoice off to zero (refused while payments exist: they would make it read as paid)."""
        invoice = self._invoice(account_id, params)
        if Decimal(invoice["paid"]["amount"]) > 0:
            raise ActionFailed("this invoice has payments; delete them before writing it off", status=422)
        lines = [
            dict(self._line_input(ln), unit_cost={"amount": "0", "code": invoice["currency_code"]})
            for ln in invoice["lines"]
        ]
        notes = ("Written off. " + (invoice.get("notes") or "")).strip()
        return self._update(account_id, "invoices", invoice["id"], {"lines": lines, "notes": notes})

    def delete_payment(self, account_id: FromPath[str], params: Mapping[str, str]) -> Record:
        """Delete: vis_state 1 (FreshBooks has no void for payments); the invoice owes the amount again."""
        if not params.get("payment_id"):
            raise ActionFailed("choose a payment")
        return self._update(account_id, "payments", params["payment_id"], {"vis_state": 1})

    def delete_invoice(self, account_id: FromPath[str], params: Mapping[str, str]) -> Record:
        """Delete: vis_state 1, hidden from lists unless asked for."""
        invoice = self._invoice(account_id, params)
        return self._update(account_id, "invoices", invoice["id"], {"vis_state": 1})

    def _client_id(self, params: Mapping[str, str]) -> str:
        if not params.get("customer_id"):
            raise ActionFailed("choose a client")
        return params["customer_id"]

    def rename_customer(self, account_id: FromPath[str], params: Mapping[str, str]) -> Record:
        """Change the client's organization name (what FreshBooks shows as the client's name)."""
        name = (params.get("display_name") or "").strip()
        if not name:
            raise ActionFailed("the new name cannot be empty")
        return self._update(account_id, "clients", self._client_id(params), {"organization": name})

    def deactivate_customer(self, account_id: FromPath[str], params: Mapping[str, str]) -> Record:
        """Archive the client (vis_state 2): still listed, no longer active."""
        return self._update(account_id, "clients", self._client_id(params), {"vis_state": 2})


def render_invoice_page(sandbox: FbSandbox, account_id: FromPath[str], invoice: Record, client_view: bool) -> str:
    """The invoice as FreshBooks shows it (staff view, or the client's view behind a share link)."""
    business = sandbox.service.business(account_id)
    rows = [
        [str(ln["lineid"]), ln["name"], ln["description"], ln["qty"], ln["unit_cost"]["amount"], ln["amount"]["amount"]]
        for ln in invoice.get("lines", [])
    ]
    who = "Client view" if client_view else "Staff view"
    header = (
        f"<h1>Invoice {html.escape(invoice['invoice_number'])}</h1>"
        f"<p><strong>{html.escape(business.preset.name)}</strong> ({who}) - status: "
        f"<span class='status'>{html.escape(invoice['v3_status'])}</span>"
        f"{' (deleted)' if invoice['vis_state'] == 1 else ''}</p>"
        f"<p>Client: {html.escape(invoice['organization'])}<br>Issued {html.escape(invoice['create_date'])}, "
        f"due {html.escape(invoice['due_date'])}<br>Last updated {html.escape(invoice['updated'])}</p>"
    )
    totals = (
        f"<p><strong>Total: {html.escape(invoice['amount']['amount'])} {html.escape(invoice['currency_code'])}"
        f"</strong><br>Paid: {html.escape(invoice['paid']['amount'])}<br>Outstanding: "
        f"<span class='balance'>{html.escape(invoice['outstanding']['amount'])}</span></p>"
    )
    back = "" if client_view else f"<p><a href='{ACCOUNTANT_PATH}/{html.escape(account_id)}'>Accountant's view</a></p>"
    table = render_table(Table("Lines", ["Line", "Item", "Description", "Qty", "Rate", "Amount"], rows))
    return render_page(f"Invoice {invoice['invoice_number']}", header + table + totals + back)


def build_pages_router(sandbox: FbSandbox) -> Router:
    """``/`` (landing page and fragment router), ``/view/invoice/{accountid}-{invoiceid}``, ``/view/link/{secret}``."""

    def not_found() -> Response[str]:
        page = render_page("Not found", "<h1>Invoice not found</h1><p>It may have been removed.</p>")
        return Response(page, status_code=404, media_type="text/html")

    @get("/")
    async def index() -> Response[str]:
        """Landing page; also resolves FreshBooks-style fragment links."""
        links = "".join(
            f"<li>{html.escape(b.preset.name)} (account {html.escape(b.account_id)}): "
            f"<a href='{ACCOUNTANT_PATH}/{html.escape(b.account_id)}'>accountant's view</a></li>"
            for b in sandbox.state.businesses.values()
        )
        body = f"{FRAGMENT_ROUTER}<h1>FreshBooks sandbox</h1><ul>{links}</ul>"
        return Response(render_page("FreshBooks sandbox", body), media_type="text/html")

    @get("/view/invoice/{reference:str}")
    async def staff_invoice(reference: FromPath[str]) -> Response[str]:
        """Target of ``/#/invoice/{accountid}-{invoiceid}`` ("View in FreshBooks")."""
        account_id, _, invoice_id = reference.rpartition("-")
        try:
            invoice = sandbox.service.get(account_id, "invoices", invoice_id, include_lines=True)
        except FbError:
            return not_found()
        return Response(render_invoice_page(sandbox, account_id, invoice, False), media_type="text/html")

    @get("/view/link/{token:str}")
    async def client_invoice(token: FromPath[str]) -> Response[str]:
        """Target of a share link: the client sees the invoice, which becomes ``viewed``."""
        opened = sandbox.service.open_share_link(token)
        if opened is None:
            return not_found()
        business, invoice = opened
        return Response(render_invoice_page(sandbox, business.account_id, invoice, True), media_type="text/html")

    return Router(path="/", route_handlers=[index, staff_invoice, client_invoice], include_in_schema=False)


def today_eastern(sandbox: FbSandbox) -> date:
    """The business day FreshBooks uses for "today"."""
    return eastern_date(sandbox.clock.now())
