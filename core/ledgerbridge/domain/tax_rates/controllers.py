"""The HTTP face of tax rates: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset
from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.tax_mappings import services as mapping_services
from ledgerbridge.domain.tax_mappings.schemas import TaxRateIn
from ledgerbridge.domain.tax_rates import services
from ledgerbridge.domain.tax_rates.schemas import TaxRateOut, TaxRatePage
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class TaxRateController(Controller):
    path = "/tax-rates"
    tags = ["tax rates"]

    @get("/", summary="List tax rates", responses=error_responses())
    async def list_tax_rates(
        self,
        caller: CallerDep,
        connection_id: FromQuery[int | None] = None,
        active: FromQuery[bool | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> TaxRatePage:
        return await services.list_tax_rates(
            caller, connection_id=connection_id, active=active, limit=limit, offset=offset
        )

    @get("/{tax_rate_id:int}", summary="Get a tax rate", responses=error_responses(404))
    async def get_tax_rate(self, caller: CallerDep, tax_rate_id: FromPath[int]) -> TaxRateOut:
        return await services.get_tax_rate(caller, tax_rate_id=tax_rate_id)

    @post("/", summary="Create one of our own tax rates", description="Rates read from a provider are changed "
          "there; our own rates reach the books through the tax mapping (/api/v1/tax-mappings).",
          responses=error_responses(), opt=needs(Permission.records_write))
    async def create_tax_rate(self, caller: CallerDep, data: JSONBody[TaxRateIn]) -> TaxRateOut:
        return await mapping_services.create_tax_rate(caller, data=data)
