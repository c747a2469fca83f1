"""Who is calling: admin users with server-side sessions, and host apps with API keys.

People sign in with a password (argon2) and get a session whose random id lives in an HttpOnly
cookie; the database keeps only the id's SHA-256, so a copy of the database opens no sessions. The
session remembers which workspace the person is working in. Host apps send a per-workspace API key
(`Authorization: Bearer lb_...` or `X-API-Key`); it too is stored only as a hash and shown once.

Every request is resolved to a `Caller` by `AuthMiddleware` before any handler runs; handlers get
it through the `caller` dependency, and everything they read or write is scoped to
`caller.workspace_id`. Cookie-authenticated unsafe requests need a CSRF token (`CsrfMiddleware`);
API-key requests do not, as they carry no ambient credential a forged page could borrow.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from litestar import Request, Response, get, post
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware, MiddlewareProtocol
from litestar.middleware.csrf import CSRFMiddleware
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from ledgerbridge.api.errors import Invalid
from ledgerbridge.api.schemas import (
    CsrfOut,
    LoginIn,
    MeOut,
    SwitchWorkspaceIn,
    WorkspaceChoiceOut,
    error_responses,
)
from ledgerbridge.db import is_unique_violation, write_transaction
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.settings import Settings
from ledgerbridge.tables import (
    ApiKey,
    Membership,
    RateWindow,
    Role,
    User,
    UserSession,
    Workspace,
    utcnow,
)

SESSION_COOKIE = "lb_session"
SESSION_LIFETIME = timedelta(days=14)
CSRF_COOKIE = "lb_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FORM_FIELD = "_csrf_token"  # the name Litestar's CSRF middleware reads from forms
API_KEY_START = "lb_"
API_KEY_HEADER = "x-api-key"
API_KEY_TOUCH_EVERY = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 8
MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW = timedelta(minutes=15)
# Paths that never need a caller: resolving one would cost queries for nothing.
PUBLIC_PREFIXES = ("/static/", "/schema", "/healthz")
EXCLUDE_FROM_AUTH = "exclude_from_auth"  # handler opt, as Litestar's own auth middleware names it


def now() -> datetime:
    """The clock for sessions and throttling; tests replace it instead of waiting."""
    return utcnow()


# --------------------------------------------------------------------------- errors


class NotSignedIn(LedgerBridgeError):
    code = "not_signed_in"

    def __init__(self, message: str | None = None, *, fix: str | None = None) -> None:
        super().__init__(
            message or "You are not signed in.",
            fix=fix or "Sign in, or send an API key as `Authorization: Bearer <key>` or `X-API-Key`.",
        )


class Forbidden(LedgerBridgeError):
    code = "forbidden"


class BadCredentials(LedgerBridgeError):
    code = "bad_credentials"

    def __init__(self) -> None:
        super().__init__(
            "The email or password is not right.",
            fix="Check both and try again; after 5 failed attempts sign-in pauses for 15 minutes.",
        )


class LoginThrottled(LedgerBridgeError):
    code = "login_throttled"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        minutes = max(1, (self.retry_after + 59) // 60)
        super().__init__(
            f"Too many failed sign-in attempts for this email. Try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''}.",
            fix="Wait, then sign in with the right password; an owner can reset it with `ledgerbridge createadmin`.",
        )


class CsrfRefused(LedgerBridgeError):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            "This request did not carry a valid CSRF token.",
            fix="Reload the page and submit again. Scripts should use an API key instead of a session cookie.",
        )


# --------------------------------------------------------------------------- passwords


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str, field_name: str = "password") -> None:
    """Length is the rule that matters (NIST 800-63B); composition rules only annoy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(field_name, f"must be at least {MIN_PASSWORD_LENGTH} characters long")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown emails, so response time does not reveal accounts."""
    return _hasher.hash(secrets.token_urlsafe(16))


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalize_email(email: str, field_name: str = "email") -> str:
    """Emails are compared lower-cased: people do not remember how they capitalised them."""
    cleaned = email.strip().lower()
    if not _EMAIL.match(cleaned):
        raise Invalid(field_name, "is not an email address")
    return cleaned


# --------------------------------------------------------------------------- users and workspaces


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:70] or "workspace"


async def create_workspace(name: str) -> Workspace:
    """A workspace with a unique slug; call inside a write transaction."""
    base = slugify(name)
    slug, n = base, 1
    while await Workspace.exists().where(Workspace.slug == slug):
        n += 1
        slug = f"{base}-{n}"
    workspace = Workspace(name=name, slug=slug, created_at=utcnow())
    await workspace.save()
    return workspace


async def create_admin(
    email: str, password: str, workspace_name: str, *, reset_password: bool = False
) -> tuple[User, Workspace]:
    """Make sure `email` can sign in as an owner of the workspace named `workspace_name`.

    Idempotent, because `make run` calls it on every first start and people re-run the CLI: an
    existing user keeps their password unless `reset_password` is set, an existing workspace of
    that name is reused, and an existing membership is raised to owner.
    """
    email = normalize_email(email)
    name = workspace_name.strip()
    if not name:
        raise Invalid("workspace_name", "must not be empty")
    existing = await User.objects().where(User.email == email).first()
    new_hash = None
    if existing is None or reset_password:
        check_password_rules(password)
        new_hash = await asyncio.to_thread(hash_password, password)
    async with write_transaction():
        user = await User.objects().where(User.email == email).first()
        if user is None:
            assert new_hash is not None
            user = User(email=email, name="", password_hash=new_hash, is_active=True, created_at=utcnow())
            await user.save()
        elif reset_password and new_hash is not None:
            await User.update({User.password_hash: new_hash, User.is_active: True}).where(User.id == user.id)
            user.password_hash = new_hash
            user.is_active = True
        workspace = await Workspace.objects().where(Workspace.name == name).order_by(Workspace.id).first()
        if workspace is None:
            workspace = await create_workspace(name)
        membership = (
            await Membership.objects()
            .where((Membership.user == user.id) & (Membership.workspace == workspace.id))
            .first()
        )
        if membership is None:
            await Membership(user=user.id, workspace=workspace.id, role=Role.owner).save()
        elif membership.role != Role.owner:
            await Membership.update({Membership.role: Role.owner}).where(Membership.id == membership.id)
    return user, workspace


@dataclass(frozen=True)
class WorkspaceChoice:
    id: int
    name: str
    role: Role


async def workspaces_of(user_id: int) -> list[WorkspaceChoice]:
    rows = (
        await Membership.select(
            Membership.workspace.id.as_alias("id"),
            Membership.workspace.name.as_alias("name"),
            Membership.role,
        )
        .where(Membership.user == user_id)
        .order_by(Membership.workspace.name)
    )
    return [WorkspaceChoice(id=row["id"], name=row["name"], role=Role(row["role"])) for row in rows]


# --------------------------------------------------------------------------- login throttling


def _throttle_key(email: str) -> str:
    # Hashed: the limiter table is shared and should not collect email addresses.
    return "login:" + hashlib.sha256(email.encode()).hexdigest()[:48]


async def throttled_for(email: str) -> float:
    """Seconds until `email` may try again; 0 when it may now.

    Failures are rows in the shared `RateWindow` table (one per second with a failure), so every
    server process sees the same count. Sign-in pauses while 5 failures lie within 15 minutes,
    until the oldest of those 5 leaves the window.
    """
    at = int(now().timestamp())
    window = int(FAILED_LOGIN_WINDOW.total_seconds())
    rows = (
        await RateWindow.select(RateWindow.window_start, RateWindow.count)
        .where((RateWindow.key == _throttle_key(email)) & (RateWindow.window_start > at - window))
        .order_by(RateWindow.window_start, ascending=False)
    )
    seen = 0
    for row in rows:
        seen += row["count"]
        if seen >= MAX_FAILED_LOGINS:
            return max(0.0, float(row["window_start"] + window - at))
    return 0.0


async def _record_failure(email: str) -> None:
    key = _throttle_key(email)
    at = int(now().timestamp())
    async with write_transaction():
        bumped = (
            await RateWindow.update({RateWindow.count: RateWindow.count + 1})
            .where((RateWindow.key == key) & (RateWindow.window_start == at))
            .returning(RateWindow.id)
        )
        if not bumped:
            await RateWindow(key=key, window_start=at, count=1).save()
        await RateWindow.delete().where(
            (RateWindow.key == key) & (RateWindow.window_start <= at - int(FAILED_LOGIN_WINDOW.total_seconds()))
        )


async def _clear_failures(email: str) -> None:
    async with write_transaction():
        await RateWindow.delete().where(RateWindow.key == _throttle_key(email))


async def authenticate(email: str, password: str) -> User:
    """The user whose password this is, or `BadCredentials`; `LoginThrottled` while paused.

    While paused the password is not even checked, so guessing cannot continue in the meantime.
    Unknown emails cost the same hash check and count failures the same way, so neither timing nor
    throttling tells an attacker which accounts exist.
    """
    email = email.strip().lower()
    wait = await throttled_for(email)
    if wait > 0:
        raise LoginThrottled(wait)
    user = await User.objects().where(User.email == email).first()
    if user is None or not user.is_active:
        await asyncio.to_thread(_verify, _dummy_hash(), password)
        await _record_failure(email)
        raise BadCredentials()
    if not await asyncio.to_thread(_verify, user.password_hash, password):
        await _record_failure(email)
        raise BadCredentials()
    await _clear_failures(email)
    values: dict[Any, Any] = {User.last_login_at: now()}
    if _hasher.check_needs_rehash(user.password_hash):
        values[User.password_hash] = await asyncio.to_thread(hash_password, password)
    async with write_transaction():
        await User.update(values).where(User.id == user.id)
    return user


# --------------------------------------------------------------------------- sessions


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SessionData:
    user_id: int
    workspace_id: int | None
    expires_at: datetime


async def open_session(user_id: int, workspace_id: int | None = None) -> str:
    """Start a session and return the secret for the cookie (never stored in clear).

    Without `workspace_id` the session starts in the user's first workspace by name.
    """
    if workspace_id is None:
        choices = await workspaces_of(user_id)
        workspace_id = choices[0].id if choices else None
    token = secrets.token_urlsafe(32)
    at = now()
    async with write_transaction():
        await UserSession.delete().where(UserSession.expires_at < at)
        await UserSession(
            session_id=_digest(token),
            data=json.dumps({"user_id": user_id, "workspace_id": workspace_id}),
            expires_at=at + SESSION_LIFETIME,
        ).save()
    return token


async def load_session(token: str) -> SessionData | None:
    row = (
        await UserSession.select(UserSession.data, UserSession.expires_at)
        .where((UserSession.session_id == _digest(token)) & (UserSession.expires_at > now()))
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
        await UserSession.delete().where(UserSession.session_id == _digest(token))


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
        ).where(UserSession.session_id == _digest(token))
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


# --------------------------------------------------------------------------- API keys


@dataclass(frozen=True)
class NewApiKey:
    record: ApiKey
    key: str  # the only time the full key exists outside the caller's hands


async def create_api_key(workspace_id: int, name: str, created_by: int | None) -> NewApiKey:
    """A key `lb_<8 hex>_<secret>`. The start (`prefix`) is kept to tell keys apart in lists and
    run triggers; of the whole key only its SHA-256 is stored."""
    for _ in range(5):
        prefix = API_KEY_START + secrets.token_hex(4)
        key = f"{prefix}_{secrets.token_urlsafe(32)}"
        record = ApiKey(
            workspace=workspace_id,
            name=name.strip(),
            prefix=prefix,
            key_hash=_digest(key),
            created_by=created_by,
            created_at=utcnow(),
        )
        try:
            async with write_transaction():
                await record.save()
        except Exception as exc:
            if is_unique_violation(exc):
                continue  # a prefix collision (1 in 4 billion): draw again
            raise
        return NewApiKey(record=record, key=key)
    raise LedgerBridgeError("Could not create a unique API key; try again.")


async def revoke_api_key(workspace_id: int, key_id: int) -> ApiKey | None:
    async with write_transaction():
        await ApiKey.update({ApiKey.revoked_at: utcnow()}).where(
            (ApiKey.id == key_id) & (ApiKey.workspace == workspace_id) & ApiKey.revoked_at.is_null()
        )
    return await ApiKey.objects().where((ApiKey.id == key_id) & (ApiKey.workspace == workspace_id)).first()


def api_key_from_headers(headers: Any) -> str | None:
    """The API key a request carries, if any (Bearer token or X-API-Key)."""
    explicit = headers.get(API_KEY_HEADER)
    if explicit:
        return explicit.strip()
    authorization = headers.get("authorization") or ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


@dataclass(frozen=True)
class KeyIdentity:
    id: int
    prefix: str
    workspace_id: int
    workspace_name: str


async def authenticate_api_key(key: str) -> KeyIdentity:
    """The key's identity, or `NotSignedIn` saying exactly why it was refused."""
    if not key.startswith(API_KEY_START):
        raise NotSignedIn(
            "The credential sent is not a LedgerBridge API key.",
            fix="Send the key shown when it was created, starting with lb_.",
        )
    row = (
        await ApiKey.select(
            ApiKey.id,
            ApiKey.prefix,
            ApiKey.workspace,
            ApiKey.workspace.name.as_alias("workspace_name"),
            ApiKey.revoked_at,
            ApiKey.last_used_at,
        )
        .where(ApiKey.key_hash == _digest(key))
        .first()
    )
    if row is None:
        raise NotSignedIn("This API key is not known.", fix="Check the key, or create a new one under API keys.")
    if row["revoked_at"] is not None:
        raise NotSignedIn(
            f"The API key {row['prefix']} has been revoked.",
            fix="Create a new key under API keys and update the app that uses it.",
        )
    at = now()
    # Bounded writes: a busy integration must not turn every read into a write.
    if row["last_used_at"] is None or at - row["last_used_at"] > API_KEY_TOUCH_EVERY:
        async with write_transaction():
            await ApiKey.update({ApiKey.last_used_at: at}).where(ApiKey.id == row["id"])
    return KeyIdentity(
        id=row["id"], prefix=row["prefix"], workspace_id=row["workspace"], workspace_name=row["workspace_name"]
    )


# --------------------------------------------------------------------------- the caller


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

    @property
    def trigger(self) -> str:
        """How sync runs record who started them."""
        if self.api_key_prefix is not None:
            return f"api_key:{self.api_key_prefix}"
        return f"user:{self.user_id}"

    @property
    def is_owner(self) -> bool:
        # API keys act with member rights: a leaked key must not be able to mint more keys.
        return self.user_id is not None and self.role == Role.owner


CallerDep = NamedDependency[Caller]
"""Handler parameter type for the `caller` dependency (see `provide_caller`)."""


@dataclass(frozen=True)
class AuthOutcome:
    caller: Caller | None
    problem: LedgerBridgeError | None = None


async def _session_caller(token: str) -> Caller | None:
    session = await load_session(token)
    if session is None:
        return None
    user = await User.select(User.id, User.email, User.name, User.is_active).where(User.id == session.user_id).first()
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
    )


async def resolve_caller(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthOutcome:
    """An API key wins over a session cookie, and a bad key never falls back to the cookie:
    a script must not end up acting as whoever happens to be signed in in the same browser."""
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
                role=Role.member,
                api_key_id=identity.id,
                api_key_prefix=identity.prefix,
            )
        )
    token = connection.cookies.get(SESSION_COOKIE)
    if token:
        caller = await _session_caller(token)
        if caller is None:
            return AuthOutcome(
                caller=None,
                problem=NotSignedIn("Your session has ended.", fix="Sign in again."),
            )
        return AuthOutcome(caller=caller)
    return AuthOutcome(caller=None)


def _skips_auth(scope: Scope) -> bool:
    """Static files, docs, health and handlers marked `exclude_from_auth` (webhooks) need no caller."""
    if scope["path"].startswith(PUBLIC_PREFIXES):
        return True
    handler = scope.get("route_handler")
    return bool(handler is not None and handler.opt.get(EXCLUDE_FROM_AUTH))


class AuthMiddleware(MiddlewareProtocol):
    """Puts the `Caller` (or None) in `scope["user"]` and the outcome in `scope["auth"]`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _skips_auth(scope):
            outcome = await resolve_caller(ASGIConnection(scope))
        else:
            outcome = AuthOutcome(caller=None)
        scope["user"] = outcome.caller
        scope["auth"] = outcome
        await self.app(scope, receive, send)


def _csrf_exempt(scope: Scope) -> bool:
    """API-key requests carry no cookie a forged page could ride on, and neither does an API
    request without a session cookie (it will be refused as not signed in anyway)."""
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    if api_key_from_headers(connection.headers) is not None:
        return True
    return scope["path"].startswith("/api/") and SESSION_COOKIE not in connection.cookies


class CsrfMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, skipped for API-key requests and answered as a typed error."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in self.config.safe_methods and _csrf_exempt(scope):
            await self.app(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        except PermissionDeniedException:
            # Errors from the handler were already answered further in; this one is ours.
            raise CsrfRefused() from None


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.session_cookie_secure,
        cookie_httponly=True,  # pages embed the token; scripts never need to read the cookie
        cookie_samesite="lax",
        exclude=list(PUBLIC_PREFIXES),
    )


def middleware(settings: Settings) -> list[DefineMiddleware]:
    """The auth stack for the app: who is calling first, then the CSRF check."""
    return [DefineMiddleware(AuthMiddleware), DefineMiddleware(CsrfMiddleware, config=csrf_config(settings))]


def csrf_token_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The token to embed in a page's forms and htmx headers."""
    token = ScopeState.from_scope(connection.scope).csrf_token
    return token if isinstance(token, str) else ""


# --------------------------------------------------------------------------- guards


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller | None:
    user = connection.scope.get("user")
    return user if isinstance(user, Caller) else None


def _refusal(connection: ASGIConnection[Any, Any, Any, Any]) -> LedgerBridgeError:
    outcome = connection.scope.get("auth")
    if isinstance(outcome, AuthOutcome) and outcome.problem is not None:
        return outcome.problem
    return NotSignedIn()


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a person with a session, or an app with a valid API key."""
    if caller_of(connection) is None:
        raise _refusal(connection)


def person_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a signed-in person (a session, not an API key)."""
    caller = caller_of(connection)
    if caller is None:
        raise _refusal(connection)
    if caller.user_id is None:
        raise Forbidden("This action needs a signed-in person, not an API key.", fix="Sign in to do it.")


def owner_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: an owner of the current workspace, signed in as a person."""
    caller = caller_of(connection)
    if caller is None:
        raise _refusal(connection)
    if not caller.is_owner:
        raise Forbidden(
            "Only owners of this workspace can do this.",
            fix="Ask an owner of the workspace to do it, or to make you an owner.",
        )


async def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    """Dependency `caller`: the signed-in caller with a current workspace."""
    caller = caller_of(request)
    if caller is None:
        raise _refusal(request)
    if caller.workspace_id is None:
        raise Forbidden(
            "You are not a member of any workspace.",
            fix="Ask an owner to add you to a workspace, or create one with `ledgerbridge createadmin`.",
        )
    return caller


# --------------------------------------------------------------------------- routes


def me_out(caller: Caller, csrf_token: str = "") -> MeOut:
    return MeOut(
        via=caller.via,
        workspace_id=caller.workspace_id,
        workspace_name=caller.workspace_name,
        role=caller.role,
        user_id=caller.user_id,
        email=caller.email,
        name=caller.name,
        api_key_prefix=caller.api_key_prefix,
        workspaces=[WorkspaceChoiceOut(id=c.id, name=c.name, role=c.role) for c in caller.workspaces],
        csrf_token=csrf_token,
    )


def _settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings


@get("/auth/csrf", tags=["auth"], summary="A CSRF token for cookie-authenticated clients")
async def csrf_token_handler(request: Request[Any, Any, Any]) -> CsrfOut:
    """Also sets the CSRF cookie, which must accompany the token on unsafe requests."""
    return CsrfOut(csrf_token=csrf_token_of(request), header=CSRF_HEADER, form_field=CSRF_FORM_FIELD)


@post(
    "/auth/login",
    tags=["auth"],
    status_code=HTTP_200_OK,
    summary="Sign in with email and password (starts a session cookie)",
    responses=error_responses(403, 429),
)
async def login_handler(request: Request[Any, Any, Any], data: JSONBody[LoginIn]) -> Response[MeOut]:
    user = await authenticate(data.email, data.password)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await close_session(old)  # a fresh id at every sign-in: no session fixation
    token = await open_session(user.id)
    caller = await _session_caller(token)
    assert caller is not None
    return Response(me_out(caller, csrf_token_of(request)), cookies=[session_cookie(_settings(request), token)])


@post("/auth/logout", tags=["auth"], status_code=HTTP_204_NO_CONTENT, summary="End the session")
async def logout_handler(request: Request[Any, Any, Any]) -> Response[None]:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await close_session(token)
    return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[expired_session_cookie(_settings(request))])


@get("/auth/me", tags=["auth"], guards=[signed_in], summary="Who is calling", responses=error_responses())
async def me_handler(request: Request[Any, Any, Any]) -> MeOut:
    caller = caller_of(request)
    assert caller is not None
    return me_out(caller, csrf_token_of(request))


@post(
    "/auth/workspace",
    tags=["auth"],
    guards=[person_only],
    status_code=HTTP_200_OK,
    summary="Switch the session's current workspace",
    responses=error_responses(403),
)
async def switch_workspace_handler(request: Request[Any, Any, Any], data: JSONBody[SwitchWorkspaceIn]) -> MeOut:
    caller = caller_of(request)
    assert caller is not None and caller.user_id is not None and caller.session_token is not None
    await switch_workspace(caller.session_token, caller.user_id, data.workspace_id)
    updated = await _session_caller(caller.session_token)
    assert updated is not None
    return me_out(updated, csrf_token_of(request))


def route_handlers() -> list[Any]:
    """The JSON sign-in endpoints; the admin UI has its own form pages built on the same functions."""
    return [csrf_token_handler, login_handler, logout_handler, me_handler, switch_workspace_handler]
