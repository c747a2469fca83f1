"""The HTTP face of invoices: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset
from ledgerbridge.api.schemas import error_responses, upsert_responses
from ledgerbridge.domain.invoices import services
from ledgerbridge.domain.invoices.schemas import (
    BulkExportIn,
    BulkExportOut,
    ExportIn,
    FromTimeEntriesIn,
    InvoiceActionOut,
    InvoiceIn,
    InvoiceOut,
    InvoicePage,
    InvoicePatch,
)
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.invoicing import SyncBadge
from ledgerbridge.tables import (
    InvoiceStatus,
)


class InvoiceController(Controller):
    path = "/invoices"
    tags = ["invoices"]

    @get("/", summary="List invoices", responses=error_responses())
    async def list_invoices(
        self,
        caller: CallerDep,
        status: FromQuery[InvoiceStatus | None] = None,
        customer_id: FromQuery[int | None] = None,
        sync: Annotated[SyncBadge | None, QueryParameter(description="The sync badge shown in lists.")] = None,
        q: Annotated[str | None, QueryParameter(description="Matches the invoice number.")] = None,
        external_ref: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> InvoicePage:
        return await services.list_invoices(
            caller,
            status=status,
            customer_id=customer_id,
            sync=sync,
            q=q,
            external_ref=external_ref,
            limit=limit,
            offset=offset,
        )

    @post("/", summary="Create a draft invoice", responses=error_responses(409), opt=needs(Permission.records_write))
    async def create(self, caller: CallerDep, data: JSONBody[InvoiceIn]) -> InvoiceOut:
        return await services.create(caller, data=data)

    @get("/{invoice_id:int}", summary="Get an invoice", responses=error_responses(404))
    async def get_invoice(self, caller: CallerDep, invoice_id: FromPath[int]) -> InvoiceOut:
        return await services.get_invoice(caller, invoice_id=invoice_id)

    @patch(
        "/{invoice_id:int}",
        opt=needs(Permission.records_write),
        summary="Change a draft invoice",
        description="Only drafts change; `lines`, when sent, replaces every line.",
        responses=error_responses(404, 409),
    )
    async def update(self, caller: CallerDep, invoice_id: FromPath[int], data: JSONBody[InvoicePatch]) -> InvoiceOut:
        return await services.update(caller, invoice_id=invoice_id, data=data)

    @put(
        "/by-ref/{ref:str}",
        opt=needs(Permission.records_write),
        summary="Create or update a draft invoice by the host app's id",
        description="Idempotent: a repeated push changes nothing, even once the invoice is finalized or "
        "exported; a push that would change a locked invoice is refused (409). 201 when created.",
        responses=upsert_responses(InvoiceOut, 409),
    )
    async def upsert(
        self,
        caller: CallerDep,
        data: JSONBody[InvoiceIn],
        ref: Annotated[str, PathParameter(min_length=1, max_length=120)],
    ) -> Response[InvoiceOut]:
        out, created = await services.upsert(caller, data=data, ref=ref)
        return Response(out, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @delete(
        "/{invoice_id:int}", summary="Delete a draft that was never exported", responses=error_responses(404, 409),
        opt=needs(Permission.records_write),
    )
    async def delete_invoice(self, caller: CallerDep, invoice_id: FromPath[int]) -> None:
        return await services.delete_invoice(caller, invoice_id=invoice_id)

    @post(
        "/{invoice_id:int}/finalize",
        opt=needs(Permission.records_write),
        status_code=HTTP_200_OK,
        summary="Finalize a draft",
        responses=error_responses(404, 409),
    )
    async def finalize(self, caller: CallerDep, invoice_id: FromPath[int]) -> InvoiceOut:
        return await services.finalize(caller, invoice_id=invoice_id)

    @post(
        "/{invoice_id:int}/send",
        opt=needs(Permission.exports_run),
        status_code=HTTP_200_OK,
        summary="Mark as sent (finalizing a draft); exports where the connection auto-exports on send",
        responses=error_responses(404, 409),
    )
    async def send(self, caller: CallerDep, invoice_id: FromPath[int]) -> InvoiceActionOut:
        return await services.send(caller, invoice_id=invoice_id)

    @post(
        "/{invoice_id:int}/export",
        opt=needs(Permission.exports_run),
        status_code=HTTP_200_OK,
        summary="Export to every connected provider, or to one connection",
        responses=error_responses(404, 409),
    )
    async def export(
        self, caller: CallerDep, invoice_id: FromPath[int], data: JSONBody[ExportIn | None] = None
    ) -> InvoiceActionOut:
        return await services.export(caller, invoice_id=invoice_id, data=data)

    @post(
        "/{invoice_id:int}/revert-to-draft",
        opt=needs(Permission.books_write),
        status_code=HTTP_200_OK,
        summary="Unlock for editing; provider copies are voided or deleted",
        responses=error_responses(404, 409),
    )
    async def revert_to_draft(self, caller: CallerDep, invoice_id: FromPath[int]) -> InvoiceActionOut:
        return await services.revert_to_draft(caller, invoice_id=invoice_id)

    @post(
        "/{invoice_id:int}/void",
        opt=needs(Permission.books_write),
        status_code=HTTP_200_OK,
        summary="Void; provider copies are voided too and billed time entries are released",
        responses=error_responses(404, 409),
    )
    async def void(self, caller: CallerDep, invoice_id: FromPath[int]) -> InvoiceActionOut:
        return await services.void(caller, invoice_id=invoice_id)

    @post(
        "/export",
        opt=needs(Permission.exports_run),
        status_code=HTTP_200_OK,
        summary="Export many invoices in one run per connection",
        responses=error_responses(404, 409),
    )
    async def export_many(self, caller: CallerDep, data: JSONBody[BulkExportIn]) -> BulkExportOut:
        return await services.export_many(caller, data=data)

    @post(
        "/from-time-entries",
        opt=needs(Permission.records_write),
        summary="Bill time entries: one draft invoice, one line per entry",
        responses=error_responses(404, 409),
    )
    async def from_time_entries(self, caller: CallerDep, data: JSONBody[FromTimeEntriesIn]) -> InvoiceOut:
        return await services.from_time_entries(caller, data=data)
