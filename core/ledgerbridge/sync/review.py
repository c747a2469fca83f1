"""The import review: what importing the provider's customers would do, before anything is written.

A person connecting an accounting tool to an app that already has customers wants to see which
ones will be linked to existing records and which created, to fix the odd ambiguous match first,
and to say whether each new one is a business or a person. This reads the provider (pages, no
writes) and applies the importer's own matching rules, so the review and the import agree.
"""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass
from typing import Literal

from ledgerbridge import connections
from ledgerbridge.provider import RemoteCustomer
from ledgerbridge.sync.importing import _customer_values, match_customer, suggest_kind
from ledgerbridge.sync.links import fingerprint, link_by_remote
from ledgerbridge.sync.paging import read_pages
from ledgerbridge.tables import Connection, Customer, RecordType

Action = Literal["unchanged", "update", "link", "create", "ambiguous", "archive"]
REVIEW_LIMIT = 2000  # records read for one review page; a bigger book is imported in full instead


@dataclass(frozen=True)
class CustomerCandidate:
    remote: RemoteCustomer
    action: Action
    local_ids: tuple[int, ...]  # the linked or matching local customers
    local_names: tuple[str, ...]
    suggested_kind: str
    reason: str


@dataclass(frozen=True)
class CustomerReview:
    candidates: list[CustomerCandidate]
    truncated: bool  # the provider has more than REVIEW_LIMIT customers


async def review_customers(connection_id: int, limit: int = REVIEW_LIMIT) -> CustomerReview:
    connection = await connections.load(connection_id)
    out: list[CustomerCandidate] = []
    more = False
    async with aclosing(read_pages(connection_id, "import_customers")) as pages:
        async for page in pages:
            for remote in page.records:
                out.append(await _classify(connection, remote))
            more = page.next_cursor is not None
            if len(out) >= limit:
                break
    return CustomerReview(candidates=out[:limit], truncated=more or len(out) > limit)


async def _classify(connection: Connection, remote: RemoteCustomer) -> CustomerCandidate:
    values = _customer_values(remote)
    kind = suggest_kind(values["name"], remote.company, remote.email)
    link = await link_by_remote(connection.id, RecordType.customer, remote.remote_id)
    if link is not None:
        local = await Customer.select(Customer.name).where(Customer.id == link.record_id).first()
        names: tuple[str, ...] = (local["name"],) if local else ()
        if remote.deleted or not remote.active:
            return CustomerCandidate(remote, "archive", (link.record_id,), names, kind,
                                     "Inactive or deleted in the provider: archived here.")
        same = link.fingerprint == fingerprint(remote)
        return CustomerCandidate(remote, "unchanged" if same else "update", (link.record_id,), names, kind,
                                 "Already linked." if same else "Linked; changed in the provider.")
    if remote.deleted or not remote.active:
        return CustomerCandidate(remote, "archive", (), (), kind, "Inactive in the provider: not imported.")
    matches = await match_customer(connection, remote, values["name"])
    ids, names = tuple(c.id for c in matches), tuple(c.name for c in matches)
    if len(matches) > 1:
        return CustomerCandidate(remote, "ambiguous", ids, names, kind,
                                 f"{len(matches)} customers here could be this one; none will be linked.")
    if matches:
        how = "same email" if remote.email and matches[0].email.lower() == remote.email.lower() else "same name"
        return CustomerCandidate(remote, "link", ids, names, kind, f"Will be linked ({how}).")
    return CustomerCandidate(remote, "create", (), (), kind, "New here: will be created.")
