"""Income accounts, as read from the providers. Read-only: they are changed in the provider."""

from __future__ import annotations

from ledgerbridge.api.paging import DEFAULT_LIMIT, Page, page_of
from ledgerbridge.api.scoping import in_workspace, read_from_provider
from ledgerbridge.domain.accounts.schemas import AccountOut, AccountPage
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
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


async def list_accounts(
    caller: Caller,
    *,
    connection_id: int | None = None,
    active: bool | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> AccountPage:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    where = read_from_provider(Account, caller.workspace_id, connection_id, active)
    rows, total = await page_of(Account, where, limit=limit, offset=offset, order_by=Account.name)
    return Page(items=[account_out(row) for row in rows], total=total, limit=limit, offset=offset)


async def get_account(caller: Caller, *, account_id: int) -> AccountOut:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    return account_out(await in_workspace(Account, account_id, caller.workspace_id, "account"))
