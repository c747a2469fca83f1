"""Tax rates, as read from the providers. Read-only: they are changed in the provider."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset, page_of
from ledgerbridge.api.schemas import TaxRateOut, TaxRatePage, error_responses
from ledgerbridge.api.scoping import in_workspace, read_from_provider
from ledgerbridge.auth import CallerDep
from ledgerbridge.invoicing import format_money
from ledgerbridge.tables import TaxRate


def tax_rate_out(row: TaxRate) -> TaxRateOut:
    return TaxRateOut(
        id=row.id,
        connection_id=row.connection,
        name=row.name,
        code=row.code,
        rate=format_money(row.rate, places=4),
        active=row.active,
        updated_at=row.updated_at,
    )


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
        assert caller.workspace_id is not None
        where = read_from_provider(TaxRate, caller.workspace_id, connection_id, active)
        rows, total = await page_of(TaxRate, where, limit=limit, offset=offset, order_by=TaxRate.name)
        return TaxRatePage(items=[tax_rate_out(row) for row in rows], total=total, limit=limit, offset=offset)

    @get("/{tax_rate_id:int}", summary="Get a tax rate", responses=error_responses(404))
    async def get_tax_rate(self, caller: CallerDep, tax_rate_id: FromPath[int]) -> TaxRateOut:
        assert caller.workspace_id is not None
        return tax_rate_out(await in_workspace(TaxRate, tax_rate_id, caller.workspace_id, "tax rate"))
