"""The HTTP face of the events feed."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit
from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.events import services
from ledgerbridge.domain.events.schemas import EventPage, EventTypeList
from ledgerbridge.identity.callers import CallerDep

After = Annotated[str | None, QueryParameter(description="The `cursor` of the last event read; omit to start.")]
Types = Annotated[
    list[str] | None,
    QueryParameter(description="Only these types (repeat, or comma-separated; `invoice.*` for a family)."),
]


class EventController(Controller):
    path = "/events"
    tags = ["events"]

    @get("/", summary="Events in order after a cursor (the same payloads as webhooks)", responses=error_responses())
    async def list_events(self, caller: CallerDep, after: After = None, types: Types = None,
                          limit: Limit = DEFAULT_LIMIT) -> EventPage:
        return await services.list_events(caller, after=after, types=types or [], limit=limit)

    @get("/types", summary="The event catalogue: every type with its current version", responses=error_responses())
    async def catalogue(self) -> EventTypeList:
        return services.catalogue()
