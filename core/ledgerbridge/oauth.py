"""OAuth2, implemented once for every provider: consent, callback, refresh, revocation, disconnect.

A provider plugin declares its authorization server (the `authorization_server` hook returns an
`AuthorizationServer`) and says which companies a consent covers (`connected_tenants`); this module
does the rest. The `authorization_url`, `exchange_code`, `refresh_token` and `revoke_token` hooks
are optional overrides: when a plugin implements one, the core calls it instead of its own step.
Everything that must be right for all providers lives here:

* `state` is signed (itsdangerous, salted, 15 minutes) and bound to the user, workspace and
  connection that started the flow; a PKCE verifier travels inside it encrypted, never readable by
  whoever sees the URL.
* Token requests are built with authlib's RFC 6749/7009/7636 helpers and sent over our own httpx
  client, so the only transport exceptions to catch are httpx's (authlib's httpx integration may
  switch to `httpx2`, whose exceptions we would not catch). Token-endpoint refusals become typed
  errors naming the provider.
* Reconnecting refuses a different company than the one the connection belongs to.
* Refreshes are serialised per connection (a lease on the row) and the rotated refresh token is
  written with a compare-and-swap on `token_version` as soon as it arrives, so two workers never
  race a single-use refresh token and a rotated token is never dropped.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7009.parameters import prepare_revoke_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from piccolo.columns import Column

from ledgerbridge import books, jobs, metrics, reconnects, vault
from ledgerbridge.db import write_transaction
from ledgerbridge.errors import (
    AuthorizationError,
    LedgerBridgeError,
    NotSupported,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from ledgerbridge.events import records
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import AuthorizationServer, ProviderSession, Tenant, TokenSet
from ledgerbridge.providerhttp import possessive, retry_after_seconds, transport_error
from ledgerbridge.settings import ProviderSettings, get_settings
from ledgerbridge.tables import Connection, ConnectionStatus, Membership, RunKind, utcnow

STATE_TTL_SECONDS = 15 * 60
STATE_SALT = "ledgerbridge.oauth-state"
REFRESH_MARGIN = timedelta(seconds=120)  # refresh this long before the access token expires
LEASE = timedelta(seconds=45)
TOKEN_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def callback_url() -> str:
    return f"{get_settings().base_url}/oauth/callback"


# --------------------------------------------------------------------------- state


def _state_serializer() -> URLSafeTimedSerializer:
    """Salted so a value signed with the same secret key for another purpose is never a valid state."""
    return URLSafeTimedSerializer(get_settings().secret_key, salt=STATE_SALT)


def sign_state(data: dict[str, Any]) -> str:
    return _state_serializer().dumps(dict(data, nonce=secrets.token_urlsafe(8)))


def read_state(state: str) -> dict[str, Any]:
    try:
        data = _state_serializer().loads(state, max_age=STATE_TTL_SECONDS)
    except SignatureExpired:
        raise LedgerBridgeError(
            "The sign-in took too long and expired.", fix="Start connecting again from Integrations."
        ) from None
    except BadData:  # a wrong signature, or no signed value at all
        raise LedgerBridgeError(
            "The sign-in link is not one LedgerBridge issued.", fix="Start connecting again from Integrations."
        ) from None
    return data


# --------------------------------------------------------------------------- the OAuth2 flow


async def declared_server(provider: str, settings: ProviderSettings, environment: str) -> AuthorizationServer | None:
    """The provider's declared authorization server, or None for a plugin that overrides every step."""
    registry = get_registry()
    if not registry.implements(provider, "authorization_server"):
        return None
    return await registry.call(provider, "authorization_server", settings=settings, environment=environment)


async def _server(provider: str, settings: ProviderSettings, environment: str, hook: str) -> AuthorizationServer:
    server = await declared_server(provider, settings, environment)
    if server is None:
        name = get_registry().provider(provider).name
        raise NotSupported(f"{name} neither declares an authorization server nor implements {hook}.")
    return server


async def uses_pkce(provider: str, settings: ProviderSettings, environment: str) -> bool:
    """The declaration decides; a plugin without one says so in `Capabilities.pkce`."""
    server = await declared_server(provider, settings, environment)
    return server.pkce if server is not None else get_registry().provider(provider).capabilities.pkce


async def consent_url(
    provider: str, *, settings: ProviderSettings, environment: str, redirect_uri: str, state: str,
    code_verifier: str | None,
) -> str:
    """Where to send the user to approve access: the plugin's override, else built from its declaration."""
    registry = get_registry()
    if registry.implements(provider, "authorization_url"):
        return await registry.call(provider, "authorization_url", settings=settings, environment=environment,
                                   redirect_uri=redirect_uri, state=state, code_verifier=code_verifier)
    server = await _server(provider, settings, environment, "authorization_url")
    return authorization_url_for(server, settings, redirect_uri=redirect_uri, state=state,
                                 code_verifier=code_verifier)


def authorization_url_for(
    server: AuthorizationServer, settings: ProviderSettings, *, redirect_uri: str, state: str,
    code_verifier: str | None,
) -> str:
    extra: dict[str, str] = dict(server.extra_authorize_params)
    if server.pkce and code_verifier:
        extra.update(code_challenge=create_s256_code_challenge(code_verifier), code_challenge_method="S256")
    return prepare_grant_uri(server.authorize_url, settings.client_id, "code", redirect_uri=redirect_uri,
                             scope=list(server.scopes) or None, state=state, **extra)


async def exchange_code(
    provider: str, *, settings: ProviderSettings, environment: str, code: str, redirect_uri: str,
    code_verifier: str | None, params: dict[str, str],
) -> TokenSet:
    """Trade the callback's code for tokens: the plugin's override, else at its declared token endpoint."""
    registry = get_registry()
    if registry.implements(provider, "exchange_code"):
        return await registry.call(provider, "exchange_code", settings=settings, environment=environment,
                                   code=code, redirect_uri=redirect_uri, code_verifier=code_verifier,
                                   params=params)
    server = await _server(provider, settings, environment, "exchange_code")
    fields = {"code": code, "code_verifier": code_verifier if server.pkce else None}
    return await request_tokens(server, settings, registry.provider(provider).name, "authorization_code",
                                redirect_uri=redirect_uri, **fields)


async def refresh(provider: str, *, settings: ProviderSettings, environment: str, refresh_token: str) -> TokenSet:
    """A fresh access token: the plugin's override, else at its declared token endpoint."""
    registry = get_registry()
    if registry.implements(provider, "refresh_token"):
        return await registry.call(provider, "refresh_token", settings=settings, environment=environment,
                                   refresh_token=refresh_token)
    server = await _server(provider, settings, environment, "refresh_token")
    return await request_tokens(server, settings, registry.provider(provider).name, "refresh_token",
                                refresh_token=refresh_token)


async def revoke(provider: str, *, session: ProviderSession, refresh_token: str) -> bool:
    """End the connection at the provider: the plugin's override, else at its declared revocation endpoint.

    False when the provider has no revocation endpoint or did not confirm; disconnecting goes on anyway.
    """
    registry = get_registry()
    if registry.implements(provider, "revoke_token"):
        return await registry.call(provider, "revoke_token", session=session, refresh_token=refresh_token)
    server = await _server(provider, session.settings, session.environment, "revoke_token")
    return await revoke_at(server, session.settings, refresh_token)


async def request_tokens(
    server: AuthorizationServer, settings: ProviderSettings, name: str, grant_type: str, *,
    redirect_uri: str | None = None, **fields: str | None,
) -> TokenSet:
    """One token-endpoint request (RFC 6749 4.1.3 or 6), its answer read by the declaration's rules.

    `name` is the provider's display name, for the error messages.
    """
    body = prepare_token_request(grant_type, redirect_uri=redirect_uri, **fields)
    headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded",
               **server.token_request_headers}
    url, headers, body = ClientAuth(settings.client_id, settings.client_secret, server.client_auth).prepare(
        "POST", server.token_url, headers, body)
    async with httpx.AsyncClient(timeout=TOKEN_TIMEOUT) as http:
        try:
            response = await http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise transport_error(name, exc, write=False) from exc
    try:
        answer = response.json() if response.content else None
    except ValueError:
        answer = None
    if response.status_code == 200:
        if isinstance(answer, dict) and answer.get("access_token"):
            return read_token_response(server, answer, previous_refresh=str(fields.get("refresh_token") or ""))
        raise ProviderUnavailable(f"{possessive(name)} sign-in service answered with something unreadable.",
                                  status=200)
    raise token_failure(server, name, response, answer if isinstance(answer, dict) else {},
                        refreshing=grant_type == "refresh_token", pkce=bool(fields.get("code_verifier")))


def token_failure(
    server: AuthorizationServer, name: str, response: httpx.Response, answer: dict[str, Any], *, refreshing: bool,
    pkce: bool,
) -> ProviderError:
    """What a refused token request means for the user: retry later, fix the app's keys, or reconnect."""
    status = response.status_code
    error = str(answer.get("error") or "")
    kw: dict[str, Any] = {"status": status, "provider_code": error or None}
    service = f"{possessive(name)} sign-in service"
    if status >= 500:
        return ProviderUnavailable(f"{service} reported an error on its side (HTTP {status}).", **kw)
    if status == 429:
        return RateLimited(f"{service} asked us to slow down.",
                           retry_after=retry_after_seconds(response.headers.get("retry-after")), **kw)
    if error == "invalid_client":
        return AuthorizationError(f"{name} did not recognise the app's client id and secret.",
                                  code="environment_mismatch", **kw)
    if refreshing:
        description = str(answer.get("error_description") or "").lower()
        expired = bool(server.expired_grant_marker) and server.expired_grant_marker.lower() in description
        return AuthorizationError(
            f"{name} no longer accepts this connection's refresh token"
            + (" (it expired)." if expired else " (it was revoked, replaced by a newer one, or the app was "
                                                "disconnected)."),
            code="token_expired" if expired else "token_revoked", **kw)
    if error in ("", "invalid_grant"):
        return AuthorizationError(
            f"{name} refused the sign-in code (it was used already or expired"
            + (", or the PKCE verifier did not match)." if pkce else ")."), code="token_revoked", **kw)
    return AuthorizationError(f"{name} refused the sign-in ({error}).", code="token_revoked", **kw)


def read_token_response(
    server: AuthorizationServer, token: dict[str, Any], *, previous_refresh: str = "", now: datetime | None = None,
) -> TokenSet:
    """A token answer as a `TokenSet`, with the lifetimes the declaration gives for what the answer omits.

    A refresh answer without a `refresh_token` keeps the one just used (the provider did not rotate it).
    """
    now = now or datetime.now(UTC)

    def after(key: str | None) -> datetime | None:
        value = token.get(key) if key else None
        return now + timedelta(seconds=int(value)) if value is not None else None

    access = str(token["access_token"])
    refresh_token = str(token.get("refresh_token") or previous_refresh)
    extra: dict[str, Any] = {key: token[key] for key in server.extra_keys if token.get(key)}
    if server.access_token_claims:
        claims = _unverified_claims(access)
        extra.update({name: str(claims[claim]) for claim, name in server.access_token_claims.items()
                      if claims.get(claim)})
    refresh_expires = after(server.refresh_expires_in_key)
    if refresh_expires is None and server.refresh_token_lifetime is not None and refresh_token:
        refresh_expires = now + server.refresh_token_lifetime
    return TokenSet(
        access_token=access,
        refresh_token=refresh_token,
        access_expires_at=after("expires_in") or now + server.access_token_lifetime,
        refresh_expires_at=refresh_expires,
        refresh_hard_expires_at=after(server.refresh_hard_expires_in_key),
        scope=str(token.get("scope") or ""),
        extra=extra,
    )


def _unverified_claims(token: str) -> dict[str, Any]:
    """A JWT access token's claims, unverified: only read to label the consent (e.g. Xero's
    `authentication_event_id`); the token came from the provider over TLS and it verifies it on every call."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


async def revoke_at(server: AuthorizationServer, settings: ProviderSettings, token: str) -> bool:
    """RFC 7009 revocation (or Intuit's JSON variant); True when the provider answered 200."""
    if not server.revoke_url:
        return False
    headers: dict[str, str] = {"Accept": "application/json"}
    if server.revoke_body == "json":
        payload: dict[str, str] = {"token": token}
        if server.revoke_token_hint:
            payload["token_type_hint"] = server.revoke_token_hint
        if server.client_auth == "client_secret_post":
            payload.update(client_id=settings.client_id, client_secret=settings.client_secret)
            url = server.revoke_url
        else:
            url, headers, _ = ClientAuth(settings.client_id, settings.client_secret, server.client_auth).prepare(
                "POST", server.revoke_url, headers, "")
        content = json.dumps(payload)
        headers["Content-Type"] = "application/json"
    else:
        content, headers = prepare_revoke_token_request(token, server.revoke_token_hint, headers=headers)
        url, headers, content = ClientAuth(settings.client_id, settings.client_secret, server.client_auth).prepare(
            "POST", server.revoke_url, headers, content)
    async with httpx.AsyncClient(timeout=TOKEN_TIMEOUT) as http:
        try:
            response = await http.post(url, content=content, headers=headers)
        except httpx.HTTPError:
            return False
    return response.status_code == 200


# --------------------------------------------------------------------------- connect


async def begin_connect(
    provider: str, *, workspace_id: int, user_id: int, environment: str, connection_id: int | None = None,
    return_to: str = "",
) -> str:
    """The URL to send the user to; `connection_id` makes it a reconnect of that connection.

    `return_to` rides in the signed state so the callback can send the user back to the page they
    started from without trusting anything the provider echoes.
    """
    settings = get_settings().provider(provider)
    state_data: dict[str, Any] = {"p": provider, "w": workspace_id, "u": user_id, "e": environment}
    if connection_id is not None:
        state_data["c"] = connection_id
    if return_to:
        state_data["r"] = return_to
    verifier = secrets.token_urlsafe(64) if await uses_pkce(provider, settings, environment) else None
    if verifier:
        state_data["v"] = vault.encrypt(verifier)
    return await consent_url(provider, settings=settings, environment=environment, redirect_uri=callback_url(),
                             state=sign_state(state_data), code_verifier=verifier)


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
    # The consent may have started before an owner removed this person from the workspace: without
    # this check they could still attach a company of theirs and receive the workspace's exports.
    if not await Membership.exists().where((Membership.user == user_id) & (Membership.workspace == state["w"])):
        raise LedgerBridgeError(
            "You are no longer a member of the workspace this connection was for.",
            fix="Ask an owner of the workspace to add you again, then start connecting from Integrations.",
            code="forbidden",
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
    tokens = await exchange_code(
        provider,
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
        await books.claim_if_free(connection)
        if len(tenants) == 1:
            await tx.emit(records.connection_changed(connection, "", ConnectionStatus.connected, ""))
            await tx.record(
                RunKind.import_all, workspace_id=connection.workspace, connection_id=connection.id,
                trigger=f"user:{user_id}", dedupe_key=f"import_all:{connection.id}",
            )
    if len(tenants) == 1:
        await _announce(connection, ConnectionStatus.connected, "")
        if existing is not None:  # a reconnect: what failed while it was broken goes again
            await reconnects.resume_after_reconnect(connection)
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
        await tx.emit(records.connection_changed(connection, "", ConnectionStatus.connected, ""))
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
    async with jobs.transaction() as tx:
        await Connection.update(
            {Connection.status: status, Connection.status_reason: reason, Connection.updated_at: utcnow()}
        ).where(Connection.id == connection.id)
        if connection.status != status:
            await tx.emit(records.connection_changed(connection, connection.status, status, reason))
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
        tokens = await refresh(
            connection.provider,
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
        metrics.token_refreshed(connection.provider, "refused")
        await set_status(connection, ConnectionStatus.needs_reconnect, exc.message)
        raise
    except BaseException:
        await _release_lease(connection.id)
        raise
    values: dict[Column | str, Any] = {
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
    metrics.token_refreshed(connection.provider, "ok")
    return tokens.access_token


async def _release_lease(connection_id: int) -> None:
    async with write_transaction():
        await Connection.update({Connection.refresh_lease_until: None}).where(Connection.id == connection_id)
