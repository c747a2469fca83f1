"""The `Caller`: who is asking and in which workspace, resolved once per request.

An API key wins over a session cookie, and handlers get the caller through the `caller`
dependency; everything they read or write is scoped to `caller.workspace_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency

from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.api_keys import api_key_from_headers, authenticate_api_key
from ledgerbridge.identity.errors import Forbidden, NotSignedIn
from ledgerbridge.identity.memberships import WorkspaceChoice, workspaces_of
from ledgerbridge.identity.sessions import SESSION_COOKIE, load_session
from ledgerbridge.tables import Role, User


@dataclass(frozen=True)
class Caller:
    """Who is asking, and in which workspace. Exactly one of user/API key is set."""

    via: Literal["session", "api_key"]
    workspace_id: int | None
    workspace_name: str
    role: Role | None
    user_id: int | None = None
    email: str = ""
    name: str = ""
    api_key_id: int | None = None
    api_key_prefix: str | None = None
    session_token: str | None = field(default=None, repr=False)
    workspaces: tuple[WorkspaceChoice, ...] = ()
    scopes: frozenset[str] = frozenset()  # an API key's scopes (`permissions.Scope` values)
    ip: str = ""  # where the request came from, for the audit trail
    user_agent: str = ""
    must_change_password: bool = False  # someone else chose this person's password (guards.permitted)
    system: str = ""  # a tool acting for the operator, not a person or a key (`system_caller`)
    signed_in_at: datetime | None = None  # when a session's person signed in (`linked_accounts`)

    @property
    def actor(self) -> str:
        """How the audit trail names who acted."""
        if self.system:
            return self.system
        if self.api_key_prefix is not None:
            return f"API key {self.api_key_prefix}"
        return self.email or f"user {self.user_id}"

    @property
    def trigger(self) -> str:
        """How sync runs record who started them."""
        if self.api_key_prefix is not None:
            return f"api_key:{self.api_key_prefix}"
        return f"user:{self.user_id}"


def system_caller(tool: str, workspace_id: int | None = None) -> Caller:
    """The operator acting through a tool on the server itself (`ledgerbridge createadmin`), for the
    audit trail: whoever runs it has the database, not an account, so it names the tool. It holds no
    role, key or person, so `permissions.require` refuses it everything: it can only be recorded."""
    return Caller(via="session", workspace_id=workspace_id, workspace_name="", role=None, system=tool)


CallerDep = NamedDependency[Caller]
"""Handler parameter type for the `caller` dependency (see `provide_caller`)."""


@dataclass(frozen=True)
class AuthOutcome:
    caller: Caller | None
    problem: LedgerBridgeError | None = None


async def session_caller(token: str) -> Caller | None:
    """The person a session token belongs to, or None when it ended or they were deactivated."""
    session = await load_session(token)
    if session is None:
        return None
    user = await User.select(User.id, User.email, User.name, User.is_active, User.must_change_password).where(
        User.id == session.user_id
    ).first()
    if user is None or not user["is_active"]:
        return None
    choices = tuple(await workspaces_of(user["id"]))
    # The session's workspace, unless the person was removed from it meanwhile.
    current = next((c for c in choices if c.id == session.workspace_id), choices[0] if choices else None)
    return Caller(
        via="session",
        workspace_id=current.id if current else None,
        workspace_name=current.name if current else "",
        role=current.role if current else None,
        user_id=user["id"],
        email=user["email"],
        name=user["name"],
        session_token=token,
        workspaces=choices,
        must_change_password=bool(user["must_change_password"]),
        signed_in_at=session.opened_at,
    )


USER_AGENT_KEPT = 300


def _origin(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[str, str]:
    ip = connection.client.host if connection.client else ""
    return ip[:64], (connection.headers.get("user-agent") or "")[:USER_AGENT_KEPT]


async def resolve_caller(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthOutcome:
    """An API key wins over a session cookie, and a bad key never falls back to the cookie:
    a script must not end up acting as whoever happens to be signed in in the same browser."""
    outcome = await _resolve(connection)
    if outcome.caller is None:
        return outcome
    ip, user_agent = _origin(connection)
    return AuthOutcome(caller=replace(outcome.caller, ip=ip, user_agent=user_agent))


async def _resolve(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthOutcome:
    key = api_key_from_headers(connection.headers)
    if key is not None:
        try:
            identity = await authenticate_api_key(key)
        except NotSignedIn as exc:
            return AuthOutcome(caller=None, problem=exc)
        return AuthOutcome(
            caller=Caller(
                via="api_key",
                workspace_id=identity.workspace_id,
                workspace_name=identity.workspace_name,
                role=None,
                api_key_id=identity.id,
                api_key_prefix=identity.prefix,
                scopes=identity.scopes,
            )
        )
    token = connection.cookies.get(SESSION_COOKIE)
    if token:
        caller = await session_caller(token)
        if caller is None:
            return AuthOutcome(
                caller=None,
                problem=NotSignedIn("Your session has ended.", fix="Sign in again."),
            )
        return AuthOutcome(caller=caller)
    return AuthOutcome(caller=None)


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller | None:
    user = connection.scope.get("user")
    return user if isinstance(user, Caller) else None


def refusal(connection: ASGIConnection[Any, Any, Any, Any]) -> LedgerBridgeError:
    outcome = connection.scope.get("auth")
    if isinstance(outcome, AuthOutcome) and outcome.problem is not None:
        return outcome.problem
    return NotSignedIn()


async def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    """Dependency `caller`: the signed-in caller with a current workspace."""
    caller = caller_of(request)
    if caller is None:
        raise refusal(request)
    if caller.workspace_id is None:
        raise Forbidden(
            "You are not a member of any workspace.",
            fix="Ask an owner to add you to a workspace, or create one with `ledgerbridge createadmin`.",
        )
    return caller

