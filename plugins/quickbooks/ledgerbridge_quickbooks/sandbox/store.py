"""In-memory, thread-safe company data for the QBO sandbox.

Each company (realm) owns its records, deletion tombstones (what CDC reports as ``status: Deleted``),
id sequence, and the ``requestid`` replay cache, all guarded by one re-entrant lock: the API runs on
the server's event loop while tests and the accountant's view may call in from other threads, and every
write must look atomic to both.

Records are stored as the JSON-ready dicts the API returns (money as Decimal), so reads are deep copies
and nothing outside this module can mutate stored state by accident.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledgerbridge_testing.sandbox.clock import SandboxClock

from ledgerbridge_quickbooks.sandbox.config import CompanyPreset

Record = dict[str, Any]


def company_timezone(name: str) -> tzinfo:
    """The company's zone, falling back to Pacific Standard Time when no tz database is installed."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone(timedelta(hours=-8), "PST")


def format_timestamp(moment: datetime, tz: tzinfo) -> str:
    """QBO's MetaData format: local time with offset, whole seconds (``2015-10-06T15:12:39-07:00``)."""
    return moment.astimezone(tz).replace(microsecond=0).isoformat()


def format_response_time(moment: datetime, tz: tzinfo) -> str:
    """QBO's response ``time`` field: milliseconds and offset (``2020-09-29T06:02:35.106-07:00``)."""
    return moment.astimezone(tz).isoformat(timespec="milliseconds")


def parse_timestamp(value: str, tz: tzinfo) -> datetime:
    """Parse an ISO date or datetime; a date means local midnight, a naive time means company time."""
    text = value.strip().replace("Z", "+00:00")
    if len(text) == 10:
        text += "T00:00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


@dataclass
class Tombstone:
    """What remains of a deleted object: enough for CDC's ``status: Deleted`` entry."""

    entity: str
    entity_id: str
    deleted_at: str


@dataclass
class StoredResponse:
    """A write response kept for ``requestid`` replay."""

    status: int
    body: bytes


@dataclass
class Company:
    """One realm's data. Always use :meth:`locked` around multi-step reads and writes."""

    realm_id: str
    preset: CompanyPreset
    tz: tzinfo
    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    tombstones: dict[str, dict[str, Tombstone]] = field(default_factory=dict)
    requestids: dict[str, StoredResponse] = field(default_factory=dict)
    next_id: int = 1
    next_address_id: int = 1  # PhysicalAddress ids are their own sequence in QBO
    voided: set[tuple[str, str]] = field(default_factory=set)
    hidden_ids: set[tuple[str, str]] | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)

    @contextmanager
    def locked(self) -> Iterator[Company]:
        """Hold the company lock (re-entrant)."""
        with self.lock:
            yield self

    def allocate_id(self) -> str:
        """Next numeric Id; one sequence for all entities keeps ids unique within the company."""
        with self.lock:
            value = self.next_id
            self.next_id += 1
            return str(value)

    def table(self, entity: str) -> dict[str, Record]:
        """Live mapping Id -> record for one entity (caller holds the lock)."""
        return self.records.setdefault(entity, {})

    def get(self, entity: str, entity_id: str, *, include_hidden: bool = False) -> Record | None:
        """The stored record (not a copy); ``hidden_ids`` hides objects created earlier in a batch."""
        record = self.records.get(entity, {}).get(entity_id)
        if record is None:
            return None
        if not include_hidden and self.hidden_ids is not None and (entity, entity_id) in self.hidden_ids:
            return None
        return record

    def visible(self, entity: str) -> list[Record]:
        """All stored records of an entity that the current operation may see."""
        rows = list(self.records.get(entity, {}).values())
        if self.hidden_ids:
            rows = [r for r in rows if (entity, r["Id"]) not in self.hidden_ids]
        return rows

    def put(self, entity: str, record: Record) -> None:
        """Insert or replace a record (caller holds the lock)."""
        self.table(entity)[record["Id"]] = record

    def remove(self, entity: str, entity_id: str, deleted_at: str) -> None:
        """Delete a record and leave a tombstone for CDC."""
        self.table(entity).pop(entity_id, None)
        self.tombstones.setdefault(entity, {})[entity_id] = Tombstone(entity, entity_id, deleted_at)

    def is_deleted(self, entity: str, entity_id: str) -> bool:
        """True when the object existed and was deleted (QBO words that 610 differently)."""
        return entity_id in self.tombstones.get(entity, {})


class SandboxState:
    """All companies of one sandbox instance."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.companies: dict[str, Company] = {}
        self._lock = threading.Lock()

    def add_company(self, preset: CompanyPreset) -> Company:
        """Create an empty company for a preset (seeding is done by :mod:`.seed`)."""
        company = Company(realm_id=preset.realm_id, preset=preset, tz=company_timezone(preset.timezone))
        with self._lock:
            self.companies[preset.realm_id] = company
        return company

    def company(self, realm_id: str) -> Company | None:
        """Look a realm up."""
        return self.companies.get(realm_id)

    def clear(self) -> None:
        """Forget every company (reset)."""
        with self._lock:
            self.companies.clear()


def snapshot(record: Record) -> Record:
    """Deep copy for handing a stored record to the outside world."""
    return copy.deepcopy(record)
