"""The HTTP face of accounts: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset
from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.accounts import services
from ledgerbridge.domain.accounts.schemas import AccountOut, AccountPage
from ledgerbridge.identity.callers import CallerDep


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
        return await services.list_accounts(
            caller, connection_id=connection_id, active=active, limit=limit, offset=offset
        )

    @get("/{account_id:int}", summary="Get an income account", responses=error_responses(404))
    async def get_account(self, caller: CallerDep, account_id: FromPath[int]) -> AccountOut:
        return await services.get_account(caller, account_id=account_id)
