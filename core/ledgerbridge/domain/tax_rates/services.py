"""Tax rates: those read from the providers (changed there) and our own (see `tax_mappings`)."""

from __future__ import annotations

from ledgerbridge.api.paging import DEFAULT_LIMIT, Page, page_of
from ledgerbridge.api.scoping import in_workspace, read_from_provider
from ledgerbridge.domain.tax_rates.schemas import TaxRateOut, TaxRatePage
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
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


async def list_tax_rates(
    caller: Caller,
    *,
    connection_id: int | None = None,
    active: bool | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> TaxRatePage:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    where = read_from_provider(TaxRate, caller.workspace_id, connection_id, active)
    rows, total = await page_of(TaxRate, where, limit=limit, offset=offset, order_by=TaxRate.name)
    return Page(items=[tax_rate_out(row) for row in rows], total=total, limit=limit, offset=offset)


async def get_tax_rate(caller: Caller, *, tax_rate_id: int) -> TaxRateOut:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    return tax_rate_out(await in_workspace(TaxRate, tax_rate_id, caller.workspace_id, "tax rate"))
