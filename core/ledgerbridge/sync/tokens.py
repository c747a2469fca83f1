"""Keeping a connection's tokens alive when nothing else uses them."""

from __future__ import annotations

from ledgerbridge import oauth
from ledgerbridge.jobs import RunContext


async def run_refresh(ctx: RunContext) -> None:
    await oauth.access_token(ctx.run.connection, force_refresh=True)
    ctx.count("updated")
