"""FreshBooks time tracking: our time entries as FreshBooks time entries.

Time tracking is its own FreshBooks service (`/timetracking/business/{business_id}/time_entries`),
addressed by the numeric business id rather than the accounting account id, with bodies wrapped as
`{"time_entry": ...}` and no `response/result` envelope. A time entry counts seconds (`duration`),
starts at a UTC instant (`started_at`), belongs to a client, and says whether it may still be
invoiced (`billable`) and whether an invoice already took it (`billed`): time an invoice here
billed goes as billed, so FreshBooks never offers it for invoicing again. Entries are logged as
the connected user; the person who worked is named in the note, since our people are not
FreshBooks team members. FreshBooks has no idempotency key: a lost answer is settled by the core
like any other uncertain write.
"""

from __future__ import annotations

from typing import Any

import httpx
from ledgerbridge.errors import ProviderError
from ledgerbridge.provider import ExportResult, LinkRef, ProviderSession, TimeEntryData
from ledgerbridge.providerhttp import transport_error, unreadable_answer

from ledgerbridge_freshbooks.client import PROVIDER, dumps, endpoints, loads, translate_response

SECONDS_PER_HOUR = 3600
WORKDAY_START = "T09:00:00Z"  # our entries carry a day, not an hour


def time_entry_body(entry: TimeEntryData, identity_id: Any) -> dict[str, Any]:
    note = f"{entry.person}: {entry.description}" if entry.description else entry.person
    body: dict[str, Any] = {
        "is_logged": True,
        "started_at": f"{entry.worked_on.isoformat()}{WORKDAY_START}",
        "duration": int((entry.hours * SECONDS_PER_HOUR).to_integral_value()),
        "client_id": int(entry.customer_id),
        "note": note,
        "billable": entry.billable,
        "billed": entry.billed,
    }
    if entry.item_id and entry.item_id.isdigit():
        body["service_id"] = int(entry.item_id)
    if identity_id:
        body["identity_id"] = int(identity_id)
    return body


async def export_time_entry(session: ProviderSession, entry: TimeEntryData, link: LinkRef | None) -> ExportResult:
    business_id = session.provider_data.get("business_id")
    if not business_id:
        raise ProviderError("This FreshBooks connection does not know its business id, so time cannot be sent.",
                            code="validation_failed", fix="Reconnect FreshBooks from Integrations, then retry.")
    base = f"{endpoints(session.settings).api}/timetracking/business/{business_id}/time_entries"
    body = {"time_entry": time_entry_body(entry, session.provider_data.get("identity_id"))}
    method, url = ("PUT", f"{base}/{link.remote_id}") if link else ("POST", base)
    try:
        response = await session.http.request(method, url, content=dumps(body),
                                              headers={"Accept": "application/json",
                                                       "Content-Type": "application/json"})
    except httpx.HTTPError as exc:
        raise transport_error(PROVIDER, exc, write=True) from exc
    if response.status_code != 200:
        raise translate_response(response, subject=f"{entry.person}'s time on {entry.worked_on.isoformat()}")
    try:
        row = loads(response.content)["time_entry"]
    except (ValueError, KeyError, TypeError) as exc:
        raise unreadable_answer(PROVIDER, write=True) from exc
    return ExportResult(remote_id=str(row["id"]), created=link is None)
