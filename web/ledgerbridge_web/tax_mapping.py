"""The tax mapping page: our tax rates and the books' rates they export as, with suggestions.

Every save goes through the API's own tax mapping service, so a page change is checked and
followed (items carrying a remapped rate re-sync) exactly as an API change is.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.domain.tax_mappings import services as tax_services
from ledgerbridge.domain.tax_mappings.schemas import ApplySuggestionsIn
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import TaxRate
from litestar import Response, get, post

from ledgerbridge_web.common import AnyRequest, failed, int_or_none, page, person, see_other, workspace_of

PATH = "/tax-rates/mapping"


@get(PATH)
async def mapping_page(request: AnyRequest) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    try:
        connection = await tax_services.mapping_connection(ws, None)
    except LedgerBridgeError as exc:
        return failed("/items", exc)
    listed = await tax_services.mappings(connection)
    books = await TaxRate.select(TaxRate.id, TaxRate.name, TaxRate.rate).where(
        (TaxRate.connection == connection.id) & TaxRate.active.eq(True)).order_by(TaxRate.name)
    return page(request, "tax_mapping.html", listed=listed, books=books, connection=connection)


@post(PATH, opt=needs(Permission.records_write))
async def save_mapping(request: AnyRequest) -> Response[Any]:
    """Per-rate dropdowns: only the rates whose mapping changed are saved."""
    me = person(request)
    ws = workspace_of(me)
    form = await request.form()
    try:
        connection = await tax_services.mapping_connection(ws, None)
        current = {item.tax_rate_id: item.books_rate_id for item in (await tax_services.mappings(connection)).items}
        wanted = {
            int(key.removeprefix("rate_")): int_or_none(value)
            for key, value in form.items()
            if key.startswith("rate_") and key.removeprefix("rate_").isdigit()
        }
        changed = {rate: books for rate, books in wanted.items() if rate in current and current[rate] != books}
        if changed:
            await tax_services.assign(ws, connection.id, changed)
    except LedgerBridgeError as exc:
        return failed(PATH, exc)
    return see_other(PATH, notice=f"Saved {len(changed)} tax rate{'s' if len(changed) != 1 else ''}.")


@post(f"{PATH}/suggestions", opt=needs(Permission.records_write))
async def apply_suggestions(request: AnyRequest) -> Response[Any]:
    me = person(request)
    try:
        before = await tax_services.list_mappings(me)
        after = await tax_services.apply_suggestions(me, data=ApplySuggestionsIn())
    except LedgerBridgeError as exc:
        return failed(PATH, exc)
    count = before.unmapped - after.unmapped
    return see_other(PATH, notice=f"Applied {count} suggestion{'s' if count != 1 else ''}.")


HANDLERS = [mapping_page, save_mapping, apply_suggestions]
