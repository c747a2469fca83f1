"""Calling the REST API's handlers in-process, so a page action does exactly what the API does.

The API's controllers hold the business rules of each action (which checks run, what changes in
one transaction, which sync runs are queued). Pages call the same handler function with the
signed-in caller instead of re-implementing it, so the UI and the API can never disagree.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.auth import Caller
from litestar.handlers import HTTPRouteHandler


async def call(handler: HTTPRouteHandler, caller: Caller, **kwargs: Any) -> Any:
    """Run an API handler's function as `caller`; its errors propagate unchanged.

    The controllers' methods never use `self`, so no controller instance is needed.
    """
    return await handler.fn(None, caller=caller, **kwargs)
