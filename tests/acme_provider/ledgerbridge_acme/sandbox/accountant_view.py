"""The accountant's view: what a bookkeeper does in Acme Books's own screens, for demos and tests.

The end-to-end suite drives it through `/accountant/<company>/api/<action>` and reads its
tables. Every action goes through the same `Books` methods as the API, so versions, timestamps and
notifications are the ones an app would see. Invoice actions (`record_payment`,
`edit_invoice_amount`, `edit_invoice_number`, `void_invoice`, `delete_invoice`) come with invoices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox.accountant import AccountantAction, ActionFailed, ActionField, Table

from ledgerbridge_acme.sandbox.books import ApiError

if TYPE_CHECKING:
    from ledgerbridge_acme.sandbox.app import Sandbox

ACCOUNTANT_PATH = "/accountant"


class AccountantView:
    title = "Acme Books sandbox: accountant's view"

    def __init__(self, sandbox: Sandbox) -> None:
        self.books = sandbox.books

    def companies(self) -> list[tuple[str, str]]:
        return [(company.id, company.name) for company in self.books.companies.values()]

    def tables(self, company: str) -> list[Table]:
        customers = self.books.listing(company, "customers")
        items = self.books.listing(company, "items")
        accounts = self.books.listing(company, "accounts")
        rates = self.books.listing(company, "tax_rates")
        return [
            Table("Customers", ("Id", "Name", "Email", "Active", "Version"),
                  [(c["id"], c["display_name"], c.get("email", ""), str(c["active"]).lower(), str(c["version"]))
                   for c in customers]),
            Table("Items", ("Id", "Name", "Unit price", "Active"),
                  [(i["id"], i["name"], str(i["unit_price"]), str(i["active"]).lower()) for i in items]),
            Table("Accounts", ("Id", "Name", "Code", "Type"),
                  [(a["id"], a["name"], a["code"], a["type"]) for a in accounts]),
            Table("Tax rates", ("Id", "Name", "Rate"), [(t["id"], t["name"], str(t["rate"])) for t in rates]),
        ]

    def actions(self, company: str) -> list[AccountantAction]:
        customers = tuple((c["id"], c["display_name"]) for c in self.books.listing(company, "customers"))
        customer = ActionField("customer_id", "Customer", "select", customers)
        return [
            AccountantAction("rename_customer", "Rename customer",
                             (customer, ActionField("display_name", "New name")), self.rename_customer),
            AccountantAction("deactivate_customer", "Make customer inactive", (customer,), self.deactivate_customer),
        ]

    def _change(self, company: str, record_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.books.update(company, "customers", record_id, changes)
        except ApiError as exc:
            raise ActionFailed(exc.message, exc.status) from exc

    def rename_customer(self, company: str, params: Mapping[str, str]) -> dict[str, Any]:
        name = params.get("display_name", "").strip()
        if not name:
            raise ActionFailed("New name is required")
        return self._change(company, params.get("customer_id", ""), {"display_name": name})

    def deactivate_customer(self, company: str, params: Mapping[str, str]) -> dict[str, Any]:
        return self._change(company, params.get("customer_id", ""), {"active": False})
