"""The HTTP face of items: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset
from ledgerbridge.api.schemas import error_responses, upsert_responses
from ledgerbridge.domain.items import services
from ledgerbridge.domain.items.schemas import ItemIn, ItemOut, ItemPage, ItemPatch
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class ItemController(Controller):
    path = "/items"
    tags = ["items"]

    @get("/", summary="List items", responses=error_responses())
    async def list_items(
        self,
        caller: CallerDep,
        q: Annotated[str | None, QueryParameter(description="Matches name or description.")] = None,
        active: FromQuery[bool | None] = None,
        source: FromQuery[str | None] = None,
        external_ref: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> ItemPage:
        return await services.list_items(
            caller, q=q, active=active, source=source, external_ref=external_ref, limit=limit, offset=offset
        )

    @post("/", summary="Create an item", responses=error_responses(409), opt=needs(Permission.records_write))
    async def create_item(self, caller: CallerDep, data: JSONBody[ItemIn]) -> ItemOut:
        return await services.create_item(caller, data=data)

    @get("/{item_id:int}", summary="Get an item", responses=error_responses(404))
    async def get_item(self, caller: CallerDep, item_id: FromPath[int]) -> ItemOut:
        return await services.get_item(caller, item_id=item_id)

    @patch(
        "/{item_id:int}", summary="Change an item", responses=error_responses(404, 409),
        opt=needs(Permission.records_write),
    )
    async def update_item(self, caller: CallerDep, item_id: FromPath[int], data: JSONBody[ItemPatch]) -> ItemOut:
        return await services.update_item(caller, item_id=item_id, data=data)

    @put(
        "/by-ref/{ref:str}",
        opt=needs(Permission.records_write),
        summary="Create or update an item by the host app's id",
        description="Idempotent; answers 201 when it created the item, 200 otherwise.",
        responses=upsert_responses(ItemOut, 409),
    )
    async def upsert_item(
        self,
        caller: CallerDep,
        data: JSONBody[ItemIn],
        ref: Annotated[str, PathParameter(min_length=1, max_length=120)],
    ) -> Response[ItemOut]:
        out, created = await services.upsert_item(caller, data=data, ref=ref)
        return Response(out, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @delete(
        "/{item_id:int}", summary="Delete an item with no copy in a provider", responses=error_responses(404, 409),
        opt=needs(Permission.records_write),
    )
    async def delete_item(self, caller: CallerDep, item_id: FromPath[int]) -> None:
        return await services.delete_item(caller, item_id=item_id)
