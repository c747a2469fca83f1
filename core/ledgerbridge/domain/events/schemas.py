"""The events feed's types: the catalogue's envelopes (`ledgerbridge.events.catalogue`), paged."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from ledgerbridge.events.catalogue import AnyEvent


class EventPage(Struct):
    items: list[AnyEvent]  # type: ignore[valid-type]
    next_cursor: Annotated[
        str | None, Meta(description="Pass as `after` to read on; the last event's cursor, or your `after` when empty.")
    ]
    has_more: bool


class EventTypeOut(Struct):
    type: str
    version: int
    description: str


class EventTypeList(Struct):
    items: list[EventTypeOut]
