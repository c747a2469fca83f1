"""Income accounts, as read from the providers. Read-only: they are changed in the provider."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset, page_of
from ledgerbridge.api.schemas import AccountOut, AccountPage, error_responses
from ledgerbridge.api.scoping import in_workspace, read_from_provider
from ledgerbridge.auth import CallerDep
from ledgerbridge.tables import Account


def account_out(row: Account) -> AccountOut:
    return AccountOut(
        id=row.id,
        connection_id=row.connection,
        name=row.name,
        code=row.code,
        account_type=row.account_type,
        active=row.active,
        updated_at=row.updated_at,
    )


class AccountController(Controller):
    path = "/accounts"
    tags = ["accounts"]

    @get("/", summary="List income accounts", responses=error_responses())
    async def list_accounts(
        self,
        caller: CallerDep,
        connection_id: FromQuery[int | None] = None,
        active: FromQuery[bool | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> AccountPage:
        assert caller.workspace_id is not None
        where = read_from_provider(Account, caller.workspace_id, connection_id, active)
        rows, total = await page_of(Account, where, limit=limit, offset=offset, order_by=Account.name)
        return AccountPage(items=[account_out(row) for row in rows], total=total, limit=limit, offset=offset)

    @get("/{account_id:int}", summary="Get an income account", responses=error_responses(404))
    async def get_account(self, caller: CallerDep, account_id: FromPath[int]) -> AccountOut:
        assert caller.workspace_id is not None
        return account_out(await in_workspace(Account, account_id, caller.workspace_id, "account"))
