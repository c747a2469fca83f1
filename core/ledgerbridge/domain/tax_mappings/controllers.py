"""The HTTP face of tax mapping: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.tax_mappings import services
from ledgerbridge.domain.tax_mappings.schemas import (
    ApplySuggestionsIn,
    TaxMappingIn,
    TaxMappingList,
)
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class TaxMappingController(Controller):
    path = "/tax-mappings"
    tags = ["tax rates"]

    @get("/", summary="Our tax rates and the books' rates they export as, with suggestions",
         responses=error_responses(404, 409))
    async def list_mappings(self, caller: CallerDep, connection_id: FromQuery[int | None] = None) -> TaxMappingList:
        return await services.list_mappings(caller, connection_id=connection_id)

    @put("/{tax_rate_id:int}", summary="Map one of our tax rates to a books' rate (null unmaps it)",
         responses=error_responses(404, 409), opt=needs(Permission.records_write))
    async def set_mapping(self, caller: CallerDep, tax_rate_id: FromPath[int],
                          data: JSONBody[TaxMappingIn]) -> TaxMappingList:
        return await services.set_mapping(caller, tax_rate_id=tax_rate_id, data=data)

    @post("/apply-suggestions", summary="Map every unmapped rate to its suggestion", status_code=200,
          responses=error_responses(404, 409), opt=needs(Permission.records_write))
    async def apply_suggestions(self, caller: CallerDep, data: JSONBody[ApplySuggestionsIn]) -> TaxMappingList:
        return await services.apply_suggestions(caller, data=data)

