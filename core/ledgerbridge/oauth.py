"""OAuth2, implemented once for every provider: consent, callback, refresh, disconnect.

Provider plugins only build URLs and make the token calls (the `authorization_url`,
`exchange_code`, `refresh_token`, `connected_tenants` and `revoke_token` hooks). Everything that
must be right for all of them lives here:

* `state` is signed and bound to the user, workspace and connection that started the flow, and
  expires; a PKCE verifier travels inside it encrypted, never readable by whoever sees the URL.
* Reconnecting refuses a different company than the one the connection belongs to.
* Refreshes are serialised per connection (a lease on the row) and the rotated refresh token is
  written with a compare-and-swap on `token_version` as soon as it arrives, so two workers never
  race a single-use refresh token and a rotated token is never dropped.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ledgerbridge import jobs, vault
from ledgerbridge.db import write_transaction
from ledgerbridge.errors import AuthorizationError, LedgerBridgeError
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import Tenant, TokenSet
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Connection, ConnectionStatus, RunKind, utcnow

STATE_TTL_SECONDS = 15 * 60
REFRESH_MARGIN = timedelta(seconds=120)  # refresh this long before the access token expires
LEASE = timedelta(seconds=45)


def callback_url() -> str:
    return f"{get_settings().base_url}/oauth/callback"


# --------------------------------------------------------------------------- state


def _sign(payload: bytes) -> str:
    return hmac.new(get_settings().secret_key.encode(), payload, hashlib.sha256).hexdigest()


def sign_state(data: dict[str, Any]) -> str:
    body = dict(data, exp=int(time.time()) + STATE_TTL_SECONDS, nonce=secrets.token_urlsafe(8))
    raw = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode())
    return f"{raw.decode()}.{_sign(raw)}"


def read_state(state: str) -> dict[str, Any]:
    raw, _, signature = state.partition(".")
    if not signature or not hmac.compare_digest(_sign(raw.encode()), signature):
        raise LedgerBridgeError(
            "The sign-in link is not one LedgerBridge issued.", fix="Start connecting again from Integrations."
        )
    data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    if data["exp"] < time.time():
        raise LedgerBridgeError(
            "The sign-in took too long and expired.", fix="Start connecting again from Integrations."
        )
    return data


# --------------------------------------------------------------------------- connect


async def begin_connect(
    provider: str, *, workspace_id: int, user_id: int, environment: str, connection_id: int | None = None,
    return_to: str = "",
) -> str:
    """The URL to send the user to; `connection_id` makes it a reconnect of that connection.

    `return_to` rides in the signed state so the callback can send the user back to the page they
    started from without trusting anything the provider echoes.
    """
    registry = get_registry()
    info = registry.provider(provider)
    state_data: dict[str, Any] = {"p": provider, "w": workspace_id, "u": user_id, "e": environment}
    if connection_id is not None:
        state_data["c"] = connection_id
    if return_to:
        state_data["r"] = return_to
    verifier = secrets.token_urlsafe(64) if info.capabilities.pkce else None
    if verifier:
        state_data["v"] = vault.encrypt(verifier)
    return await registry.call(
        provider,
        "authorization_url",
        settings=get_settings().provider(provider),
        environment=environment,
        redirect_uri=callback_url(),
        state=sign_state(state_data),
        code_verifier=verifier,
    )


@dataclass
class ConnectOutcome:
    connection: Connection
    tenants: list[Tenant]  # more than one: the user must pick (see `choose_tenant`)
    reconnected: bool
    return_to: str = ""


async def complete_connect(params: dict[str, str], *, user_id: int) -> ConnectOutcome:
    """Handle the provider's redirect back: exchange the code, find the tenant, store the tokens."""
    state = read_state(params.get("state", ""))
    if state["u"] != user_id:
        raise LedgerBridgeError(
            "This sign-in was started by another user.", fix="Start connecting again from Integrations."
        )
    if params.get("error"):
        raise LedgerBridgeError(
            f"The provider did not grant access ({params['error']}).",
            fix="Start connecting again and approve access for LedgerBridge.",
            code="token_revoked",
        )
    provider, environment = state["p"], state["e"]
    registry = get_registry()
    provider_settings = get_settings().provider(provider)
    tokens: TokenSet = await registry.call(
        provider,
        "exchange_code",
        settings=provider_settings,
        environment=environment,
        code=params.get("code", ""),
        redirect_uri=callback_url(),
        code_verifier=vault.decrypt(state["v"]) if state.get("v") else None,
        params=params,
    )
    tenants: list[Tenant] = await registry.call(
        provider, "connected_tenants", settings=provider_settings, environment=environment, tokens=tokens,
        params=params,
    )
    if not tenants:
        raise LedgerBridgeError(
            "The provider granted access to no company.", fix="Connect again and select a company."
        )
    existing = None
    if "c" in state:
        existing = await Connection.objects().where(
            (Connection.id == state["c"]) & (Connection.workspace == state["w"])
        ).first()
    if existing is not None and existing.tenant_id:
        match = [t for t in tenants if t.id == existing.tenant_id]
        if not match:
            raise LedgerBridgeError(
                f"You signed in to {', '.join(t.name for t in tenants)}, but this connection belongs to "
                f"{existing.tenant_name or existing.tenant_id}.",
                code="wrong_account",
            )
        tenants = match
    elif existing is None and len(tenants) == 1:
        # Connecting a company this workspace already has refreshes that connection instead of
        # adding a second one, which would import every record twice.
        existing = await Connection.objects().where(
            (Connection.workspace == state["w"]) & (Connection.provider == provider)
            & (Connection.tenant_id == tenants[0].id)
        ).first()
    async with jobs.transaction() as tx:
        connection = existing or Connection(
            workspace=state["w"], provider=provider, environment=environment, created_at=utcnow()
        )
        _store_tokens(connection, tokens)
        connection.provider_data = json.dumps(
            {**jobs.loads(connection.provider_data), "pending_tenants": [_tenant_json(t) for t in tenants]}
        )
        if len(tenants) == 1:
            _attach_tenant(connection, tenants[0])
        connection.updated_at = utcnow()
        await connection.save()
        if len(tenants) == 1:
            await tx.record(
                RunKind.import_all, workspace_id=connection.workspace, connection_id=connection.id,
                trigger=f"user:{user_id}", dedupe_key=f"import_all:{connection.id}",
            )
    if len(tenants) == 1:
        await _announce(connection, ConnectionStatus.connected, "")
    return ConnectOutcome(connection=connection, tenants=tenants, reconnected=existing is not None,
                          return_to=state.get("r", ""))


async def choose_tenant(connection_id: int, tenant_id: str, *, user_id: int) -> Connection:
    """Finish a consent that covered several companies by picking one."""
    connection = await Connection.objects().where(Connection.id == connection_id).first()
    if connection is None:
        raise LedgerBridgeError("No such connection.", code="not_connected")
    pending = jobs.loads(connection.provider_data).get("pending_tenants", [])
    chosen = next((t for t in pending if t["id"] == tenant_id), None)
    if chosen is None:
        raise LedgerBridgeError("That company was not part of the consent you gave.", code="wrong_account")
    if connection.tenant_id and connection.tenant_id != tenant_id:
        raise LedgerBridgeError(code="wrong_account")
    async with jobs.transaction() as tx:
        _attach_tenant(connection, Tenant(id=chosen["id"], name=chosen["name"], extra=chosen.get("extra", {}),
                                          currency=chosen.get("currency", "")))
        connection.updated_at = utcnow()
        await connection.save()
        await tx.record(
            RunKind.import_all, workspace_id=connection.workspace, connection_id=connection.id,
            trigger=f"user:{user_id}", dedupe_key=f"import_all:{connection.id}",
        )
    await _announce(connection, ConnectionStatus.connected, "")
    return connection


def _tenant_json(tenant: Tenant) -> dict[str, Any]:
    return {"id": tenant.id, "name": tenant.name, "extra": tenant.extra, "currency": tenant.currency}


def _attach_tenant(connection: Connection, tenant: Tenant) -> None:
    connection.tenant_id = tenant.id
    connection.tenant_name = tenant.name
    connection.currency = tenant.currency or connection.currency or ""
    data = jobs.loads(connection.provider_data)
    data.pop("pending_tenants", None)
    data.update(tenant.extra)
    connection.provider_data = json.dumps(data)
    connection.status = ConnectionStatus.connected
    connection.status_reason = ""


def _store_tokens(connection: Connection, tokens: TokenSet) -> None:
    connection.access_token_enc = vault.encrypt(tokens.access_token)
    if tokens.refresh_token:
        connection.refresh_token_enc = vault.encrypt(tokens.refresh_token)
    connection.access_expires_at = tokens.access_expires_at
    connection.refresh_expires_at = tokens.refresh_expires_at
    connection.reconnect_before = tokens.refresh_hard_expires_at or connection.reconnect_before
    connection.token_version = (connection.token_version or 0) + 1


# --------------------------------------------------------------------------- status


async def set_status(connection: Connection, status: ConnectionStatus, reason: str) -> None:
    """Change a connection's status and tell plugins; no-op when unchanged."""
    if connection.status == status and connection.status_reason == reason:
        return
    async with write_transaction():
        await Connection.update(
            {Connection.status: status, Connection.status_reason: reason, Connection.updated_at: utcnow()}
        ).where(Connection.id == connection.id)
    old = connection.status
    connection.status, connection.status_reason = status, reason
    await get_registry().notify(
        "connection_changed", workspace_id=connection.workspace, connection_id=connection.id, old=old,
        new=status, reason=reason,
    )


async def _announce(connection: Connection, status: ConnectionStatus, reason: str) -> None:
    await get_registry().notify(
        "connection_changed", workspace_id=connection.workspace, connection_id=connection.id,
        old="", new=status, reason=reason,
    )


# --------------------------------------------------------------------------- tokens


def _fresh(connection: Connection, now: datetime) -> bool:
    return bool(
        connection.access_token_enc
        and connection.access_expires_at
        and connection.access_expires_at - REFRESH_MARGIN > now
    )


async def access_token(connection_id: int, *, force_refresh: bool = False) -> tuple[str, Connection]:
    """A usable access token for the connection, refreshing it (once, deployment-wide) if needed."""
    seen_version = None
    for _ in range(200):
        connection = await Connection.objects().where(Connection.id == connection_id).first()
        if connection is None or connection.status == ConnectionStatus.disconnected:
            raise AuthorizationError("The integration is disconnected.", code="not_connected")
        if connection.status == ConnectionStatus.needs_reconnect:
            raise AuthorizationError(connection.status_reason or None, code="token_expired")
        now = utcnow()
        if seen_version is None:
            seen_version = connection.token_version
        if _fresh(connection, now) and not (force_refresh and connection.token_version == seen_version):
            return vault.decrypt(connection.access_token_enc), connection
        if await _take_refresh_lease(connection_id, now, connection.token_version):
            return await _refresh(connection), connection
        await asyncio.sleep(0.1)  # someone else is refreshing: use their result
    raise LedgerBridgeError("Timed out waiting for another worker to refresh the connection's token.",
                            code="provider_unavailable")


async def _take_refresh_lease(connection_id: int, now: datetime, version: int) -> bool:
    """Only for the tokens we read: if another worker refreshed since, its fresh token is the answer."""
    async with write_transaction():
        taken = await Connection.update({Connection.refresh_lease_until: now + LEASE}).where(
            (Connection.id == connection_id)
            & (Connection.token_version == version)
            & (Connection.refresh_lease_until.is_null() | (Connection.refresh_lease_until < now))
        ).returning(Connection.id)
    return bool(taken)


async def _refresh(connection: Connection) -> str:
    version = connection.token_version
    try:
        tokens: TokenSet = await get_registry().call(
            connection.provider,
            "refresh_token",
            settings=get_settings().provider(connection.provider),
            environment=connection.environment,
            refresh_token=vault.decrypt(connection.refresh_token_enc),
        )
    except AuthorizationError as exc:
        await _release_lease(connection.id)
        # Re-read once: a refresh that raced ours (a lapsed lease) may have rotated the token we sent.
        current = await Connection.objects().where(Connection.id == connection.id).first()
        if current is not None and current.token_version != version and _fresh(current, utcnow()):
            return vault.decrypt(current.access_token_enc)
        await set_status(connection, ConnectionStatus.needs_reconnect, exc.message)
        raise
    except BaseException:
        await _release_lease(connection.id)
        raise
    values = {
        Connection.access_token_enc: vault.encrypt(tokens.access_token),
        Connection.access_expires_at: tokens.access_expires_at,
        Connection.token_version: version + 1,
        Connection.refresh_lease_until: None,
        Connection.updated_at: utcnow(),
    }
    if tokens.refresh_token:
        values[Connection.refresh_token_enc] = vault.encrypt(tokens.refresh_token)
        values[Connection.refresh_expires_at] = tokens.refresh_expires_at
    if tokens.refresh_hard_expires_at:
        values[Connection.reconnect_before] = tokens.refresh_hard_expires_at
    async with write_transaction():
        swapped = await Connection.update(values).where(
            (Connection.id == connection.id) & (Connection.token_version == version)
        ).returning(Connection.id)
        if not swapped:
            # Our lease lapsed and another worker refreshed too. The provider's newest answer is the
            # valid one; ours arrived last, so it wins rather than being dropped.
            values[Connection.token_version] = Connection.token_version + 1
            await Connection.update(values).where(Connection.id == connection.id)
    return tokens.access_token


async def _release_lease(connection_id: int) -> None:
    async with write_transaction():
        await Connection.update({Connection.refresh_lease_until: None}).where(Connection.id == connection_id)
