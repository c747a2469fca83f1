"""Switching the books: the confirm page that explains what a switch does, and the cancel.

Connecting a second provider leaves the new connection read-only; the Integrations page asks the
owner to decide, and this page is where they do, after reading what happens to the old books.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge import books
from ledgerbridge.domain.books import services as books_services
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import ExternalLink, RecordType
from litestar import Response, get, post
from litestar.params import FromPath

from ledgerbridge_web.common import (
    AnyRequest,
    failed,
    page,
    person,
    provider_name,
    see_other,
    workspace_connection,
    workspace_of,
)


@get("/integrations/{connection_id:int}/books", opt=needs(Permission.members_manage))
async def confirm_switch(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    row = await workspace_connection(ws, connection_id)
    current = await books.books_connection(ws)
    exported = 0
    if current is not None:
        exported = await ExternalLink.count().where(
            (ExternalLink.connection == current.id) & (ExternalLink.record_type == RecordType.invoice)
            & ExternalLink.remote_id.is_not_null()
        )
    return page(request, "confirm_switch_books.html", row=row, provider=provider_name(row.provider),
                current=current, current_provider=provider_name(current.provider) if current else "",
                exported=exported, explained=books_services.SWITCH_EXPLAINED)


@post("/integrations/{connection_id:int}/books", opt=needs(Permission.members_manage))
async def switch(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    back = f"/integrations/{connection_id}/books"
    try:
        result = await books_services.switch_books(me, connection_id=connection_id)
    except LedgerBridgeError as exc:
        return failed(back, exc)
    assert result.books is not None
    return see_other("/integrations", notice=f"The books are now kept in {result.books.provider_name} "
                                             f"({result.books.tenant_name}). Earlier links are kept.")


@post("/integrations/{connection_id:int}/books/cancel", opt=needs(Permission.members_manage))
async def cancel(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    try:
        await books_services.cancel_connection(me, connection_id=connection_id)
    except LedgerBridgeError as exc:
        return failed("/integrations", exc)
    return see_other("/integrations", notice="The new connection is disconnected; the books stay where they were.")


HANDLERS = [confirm_switch, switch, cancel]
