"""In-memory state of the FreshBooks sandbox: businesses, their records, and FreshBooks' time formats.

The classic accounting API writes timestamps zone-less in US/Eastern (``"2021-04-16 10:31:58"``) while
the newer services (ledger accounts, callbacks) write UTC ISO strings (FACTS.md "FreshBooks 2"). Records
keep aware UTC datetimes and are formatted only when rendered, so both views of one instant agree.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ledgerbridge_freshbooks.sandbox.config import BusinessPreset, IdentityPreset

EASTERN = ZoneInfo("America/New_York")

Record = dict[str, Any]

#: First id of each resource, distinct ranges so a client that mixes ids up gets "not found".
ID_BASES = {"clients": 1001, "items": 2001, "taxes": 3001, "invoices": 4001, "payments": 5001,
            "time_entries": 6001, "lines": 1, "callbacks": 9001}


def eastern(moment: datetime) -> str:
    """FreshBooks accounting timestamp: zone-less, US/Eastern, to the second."""
    return moment.astimezone(EASTERN).strftime("%Y-%m-%d %H:%M:%S")


def eastern_date(moment: datetime) -> date:
    """The US/Eastern calendar day of an instant (the unit of ``updated_min``/``updated_max``)."""
    return moment.astimezone(EASTERN).date()


def utc_iso(moment: datetime, micro: bool = False) -> str:
    """UTC ISO form of the newer services (``...Z``)."""
    text = moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.%f" if micro else "%Y-%m-%dT%H:%M:%S")
    return text + "Z"


@dataclass
class Callback:
    """A registered webhook callback (FACTS FreshBooks 8)."""

    callbackid: int
    event: str
    uri: str
    verifier: str
    verified: bool
    updated_at: datetime
    client_id: str


@dataclass
class Business:
    """One FreshBooks business (account) and everything in it."""

    preset: BusinessPreset
    records: dict[str, dict[int, Record]] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=dict)
    ledger_accounts: list[Record] = field(default_factory=list)
    callbacks: dict[int, Callback] = field(default_factory=dict)
    share_tokens: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def account_id(self) -> str:
        return self.preset.account_id

    def table(self, resource: str) -> dict[int, Record]:
        """The records of one resource (``clients``, ``invoices``...)."""
        return self.records.setdefault(resource, {})

    def new_id(self, resource: str) -> int:
        """Next id of a resource; ids are never reused, even after deletes or a failed create."""
        value = self.next_ids.get(resource, ID_BASES[resource])
        self.next_ids[resource] = value + 1
        return value

    @contextmanager
    def locked(self) -> Iterator[Business]:
        with self.lock:
            yield self


class SandboxState:
    """All businesses and identities of one sandbox instance."""

    def __init__(self) -> None:
        self.businesses: dict[str, Business] = {}
        self.identities: dict[int, IdentityPreset] = {}

    def business(self, account_id: str) -> Business | None:
        return self.businesses.get(account_id)

    def by_uuid(self, business_uuid: str) -> Business | None:
        return next((b for b in self.businesses.values() if b.preset.business_uuid == business_uuid), None)

    def by_business_id(self, business_id: int) -> Business | None:
        return next((b for b in self.businesses.values() if b.preset.business_id == business_id), None)

    def owner_of(self, account_id: str) -> int | None:
        """The first identity belonging to a business (acts for edits made in the accountant's view)."""
        return next((i.identity_id for i in self.identities.values() if account_id in i.account_ids), None)
