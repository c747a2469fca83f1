"""The HTTP face of webhook endpoints: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset
from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.webhook_endpoints import services
from ledgerbridge.domain.webhook_endpoints.schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointIn,
    EndpointList,
    EndpointOut,
    EndpointSecretOut,
    EndpointUpdate,
    TestResultOut,
)
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class WebhookEndpointController(Controller):
    path = "/webhook-endpoints"
    tags = ["webhooks"]

    @get("/", summary="List webhook endpoints", responses=error_responses())
    async def list_endpoints(self, caller: CallerDep) -> EndpointList:
        return await services.list_endpoints(caller)

    @post(
        "/", summary="Add an endpoint; its signing secret is in this answer only", responses=error_responses(403),
        opt=needs(Permission.webhooks_manage),
    )
    async def create_endpoint(self, caller: CallerDep, data: JSONBody[EndpointIn]) -> EndpointSecretOut:
        return await services.create_endpoint(caller, data=data)

    @get("/{endpoint_id:int}", summary="One webhook endpoint", responses=error_responses(404))
    async def get_endpoint(self, caller: CallerDep, endpoint_id: FromPath[int]) -> EndpointOut:
        return await services.get_endpoint(caller, endpoint_id=endpoint_id)

    @patch("/{endpoint_id:int}", summary="Change an endpoint; enabling it again retries what was undelivered",
           opt=needs(Permission.webhooks_manage),
           responses=error_responses(404))
    async def update_endpoint(self, caller: CallerDep, endpoint_id: FromPath[int],
                              data: JSONBody[EndpointUpdate]) -> EndpointOut:
        return await services.update_endpoint(caller, endpoint_id=endpoint_id, data=data)

    @delete("/{endpoint_id:int}", status_code=HTTP_200_OK, summary="Remove an endpoint and its delivery log",
            opt=needs(Permission.webhooks_manage),
            responses=error_responses(404))
    async def delete_endpoint(self, caller: CallerDep, endpoint_id: FromPath[int]) -> EndpointOut:
        return await services.delete_endpoint(caller, endpoint_id=endpoint_id)

    @post("/{endpoint_id:int}/rotate-secret", status_code=HTTP_200_OK, opt=needs(Permission.webhooks_manage),
          summary="New signing secret (shown once); the old one keeps signing for the grace period",
          responses=error_responses(404))
    async def rotate_secret(self, caller: CallerDep, endpoint_id: FromPath[int]) -> EndpointSecretOut:
        return await services.rotate_secret(caller, endpoint_id=endpoint_id)

    @post("/{endpoint_id:int}/test", status_code=HTTP_200_OK, summary="Send a signed webhook.test event now",
          opt=needs(Permission.webhooks_manage),
          responses=error_responses(404))
    async def send_test(self, caller: CallerDep, endpoint_id: FromPath[int]) -> TestResultOut:
        return await services.send_test(caller, endpoint_id=endpoint_id)

    @get("/{endpoint_id:int}/deliveries", summary="The delivery log, newest event first",
         responses=error_responses(404))
    async def delivery_log(self, caller: CallerDep, endpoint_id: FromPath[int], limit: Limit = DEFAULT_LIMIT,
                           offset: Offset = 0) -> DeliveryPage:
        return await services.delivery_log(caller, endpoint_id=endpoint_id, limit=limit, offset=offset)

    @post("/{endpoint_id:int}/deliveries/{delivery_id:int}/resend", status_code=HTTP_200_OK,
          opt=needs(Permission.webhooks_manage),
          summary="Send one event again (same webhook-id)", responses=error_responses(404, 409))
    async def resend(self, caller: CallerDep, endpoint_id: FromPath[int], delivery_id: FromPath[int]) -> DeliveryOut:
        return await services.resend(caller, endpoint_id=endpoint_id, delivery_id=delivery_id)
