"""In-memory state of the Xero sandbox: one :class:`Organisation` per tenant.

Records are plain dicts already shaped like Xero's JSON, except that dates are ``date``, timestamps
``datetime`` and money ``Decimal``; :mod:`.render` turns them into wire form. Each organisation has
its own re-entrant lock so a request sees and leaves a consistent organisation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ledgerbridge_xero.sandbox.config import OrganisationPreset

Record = dict[str, Any]

#: Collections an organisation holds, keyed by the id field of their records.
COLLECTIONS = {
    "Contacts": "ContactID",
    "Items": "ItemID",
    "Accounts": "AccountID",
    "TaxRates": "TaxType",
    "Invoices": "InvoiceID",
    "Payments": "PaymentID",
}


@dataclass
class Organisation:
    """One tenant: its settings, records and invoice-number sequence."""

    preset: OrganisationPreset
    organisation_id: str
    records: dict[str, dict[str, Record]] = field(default_factory=lambda: {name: {} for name in COLLECTIONS})
    next_invoice_number: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def tenant_id(self) -> str:
        return self.preset.tenant_id

    def collection(self, name: str) -> dict[str, Record]:
        """The records of one collection, in creation order."""
        return self.records[name]

    @contextmanager
    def locked(self) -> Iterator[Organisation]:
        """Hold the organisation for a consistent read or a whole write."""
        with self.lock:
            yield self
