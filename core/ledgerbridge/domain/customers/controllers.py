"""The HTTP face of customers: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset
from ledgerbridge.api.schemas import error_responses, upsert_responses
from ledgerbridge.domain.customers import services
from ledgerbridge.domain.customers.schemas import CustomerIn, CustomerOut, CustomerPage, CustomerPatch
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class CustomerController(Controller):
    path = "/customers"
    tags = ["customers"]

    @get("/", summary="List customers", responses=error_responses())
    async def list_customers(
        self,
        caller: CallerDep,
        q: Annotated[str | None, QueryParameter(description="Matches name, company or email.")] = None,
        active: FromQuery[bool | None] = None,
        source: Annotated[str | None, QueryParameter(description="local, api, or a provider key.")] = None,
        external_ref: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> CustomerPage:
        return await services.list_customers(
            caller, q=q, active=active, source=source, external_ref=external_ref, limit=limit, offset=offset
        )

    @post("/", summary="Create a customer", responses=error_responses(409), opt=needs(Permission.records_write))
    async def create_customer(self, caller: CallerDep, data: JSONBody[CustomerIn]) -> CustomerOut:
        return await services.create_customer(caller, data=data)

    @get("/{customer_id:int}", summary="Get a customer", responses=error_responses(404))
    async def get_customer(self, caller: CallerDep, customer_id: FromPath[int]) -> CustomerOut:
        return await services.get_customer(caller, customer_id=customer_id)

    @patch(
        "/{customer_id:int}", summary="Change a customer", responses=error_responses(404, 409),
        opt=needs(Permission.records_write),
    )
    async def update_customer(
        self, caller: CallerDep, customer_id: FromPath[int], data: JSONBody[CustomerPatch]
    ) -> CustomerOut:
        return await services.update_customer(caller, customer_id=customer_id, data=data)

    @put(
        "/by-ref/{ref:str}",
        opt=needs(Permission.records_write),
        summary="Create or update a customer by the host app's id",
        description="Idempotent: sending the same push again changes nothing and never creates a duplicate. "
        "Answers 201 when it created the customer, 200 otherwise.",
        responses=upsert_responses(CustomerOut, 409),
    )
    async def upsert_customer(
        self,
        caller: CallerDep,
        data: JSONBody[CustomerIn],
        ref: Annotated[str, PathParameter(min_length=1, max_length=120)],
    ) -> Response[CustomerOut]:
        out, created = await services.upsert_customer(caller, data=data, ref=ref)
        return Response(out, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @delete(
        "/{customer_id:int}", summary="Delete an unused customer", responses=error_responses(404, 409),
        opt=needs(Permission.records_write),
    )
    async def delete_customer(self, caller: CallerDep, customer_id: FromPath[int]) -> None:
        return await services.delete_customer(caller, customer_id=customer_id)
