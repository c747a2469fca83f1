"""The accountant's view: what a bookkeeper does in Acme Books's own screens, for demos and tests.

The end-to-end suite drives it through `/accountant/<company>/api/<action>` and reads its
tables. Every action goes through the same `Books` methods as the API, so versions, timestamps and
notifications are the ones an app would see. The actions are the toolkit's `bookkeeper_actions`, under
the names the suite uses; deleted records are not shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox.accountant import (
    AccountantAction,
    ActionFailed,
    Table,
    Wording,
    bookkeeper_actions,
    parse_amount,
)

from ledgerbridge_acme.sandbox.books import ApiError

if TYPE_CHECKING:
    from ledgerbridge_acme.sandbox.app import Sandbox

ACCOUNTANT_PATH = "/accountant"
WORDING = Wording(customer="Customer", line_id="Line number", record_payment="Record payment",
                  reference="Reference", void_invoice="Void invoice", rename_customer="Rename customer",
                  new_name="New name", deactivate_customer="Make customer inactive",
                  void_description="The invoice stays, at zero.")


class AccountantView:
    title = "Acme Books sandbox: accountant's view"

    def __init__(self, sandbox: Sandbox) -> None:
        self.books = sandbox.books

    def companies(self) -> list[tuple[str, str]]:
        return [(company.id, company.name) for company in self.books.companies.values()]

    def _shown(self, company: str, collection: str) -> list[dict[str, Any]]:
        return [row for row in self.books.listing(company, collection) if not row.get("deleted")]

    def tables(self, company: str) -> list[Table]:
        customers = self._shown(company, "customers")
        items = self._shown(company, "items")
        accounts = self._shown(company, "accounts")
        rates = self._shown(company, "tax_rates")
        invoices = self._shown(company, "invoices")
        payments = self._shown(company, "payments")
        entries = self._shown(company, "time_entries")
        return [
            Table("Time", ("Id", "Description", "Hours", "Billed"),
                  [(t["id"], t.get("description", ""), str(t.get("hours", "")), "yes" if t.get("billed") else "no")
                   for t in entries]),
            Table("Customers", ("Id", "Name", "Email", "Active", "Version"),
                  [(c["id"], c.get("display_name", ""), c.get("email", ""), str(c["active"]).lower(),
                    str(c["version"])) for c in customers]),
            Table("Items", ("Id", "Name", "Unit price", "Active"),
                  [(i["id"], i["name"], str(i.get("unit_price", "")), str(i["active"]).lower()) for i in items]),
            Table("Accounts", ("Id", "Name", "Code", "Type"),
                  [(a["id"], a["name"], a.get("code", ""), a.get("type", "")) for a in accounts]),
            Table("Tax rates", ("Id", "Name", "Rate"), [(t["id"], t["name"], str(t["rate"])) for t in rates]),
            Table("Invoices", ("Id", "Number", "Customer", "Total", "Balance", "Status"),
                  [(i["id"], i["number"], str(i.get("customer_id", "")), str(i.get("total", "")),
                    str(i.get("balance", "")), i.get("status", "")) for i in invoices]),
            Table("Payments", ("Id", "Invoice", "Amount", "Date"),
                  [(p["id"], str(p.get("invoice_id", "")), str(p["amount"]), str(p.get("date") or ""))
                   for p in payments]),
        ]

    def actions(self, company: str) -> list[AccountantAction]:
        invoices = [(i["id"], i["number"]) for i in self._shown(company, "invoices")]
        customers = [(c["id"], c.get("display_name", "")) for c in self._shown(company, "customers")]
        payments = [(p["id"], f"{p['amount']} on invoice {p.get('invoice_id', '')}")
                    for p in self._shown(company, "payments") if p.get("status") != "void"]
        return bookkeeper_actions(self, invoices, customers, WORDING, payments)

    def _do(self, change: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return change()
        except ApiError as exc:
            raise ActionFailed(exc.message, exc.status) from exc

    def rename_customer(self, company: str, params: Mapping[str, str]) -> dict[str, Any]:
        name = params.get("display_name", "").strip()
        if not name:
            raise ActionFailed("New name is required")
        return self._do(lambda: self.books.update(company, "customers", params.get("customer_id", ""),
                                                  {"display_name": name}))

    def deactivate_customer(self, company: str, params: Mapping[str, str]) -> dict[str, Any]:
        return self._do(lambda: self.books.update(company, "customers", params.get("customer_id", ""),
                                                  {"active": False}))

    def record_payment(self, company: str, params: Mapping[str, str]) -> dict[str, Any]:
        amount = parse_amount(params.get("amount", ""), "Amount")
        return self._do(lambda: self.books.record_payment(company, {
            "invoice_id": params.get("invoice_id", ""), "amount": amount,
            "date": params.get("txn_date") or self.books.clock.now().date().isoformat(),
            "reference": params.get("reference", "")}))

    def edit_invoice_amount(self, company: str, params: Mapping[str, str]) -> dict[str, Any]:
        amount = parse_amount(params.get("amount", ""), "New amount")
        return self._do(lambda: self.books.edit_line_amount(company, params.get("invoice_id", ""), amount,
                                                            params.get("line_id", "")))

    def edit_invoice_number(self, company: str, params: Mapping[str, str]) -> dict[str, Any]:
        number = params.get("doc_number", "").strip()
        if not number:
            raise ActionFailed("New number is required")
        return self._do(lambda: self.books.renumber(company, params.get("invoice_id", ""), number))

    def void_invoice(self, company: str, params: Mapping[str, str]) -> dict[str, Any]:
        return self._do(lambda: self.books.void_invoice(company, params.get("invoice_id", "")))

    def delete_payment(self, company: str, params: Mapping[str, str]) -> dict[str, Any]:
        return self._do(lambda: self.books.delete_payment(company, params.get("payment_id", "")))

    def delete_invoice(self, company: str, params: Mapping[str, str]) -> dict[str, Any]:
        return self._do(lambda: self.books.delete(company, "invoices", params.get("invoice_id", "")))
