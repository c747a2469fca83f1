"""The books API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from ledgerbridge.api.schemas import Id
from ledgerbridge.domain.connections.schemas import ConnectionOut


class BooksOut(Struct):
    books: Annotated[
        ConnectionOut | None,
        Meta(description="The connection that keeps the books: exports, payments and customer pushes go there."),
    ]
    read_only: Annotated[
        list[ConnectionOut],
        Meta(description="The workspace's other connections: read, never written to. A connected one here is "
                         "waiting for an owner to switch the books to it, or to cancel it."),
    ]


class BooksSwitchIn(Struct):
    connection_id: Annotated[Id, Meta(description="The connection that keeps the books from now on.")]


class BooksCancelIn(Struct):
    connection_id: Annotated[Id, Meta(description="A connection that is not the books: it is disconnected.")]
