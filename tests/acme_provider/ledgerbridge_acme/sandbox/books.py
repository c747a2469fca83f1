"""The sandbox's books: each company's customers, items, accounts, tax rates, invoices, payments and
time entries, in memory.

Acme numbers every record from one counter starting at 1 (ids are plain numbers), keeps deleted
records with `deleted: true` so change reads report them, and refuses a second live invoice with the
same number (`duplicate_number`); an invoice created without a number gets the company's next free
one (`ACME-1001`, `ACME-1002`...), as books that number their own invoices do. An invoice's total is
the sum of its lines (with their tax); its balance and status follow from the payments recorded
against it that are not void.

Every change, whether it comes through the API or the accountant's view, goes through `update` or
`create`, so versions, `updated_at` (the sandbox clock's) and change notifications behave the same
whoever made the change. Records are plain JSON-ready dicts shaped exactly as the API returns them.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ledgerbridge_testing.sandbox.clock import SandboxClock

Record = dict[str, Any]
#: Every collection of a company's books.
COLLECTIONS = ("customers", "items", "accounts", "tax_rates", "invoices", "payments", "time_entries")
#: Collections the API lets an app create and change with plain POST and PATCH (invoices and payments
#: have their own rules, below).
WRITABLE = ("customers", "items", "time_entries")
#: Fields no request may set.
SERVER_FIELDS = ("id", "version", "created_at", "updated_at", "deleted")
ZERO = Decimal("0")

Listener = Callable[[str, str, Record, str], None]  # (company id, collection, record, action)


class ApiError(Exception):
    """A refusal with Acme Books's status and `{"error": {"code", "message"}}` body."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass
class Company:
    id: str
    name: str
    currency: str
    records: dict[str, dict[str, Record]] = field(default_factory=lambda: {name: {} for name in COLLECTIONS})


class Books:
    """Thread-safe in-memory books (the sandbox server runs handlers on its own thread)."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.companies: dict[str, Company] = {}
        self.listeners: list[Listener] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        #: (company, idempotency key) -> (status, body) of the first answer, replayed for a repeated key.
        self.replays: dict[tuple[str, str], tuple[int, Any]] = {}

    def clear(self) -> None:
        """Empty books, numbered from 1 again."""
        with self._lock:
            self.companies.clear()
            self.replays.clear()
            self._ids = itertools.count(1)

    def add_company(self, company_id: str, name: str, currency: str) -> Company:
        with self._lock:
            company = self.companies[company_id] = Company(company_id, name, currency)
            return company

    def company(self, company_id: str) -> Company:
        company = self.companies.get(company_id)
        if company is None:
            raise ApiError(404, "not_found", f"No company {company_id}.")
        return company

    def _stamp(self) -> str:
        return self.clock.now().isoformat()

    def create(self, company_id: str, collection: str, fields: Mapping[str, Any]) -> Record:
        with self._lock:
            company = self.company(company_id)
            now = self._stamp()
            record: Record = {key: value for key, value in fields.items() if key not in SERVER_FIELDS}
            record.update(id=str(next(self._ids)), version=1, created_at=now, updated_at=now, deleted=False)
            record.setdefault("active", True)
            company.records[collection][record["id"]] = record
            self._announce(company_id, collection, record, "created")
            return dict(record)

    def get(self, company_id: str, collection: str, record_id: str) -> Record:
        with self._lock:
            record = self.company(company_id).records[collection].get(record_id)
            if record is None:
                raise ApiError(404, "not_found", f"No {collection[:-1].replace('_', ' ')} {record_id}.")
            return dict(record)

    def update(self, company_id: str, collection: str, record_id: str, changes: Mapping[str, Any],
               version: int | None = None) -> Record:
        """Apply changes; `version`, when given, must be the stored one (else 409, as a stale write)."""
        with self._lock:
            company = self.company(company_id)
            record = company.records[collection].get(record_id)
            if record is None:
                raise ApiError(404, "not_found", f"No {collection[:-1].replace('_', ' ')} {record_id}.")
            if version is not None and version != record["version"]:
                raise ApiError(409, "stale_version", f"Version {version} is stale; the record is at "
                               f"version {record['version']}.")
            if record.get("deleted"):
                raise ApiError(404, "not_found", f"{collection[:-1].replace('_', ' ').capitalize()} {record_id} "
                               "was deleted.")
            record.update({key: value for key, value in changes.items() if key not in SERVER_FIELDS})
            return self._changed(company_id, collection, record, "updated")

    def _changed(self, company_id: str, collection: str, record: Record, action: str) -> Record:
        record["version"] += 1
        record["updated_at"] = self._stamp()
        self._announce(company_id, collection, record, action)
        return dict(record)

    def _live(self, company_id: str, collection: str, record_id: str) -> Record:
        record = self.company(company_id).records[collection].get(record_id)
        if record is None or record.get("deleted"):
            raise ApiError(404, "not_found", f"No {collection[:-1].replace('_', ' ')} {record_id}.")
        return record

    def delete(self, company_id: str, collection: str, record_id: str) -> Record:
        """Deleted records stay, flagged, so a change read tells apps they are gone."""
        with self._lock:
            record = self._live(company_id, collection, record_id)
            record.update(deleted=True, active=False)
            if collection == "invoices":
                record["status"] = "deleted"
            return self._changed(company_id, collection, record, "deleted")

    # ------------------------------------------------------------------ invoices and payments

    def _number_taken(self, company_id: str, number: str, other_than: str | None = None) -> bool:
        return any(row["number"] == number and not row.get("deleted") and row["id"] != other_than
                   for row in self.company(company_id).records["invoices"].values())

    def _next_number(self, company_id: str) -> str:
        """The company's next number: one above the highest `ACME-n` it holds, deleted ones included."""
        taken = [int(row["number"][5:]) for row in self.company(company_id).records["invoices"].values()
                 if str(row.get("number", "")).startswith("ACME-") and row["number"][5:].isdigit()]
        return f"ACME-{max(taken, default=1000) + 1}"

    @staticmethod
    def _settle(invoice: Record) -> None:
        """Total from the lines, balance and status from the payments (a void invoice stays at zero)."""
        if invoice.get("status") == "void":
            invoice["total"] = invoice["balance"] = ZERO
            return
        total = sum((Decimal(str(line.get("amount", 0))) + Decimal(str(line.get("tax_amount") or 0))
                     for line in invoice.get("lines") or []), ZERO)
        invoice["total"] = total
        paid = sum((Decimal(str(p["amount"])) for p in invoice.get("payments") or []), ZERO)
        invoice["balance"] = total - paid
        invoice["status"] = "paid" if paid and paid >= total else "partially_paid" if paid else "open"

    @staticmethod
    def _lines(fields: Mapping[str, Any]) -> list[Record]:
        lines = []
        for number, line in enumerate(fields.get("lines") or [], start=1):
            if not isinstance(line, Mapping):
                raise ApiError(400, "invalid_line", "Each line must be an object.")
            lines.append({**line, "id": str(number)})
        if not lines:
            raise ApiError(400, "invalid_line", "An invoice needs at least one line.")
        return lines

    def create_invoice(self, company_id: str, fields: Mapping[str, Any]) -> Record:
        with self._lock:
            number = str(fields.get("number") or "").strip() or self._next_number(company_id)
            if self._number_taken(company_id, number):
                raise ApiError(400, "duplicate_number", f"Invoice number {number} is already used.")
            body = {**fields, "number": number, "lines": self._lines(fields), "payments": []}
            self._settle(body)
            record = self.create(company_id, "invoices", body)
            return record

    def update_invoice(self, company_id: str, record_id: str, fields: Mapping[str, Any]) -> Record:
        with self._lock:
            invoice = self._live(company_id, "invoices", record_id)
            if invoice["status"] == "void":
                raise ApiError(400, "invoice_void", f"Invoice {invoice['number']} is void and cannot change.")
            number = str(fields.get("number") or invoice["number"])
            if self._number_taken(company_id, number, other_than=record_id):
                raise ApiError(400, "duplicate_number", f"Invoice number {number} is already used.")
            changes = {key: value for key, value in fields.items() if key not in ("payments", "status", "total",
                                                                                  "balance")}
            if "lines" in fields:
                changes["lines"] = self._lines(fields)
            invoice.update({key: value for key, value in changes.items() if key not in SERVER_FIELDS})
            invoice["number"] = number
            self._settle(invoice)
            return self._changed(company_id, "invoices", invoice, "updated")

    def void_invoice(self, company_id: str, record_id: str) -> Record:
        with self._lock:
            invoice = self._live(company_id, "invoices", record_id)
            invoice["status"] = "void"
            self._settle(invoice)
            return self._changed(company_id, "invoices", invoice, "voided")

    def edit_line_amount(self, company_id: str, record_id: str, amount: Decimal, line_id: str = "") -> Record:
        """The bookkeeper changes one line's amount (the first, unless `line_id` names another)."""
        with self._lock:
            invoice = self._live(company_id, "invoices", record_id)
            lines = invoice["lines"]
            line = next((row for row in lines if row["id"] == line_id), lines[0]) if lines else None
            if line is None:
                raise ApiError(400, "invalid_line", "The invoice has no line to change.")
            line.update(amount=amount, quantity=Decimal("1"), unit_price=amount)
            self._settle(invoice)
            return self._changed(company_id, "invoices", invoice, "updated")

    def renumber(self, company_id: str, record_id: str, number: str) -> Record:
        return self.update_invoice(company_id, record_id, {"number": number})

    def record_payment(self, company_id: str, fields: Mapping[str, Any]) -> Record:
        """A payment against an open invoice: its own record, and the invoice's balance goes down."""
        with self._lock:
            invoice = self._live(company_id, "invoices", str(fields.get("invoice_id") or ""))
            if invoice["status"] == "void":
                raise ApiError(400, "invoice_void", f"Invoice {invoice['number']} is void.")
            amount = Decimal(str(fields.get("amount") or 0))
            if amount <= 0:
                raise ApiError(400, "invalid_amount", "A payment amount must be above zero.")
            payment = self.create(company_id, "payments", {**fields, "invoice_id": invoice["id"], "amount": amount,
                                                            "status": "applied"})
            invoice.setdefault("payments", []).append({"id": payment["id"], "amount": amount,
                                                       "date": fields.get("date"),
                                                       "reference": fields.get("reference") or ""})
            self._settle(invoice)
            self._changed(company_id, "invoices", invoice, "updated")
            return payment

    def void_payment(self, company_id: str, record_id: str) -> Record:
        """A void payment stays, at its amount, marked void; its invoice owes that amount again."""
        with self._lock:
            payment = self._live(company_id, "payments", record_id)
            if payment.get("status") == "void":
                raise ApiError(400, "payment_void", f"Payment {record_id} is already void.")
            invoice = self._live(company_id, "invoices", str(payment["invoice_id"]))
            invoice["payments"] = [p for p in invoice.get("payments") or [] if p["id"] != payment["id"]]
            self._settle(invoice)
            self._changed(company_id, "invoices", invoice, "updated")
            payment["status"] = "void"
            return self._changed(company_id, "payments", payment, "voided")

    def delete_payment(self, company_id: str, record_id: str) -> Record:
        """The bookkeeper removes a payment: it goes (flagged deleted) and its invoice owes that amount again."""
        with self._lock:
            payment = self._live(company_id, "payments", record_id)
            invoice = self._live(company_id, "invoices", str(payment["invoice_id"]))
            invoice["payments"] = [p for p in invoice.get("payments") or [] if p["id"] != payment["id"]]
            self._settle(invoice)
            self._changed(company_id, "invoices", invoice, "updated")
            return self.delete(company_id, "payments", record_id)

    def listing(self, company_id: str, collection: str, since: datetime | None = None,
                filters: Mapping[str, tuple[str, ...]] | None = None) -> list[Record]:
        """Records in id order; with `since`, only those changed at or after it (inactive ones included)."""
        with self._lock:
            rows = list(self.company(company_id).records[collection].values())  # deleted ones too
        if since is not None:
            rows = [row for row in rows if datetime.fromisoformat(row["updated_at"]) >= since]
        for name, allowed in (filters or {}).items():
            rows = [row for row in rows if str(row.get(name)) in allowed]
        return [dict(row) for row in sorted(rows, key=lambda row: int(row["id"]))]

    def _announce(self, company_id: str, collection: str, record: Record, action: str) -> None:
        for listener in self.listeners:
            listener(company_id, collection, dict(record), action)
