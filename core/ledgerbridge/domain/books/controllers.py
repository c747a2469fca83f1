"""The HTTP face of the books connection: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.books import services
from ledgerbridge.domain.books.schemas import BooksCancelIn, BooksOut, BooksSwitchIn
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class BooksController(Controller):
    path = "/books"
    tags = ["connections"]

    @get("/", summary="Which connection keeps the books", responses=error_responses())
    async def get_books(self, caller: CallerDep) -> BooksOut:
        return await services.get_books(caller)

    @post(
        "/switch",
        status_code=HTTP_200_OK,
        summary="Switch the books to another connection (owners only)",
        description=services.SWITCH_EXPLAINED,
        responses=error_responses(403, 404, 409),
        opt=needs(Permission.members_manage),
    )
    async def switch(self, caller: CallerDep, data: JSONBody[BooksSwitchIn]) -> BooksOut:
        return await services.switch_books(caller, connection_id=data.connection_id)

    @post(
        "/cancel",
        status_code=HTTP_200_OK,
        summary="Keep the books where they are and disconnect the new connection (owners only)",
        responses=error_responses(403, 404, 409),
        opt=needs(Permission.members_manage),
    )
    async def cancel(self, caller: CallerDep, data: JSONBody[BooksCancelIn]) -> BooksOut:
        return await services.cancel_connection(caller, connection_id=data.connection_id)
