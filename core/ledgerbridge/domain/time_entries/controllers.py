"""The HTTP face of time entries: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset
from ledgerbridge.api.schemas import error_responses, upsert_responses
from ledgerbridge.domain.time_entries import services
from ledgerbridge.domain.time_entries.schemas import (
    TimeEntryIn,
    TimeEntryOut,
    TimeEntryPage,
    TimeEntryPatch,
    TimeSyncIn,
    TimeSyncOut,
)
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class TimeEntryController(Controller):
    path = "/time-entries"
    tags = ["time entries"]

    @get("/", summary="List time entries", responses=error_responses())
    async def list_entries(
        self,
        caller: CallerDep,
        customer_id: FromQuery[int | None] = None,
        billed: Annotated[bool | None, QueryParameter(description="true: on an invoice; false: not yet.")] = None,
        billable: FromQuery[bool | None] = None,
        invoice_id: FromQuery[int | None] = None,
        external_ref: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> TimeEntryPage:
        return await services.list_entries(
            caller,
            customer_id=customer_id,
            billed=billed,
            billable=billable,
            invoice_id=invoice_id,
            external_ref=external_ref,
            limit=limit,
            offset=offset,
        )

    @post("/", summary="Record a time entry", responses=error_responses(409), opt=needs(Permission.records_write))
    async def create_entry(self, caller: CallerDep, data: JSONBody[TimeEntryIn]) -> TimeEntryOut:
        return await services.create_entry(caller, data=data)

    @get("/{entry_id:int}", summary="Get a time entry", responses=error_responses(404))
    async def get_entry(self, caller: CallerDep, entry_id: FromPath[int]) -> TimeEntryOut:
        return await services.get_entry(caller, entry_id=entry_id)

    @patch(
        "/{entry_id:int}", summary="Change an unbilled time entry", responses=error_responses(404, 409),
        opt=needs(Permission.records_write),
    )
    async def update_entry(
        self, caller: CallerDep, entry_id: FromPath[int], data: JSONBody[TimeEntryPatch]
    ) -> TimeEntryOut:
        return await services.update_entry(caller, entry_id=entry_id, data=data)

    @put(
        "/by-ref/{ref:str}",
        opt=needs(Permission.records_write),
        summary="Create or update a time entry by the host app's id",
        description="Idempotent; 201 when created. A billed entry only accepts a push that changes nothing.",
        responses=upsert_responses(TimeEntryOut, 409),
    )
    async def upsert_entry(
        self,
        caller: CallerDep,
        data: JSONBody[TimeEntryIn],
        ref: Annotated[str, PathParameter(min_length=1, max_length=120)],
    ) -> Response[TimeEntryOut]:
        return await services.upsert_entry(caller, data=data, ref=ref)

    @delete(
        "/{entry_id:int}", summary="Delete an unbilled time entry", responses=error_responses(404, 409),
        opt=needs(Permission.records_write),
    )
    async def delete_entry(self, caller: CallerDep, entry_id: FromPath[int]) -> None:
        return await services.delete_entry(caller, entry_id=entry_id)

    @post(
        "/sync",
        summary="Sync selected time entries to the books on their own",
        description="Queues one run that sends the entries as billable time (already-billed ones as billed); "
        "an entry synced before is updated in place. Refused with `time_not_supported` when the provider keeps "
        "no time records (Xero).",
        responses=error_responses(400, 404, 409),
        status_code=202,
        opt=needs(Permission.exports_run),
    )
    async def sync_entries(self, caller: CallerDep, data: JSONBody[TimeSyncIn]) -> TimeSyncOut:
        return await services.sync_entries(caller, data=data)
