"""Server-side sessions: a random id in an HttpOnly cookie, only its SHA-256 in the database.

The session remembers which workspace the person is working in.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from litestar.datastructures import Cookie
from piccolo.columns.combination import Combinable

from ledgerbridge.db import write_transaction
from ledgerbridge.identity import clock
from ledgerbridge.identity.digests import digest
from ledgerbridge.identity.errors import Forbidden
from ledgerbridge.identity.memberships import WorkspaceChoice, workspaces_of
from ledgerbridge.settings import Settings
from ledgerbridge.tables import UserSession

SESSION_COOKIE = "lb_session"
SESSION_LIFETIME = timedelta(days=14)


@dataclass(frozen=True)
class SessionData:
    user_id: int
    workspace_id: int | None
    expires_at: datetime

    @property
    def opened_at(self) -> datetime:
        """When the person signed in: a session's lifetime is fixed at its start, never extended."""
        return self.expires_at - SESSION_LIFETIME


async def open_session(user_id: int, workspace_id: int | None = None) -> str:
    """Start a session and return the secret for the cookie (never stored in clear).

    Without `workspace_id` the session starts in the user's first workspace by name.
    """
    if workspace_id is None:
        choices = await workspaces_of(user_id)
        workspace_id = choices[0].id if choices else None
    token = secrets.token_urlsafe(32)
    at = clock.now()
    async with write_transaction():
        await UserSession.delete().where(UserSession.expires_at < at)
        await UserSession(
            session_id=digest(token),
            data=json.dumps({"user_id": user_id, "workspace_id": workspace_id}),
            expires_at=at + SESSION_LIFETIME,
        ).save()
    return token


async def load_session(token: str) -> SessionData | None:
    row = (
        await UserSession.select(UserSession.data, UserSession.expires_at)
        .where((UserSession.session_id == digest(token)) & (UserSession.expires_at > clock.now()))
        .first()
    )
    if row is None:
        return None
    data = json.loads(row["data"] or "{}")
    if not isinstance(data.get("user_id"), int):
        return None
    return SessionData(user_id=data["user_id"], workspace_id=data.get("workspace_id"), expires_at=row["expires_at"])


async def close_session(token: str) -> None:
    async with write_transaction():
        await UserSession.delete().where(UserSession.session_id == digest(token))


async def close_sessions_of(user_id: int, *, keep: str | None = None) -> None:
    """End every session of `user_id` (after a password reset or change), but the one whose token
    is `keep` (the person changing their own password stays signed in where they did it).

    Sessions keep the user in their JSON `data`, always written by `open_session` and
    `switch_workspace` as `{"user_id": N, ...}`, so a prefix match finds exactly this user's rows.
    Call inside a write transaction.
    """
    mine: Combinable = UserSession.data.like(json.dumps({"user_id": user_id})[:-1] + ",%")
    if keep is not None:
        mine = mine & (UserSession.session_id != digest(keep))
    await UserSession.delete().where(mine)


async def switch_workspace(token: str, user_id: int, workspace_id: int) -> WorkspaceChoice:
    """Make `workspace_id` the session's current workspace; only a member may switch to it."""
    choice = next((c for c in await workspaces_of(user_id) if c.id == workspace_id), None)
    if choice is None:
        raise Forbidden(
            f"You are not a member of workspace {workspace_id}.",
            fix="Pick one of your workspaces, or ask one of its owners to add you.",
        )
    async with write_transaction():
        await UserSession.update(
            {UserSession.data: json.dumps({"user_id": user_id, "workspace_id": workspace_id})}
        ).where(UserSession.session_id == digest(token))
    return choice


def session_cookie(settings: Settings, token: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure,
        max_age=int(SESSION_LIFETIME.total_seconds()),
    )


def expired_session_cookie(settings: Settings) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure,
        max_age=0,
        expires=0,
    )
