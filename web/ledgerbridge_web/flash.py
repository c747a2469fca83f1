"""One-time messages between an action and the page it redirects to, kept in the person's server-side session.

Why not the URL: text in a query string can be put on our pages by anyone with a link, survives Back and
reloads, and leaks one-time secrets (a new API key, a first password) into history and logs. Here an
action only *queues* what to say (`see_other(..., notice=...)` in common.py, sync code with no database
access); the UI router's `after_request` hook stores it in the session row, and the next full page
`before_request` takes it out again, so it is shown exactly once. htmx fragment requests leave it
alone, so a poll cannot swallow a message meant for the page.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ledgerbridge.db import write_transaction
from ledgerbridge.identity.callers import caller_of
from ledgerbridge.identity.digests import digest
from ledgerbridge.identity.sessions import SESSION_COOKIE
from ledgerbridge.tables import UserSession
from litestar import Request, Response

FLASH_KEY = "flash"


@dataclass
class Flash:
    """What the next page shows once: messages, and at most one secret to copy now or never."""

    notice: str = ""
    error: str = ""
    fix: str = ""
    secret: dict[str, str] = field(default_factory=dict)  # {"label": ..., "value": ...}

    def __bool__(self) -> bool:
        return bool(self.notice or self.error or self.secret)

    def as_json(self) -> dict[str, Any]:
        return {"notice": self.notice, "error": self.error, "fix": self.fix, "secret": self.secret}

    @classmethod
    def from_json(cls, data: Any) -> Flash:
        if not isinstance(data, dict):
            return cls()
        secret = data.get("secret") if isinstance(data.get("secret"), dict) else {}
        return cls(notice=str(data.get("notice") or ""), error=str(data.get("error") or ""),
                   fix=str(data.get("fix") or ""), secret={str(k): str(v) for k, v in (secret or {}).items()})


# The request being handled, for `see_other`, which is plain sync code with no request at hand.
_pending: ContextVar[Flash | None] = ContextVar("ledgerbridge_web_flash", default=None)


def queue(flash: Flash) -> None:
    """Remember what the redirect's target page should say; stored after the handler returns."""
    current = _pending.get()
    if current is None:
        _pending.set(flash)
        return
    current.notice = flash.notice or current.notice
    current.error = flash.error or current.error
    current.fix = flash.fix or current.fix
    current.secret = flash.secret or current.secret


def _token(request: Request[Any, Any, Any]) -> str | None:
    me = caller_of(request)
    return me.session_token if me is not None and me.via == "session" else None


async def _read(token: str) -> dict[str, Any] | None:
    row = await UserSession.select(UserSession.data).where(UserSession.session_id == digest(token)).first()
    if row is None:
        return None
    data = json.loads(row["data"] or "{}")
    return data if isinstance(data, dict) else {}


async def _write(token: str, data: dict[str, Any]) -> None:
    await UserSession.update({UserSession.data: json.dumps(data)}).where(UserSession.session_id == digest(token))


async def take(request: Request[Any, Any, Any]) -> Flash:
    """The session's flash, removed as it is read: a reload of the page shows nothing again."""
    token = _token(request)
    if token is None:
        return Flash()
    peek = await _read(token)  # most pages have nothing to show: no write lock taken for them
    if not peek or FLASH_KEY not in peek:
        return Flash()
    async with write_transaction():
        data = await _read(token)
        if not data or FLASH_KEY not in data:
            return Flash()  # another tab took it meanwhile
        flash = Flash.from_json(data.pop(FLASH_KEY))
        await _write(token, data)
    return flash


async def store(request: Request[Any, Any, Any], flash: Flash, response: Response[Any] | None = None) -> None:
    """Keep the flash in the session the next page reads: the one this answer opens (signing in,
    joining with an invitation) before the one the request came with."""
    token = _opened_by(response) or _token(request)
    if token is None or not flash:
        return
    async with write_transaction():
        data = await _read(token)
        if data is None:
            return
        data[FLASH_KEY] = flash.as_json()
        await _write(token, data)


_request: ContextVar[Request[Any, Any, Any] | None] = ContextVar("ledgerbridge_web_request", default=None)


async def before_request(request: Request[Any, Any, Any]) -> None:
    """Start each UI request with nothing queued; a full page (not an htmx poll) takes the stored flash."""
    _pending.set(None)
    _request.set(request)
    shown = Flash()
    if request.method == "GET" and "hx-request" not in request.headers:
        shown = await take(request)
    request.state.flash = shown


def _opened_by(response: Response[Any] | None) -> str | None:
    if response is None:
        return None
    opened = [cookie.value for cookie in response.cookies if cookie.key == SESSION_COOKIE and cookie.value]
    return opened[-1] if opened else None


async def after_request(response: Response[Any]) -> Response[Any]:
    """Store what the handler queued, in the same session the next page will read it from."""
    pending, request = _pending.get(), _request.get()
    if pending and request is not None:
        await store(request, pending, response)
    _pending.set(None)
    return response
