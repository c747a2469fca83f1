"""The sandbox's books: each company's customers, items, income accounts and tax rates, in memory.

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
from typing import Any

from ledgerbridge_testing.sandbox.clock import SandboxClock

Record = dict[str, Any]
#: Collection -> the prefix of its record ids.
COLLECTIONS = {"customers": "cus", "items": "itm", "accounts": "acc", "tax_rates": "tax"}
#: Collections the API lets an app create and change.
WRITABLE = ("customers", "items")
#: Fields no request may set.
SERVER_FIELDS = ("id", "version", "created_at", "updated_at")

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
        self._ids = itertools.count(1001)
        self._lock = threading.RLock()

    def clear(self) -> None:
        with self._lock:
            self.companies.clear()

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
            record.update(id=f"{COLLECTIONS[collection]}-{next(self._ids)}", version=1, created_at=now,
                          updated_at=now)
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
            record.update({key: value for key, value in changes.items() if key not in SERVER_FIELDS})
            record["version"] += 1
            record["updated_at"] = self._stamp()
            self._announce(company_id, collection, record, "updated")
            return dict(record)

    def listing(self, company_id: str, collection: str, since: datetime | None = None,
                filters: Mapping[str, tuple[str, ...]] | None = None) -> list[Record]:
        """Records in id order; with `since`, only those changed at or after it (inactive ones included)."""
        with self._lock:
            rows = list(self.company(company_id).records[collection].values())
        if since is not None:
            rows = [row for row in rows if datetime.fromisoformat(row["updated_at"]) >= since]
        for name, allowed in (filters or {}).items():
            rows = [row for row in rows if str(row.get(name)) in allowed]
        return [dict(row) for row in sorted(rows, key=lambda row: row["id"])]

    def _announce(self, company_id: str, collection: str, record: Record, action: str) -> None:
        for listener in self.listeners:
            listener(company_id, collection, dict(record), action)
