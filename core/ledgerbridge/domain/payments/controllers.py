"""The HTTP face of payments: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset
from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.invoices.schemas import PaymentOut
from ledgerbridge.domain.payments import services
from ledgerbridge.domain.payments.schemas import PaymentIn, PaymentPage
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class PaymentController(Controller):
    path = "/payments"
    tags = ["payments"]

    @get("/", summary="List payments", responses=error_responses())
    async def list_payments(
        self,
        caller: CallerDep,
        invoice_id: FromQuery[int | None] = None,
        source: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> PaymentPage:
        return await services.list_payments(caller, invoice_id=invoice_id, source=source, limit=limit, offset=offset)

    @get("/{payment_id:int}", summary="Get a payment", responses=error_responses(404))
    async def get_payment(self, caller: CallerDep, payment_id: FromPath[int]) -> PaymentOut:
        return await services.get_payment(caller, payment_id=payment_id)

    @post(
        "/", summary="Record a payment against a finalized invoice", responses=error_responses(409),
        opt=needs(Permission.books_write),
    )
    async def create_payment(self, caller: CallerDep, data: JSONBody[PaymentIn]) -> PaymentOut:
        return await services.create_payment(caller, data=data)

    @delete(
        "/{payment_id:int}", summary="Delete a payment not yet in any provider", responses=error_responses(404, 409),
        opt=needs(Permission.books_write),
    )
    async def delete_payment(self, caller: CallerDep, payment_id: FromPath[int]) -> None:
        return await services.delete_payment(caller, payment_id=payment_id)

    @post(
        "/{payment_id:int}/void", summary="Void a payment here and in the books", status_code=200,
        description="The payment stays on record and counts for nothing; its copy in the books is voided (or "
                    "deleted, where that is the provider's only way) by a run recorded with the change. A provider "
                    "that cannot void payments gets an issue on the payment saying what to do there.",
        responses=error_responses(404), opt=needs(Permission.books_write),
    )
    async def void_payment(self, caller: CallerDep, payment_id: FromPath[int]) -> PaymentOut:
        return await services.void_payment(caller, payment_id=payment_id)
