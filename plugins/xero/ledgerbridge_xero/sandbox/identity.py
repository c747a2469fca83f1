"""Xero's identity layer: consents ("auth events"), connections, PKCE and JWT access tokens.

The shared :class:`~ledgerbridge_testing.sandbox.oauth.OAuthStore` handles codes, rotation with a grace period
and revocation. What is Xero's own lives here (FACTS Xero 1):

* one consent can cover several organisations; each becomes a *connection* (``id``, ``tenantId``,
  ``authEventId``) of the app, listed by ``GET /connections`` and removable one by one;
* PKCE (S256) binds the code to the ``code_verifier``;
* access tokens are JWTs whose ``authentication_event_id`` claim lets a client filter ``/connections``
  to the organisations it was just given;
* revoking a refresh token removes *all* the app's connections of that user.

The sandbox has one user, so connections are keyed by (client, tenant).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.idtoken import IdTokenSigner
from ledgerbridge_testing.sandbox.oauth import InvalidGrant, InvalidRequest, InvalidToken, IssuedTokens, OAuthStore

DEMO_USER_ID = "5e1c4b1a-0f7e-4b0f-9d33-6a3c0b1f2e11"
DEMO_USER_EMAIL = "demo.user@ledgerbridge.example"
_SIGNER: IdTokenSigner | None = None
_SIGNER_LOCK = threading.Lock()


def shared_signer() -> IdTokenSigner:
    """One RSA key per process: generating keys is slow and a sandbox needs no key separation."""
    global _SIGNER
    with _SIGNER_LOCK:
        if _SIGNER is None:
            _SIGNER = IdTokenSigner()
        return _SIGNER


def pkce_challenge(verifier: str) -> str:
    """S256: base64url(SHA-256(verifier)) without padding (RFC 7636)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


@dataclass
class AuthEvent:
    """One approval on the consent page."""

    auth_event_id: str
    client_id: str
    tenant_ids: tuple[str, ...]
    scopes: tuple[str, ...]
    code_challenge: str | None


@dataclass
class Connection:
    """An organisation connected to an app (identity spec ``Connection``)."""

    id: str
    client_id: str
    tenant_id: str
    tenant_name: str
    auth_event_id: str
    created: datetime
    updated: datetime

    def to_json(self) -> dict[str, str]:
        def iso(moment: datetime) -> str:
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"

        return {
            "id": self.id,
            "authEventId": self.auth_event_id,
            "tenantId": self.tenant_id,
            "tenantType": "ORGANISATION",
            "tenantName": self.tenant_name,
            "createdDateUtc": iso(self.created),
            "updatedDateUtc": iso(self.updated),
        }


@dataclass
class _AccessToken:
    opaque: str
    auth_event_id: str


@dataclass
class IdentityState:
    events: dict[str, AuthEvent] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # code -> auth event id
    connections: dict[tuple[str, str], Connection] = field(default_factory=dict)
    tokens: dict[str, _AccessToken] = field(default_factory=dict)  # JWT -> store token


@dataclass(frozen=True)
class ApiAccess:
    """A valid bearer token: which app, which consent, which scopes."""

    client_id: str
    auth_event_id: str
    scopes: tuple[str, ...]


class XeroIdentity:
    """Consents, connections and token minting on top of an :class:`OAuthStore`."""

    def __init__(self, store: OAuthStore, clock: SandboxClock, tenant_names: dict[str, str], issuer: str) -> None:
        self.store = store
        self.clock = clock
        self.tenant_names = tenant_names
        self.issuer = issuer
        self._state = IdentityState()
        self._lock = threading.RLock()

    # -- consent -----------------------------------------------------------------------------------

    def approve(
        self,
        client_id: str,
        redirect_uri: str,
        tenant_ids: tuple[str, ...],
        scopes: tuple[str, ...],
        code_challenge: str | None,
    ) -> str:
        """The user approved: remember the consent and hand out a code bound to it."""
        event = AuthEvent(str(uuid.uuid4()), client_id, tenant_ids, scopes, code_challenge)
        code = self.store.issue_code(client_id, redirect_uri, event.auth_event_id, scopes)
        with self._lock:
            self._state.events[event.auth_event_id] = event
            self._state.codes[code] = event.auth_event_id
        return code

    def exchange(
        self, client_id: str, code: str | None, redirect_uri: str | None, verifier: str | None
    ) -> IssuedTokens:
        """authorization_code grant with PKCE; on success the consent's organisations get connected."""
        client = self.store.client(client_id)
        assert client is not None
        with self._lock:
            event_id = self._state.codes.get(code or "")
            event = self._state.events.get(event_id or "")
        if event is not None and event.code_challenge is not None:
            if not verifier:
                raise InvalidGrant("code_verifier is required")
            if not 43 <= len(verifier) <= 128 or not secrets.compare_digest(
                pkce_challenge(verifier), event.code_challenge
            ):
                raise InvalidGrant("code_verifier does not match the code_challenge")
        elif verifier and event is not None:
            raise InvalidGrant("code_verifier sent but no code_challenge was given")
        issued = self.store.exchange_code(client, code, redirect_uri)
        assert event is not None
        now = self.clock.now()
        with self._lock:
            for tenant_id in event.tenant_ids:
                key = (client_id, tenant_id)
                current = self._state.connections.get(key)
                if current is None:
                    self._state.connections[key] = Connection(
                        str(uuid.uuid4()),
                        client_id,
                        tenant_id,
                        self.tenant_names.get(tenant_id, tenant_id),
                        event.auth_event_id,
                        now,
                        now,
                    )
                else:
                    current.auth_event_id = event.auth_event_id
                    current.updated = now
        return issued

    # -- tokens ------------------------------------------------------------------------------------

    def access_jwt(self, issued: IssuedTokens) -> str:
        """Wrap the store's token in a signed JWT carrying Xero's claims."""
        now = int(self.clock.now().timestamp())
        claims = {
            "nbf": now,
            "exp": now + issued.expires_in,
            "iss": self.issuer,
            "aud": f"{self.issuer}/resources",
            "client_id": issued.grant.client_id,
            "sub": DEMO_USER_ID.replace("-", ""),
            "auth_time": now,
            "xero_userid": DEMO_USER_ID,
            "global_session_id": uuid.uuid5(uuid.NAMESPACE_URL, issued.grant.grant_id).hex,
            "jti": secrets.token_hex(16),
            "authentication_event_id": issued.grant.subject,
            "scope": list(issued.grant.scopes),
        }
        token = shared_signer().sign(claims)
        with self._lock:
            self._state.tokens[token] = _AccessToken(issued.access_token, issued.grant.subject)
        return token

    def id_token(self, issued: IssuedTokens, nonce: str | None = None) -> str:
        now = int(self.clock.now().timestamp())
        claims = {
            "nbf": now,
            "exp": now + 300,
            "iss": self.issuer,
            "aud": issued.grant.client_id,
            "iat": now,
            "at_hash": secrets.token_urlsafe(16),
            "sid": issued.grant.grant_id,
            "sub": DEMO_USER_ID.replace("-", ""),
            "auth_time": now,
            "xero_userid": DEMO_USER_ID,
            "global_session_id": uuid.uuid5(uuid.NAMESPACE_URL, issued.grant.grant_id).hex,
            "preferred_username": DEMO_USER_EMAIL,
            "email": DEMO_USER_EMAIL,
            "given_name": "Demo",
            "family_name": "User",
        }
        if nonce:
            claims["nonce"] = nonce
        return shared_signer().sign(claims)

    def validate(self, bearer: str | None) -> ApiAccess:
        """Resolve a bearer JWT (raises InvalidToken with reason expired/revoked/invalid)."""
        with self._lock:
            entry = self._state.tokens.get(bearer or "")
        if entry is None:
            raise InvalidToken("unknown access token", reason="invalid")
        info = self.store.validate_access(entry.opaque)
        return ApiAccess(info.grant.client_id, entry.auth_event_id, info.grant.scopes)

    def expiry_of(self, bearer: str) -> float:
        with self._lock:
            entry = self._state.tokens[bearer]
        return self.store.validate_access(entry.opaque).expires_in

    # -- connections -------------------------------------------------------------------------------

    def connections(self, client_id: str, auth_event_id: str | None = None) -> list[Connection]:
        with self._lock:
            found = [c for c in self._state.connections.values() if c.client_id == client_id]
        if auth_event_id:
            found = [c for c in found if c.auth_event_id.lower() == auth_event_id.lower()]
        return sorted(found, key=lambda c: c.created)

    def connected(self, client_id: str, tenant_id: str) -> bool:
        with self._lock:
            return (client_id, tenant_id.lower()) in {(k[0], k[1].lower()) for k in self._state.connections}

    def disconnect(self, client_id: str, connection_id: str) -> bool:
        with self._lock:
            for key, connection in list(self._state.connections.items()):
                if connection.client_id == client_id and connection.id == connection_id:
                    del self._state.connections[key]
                    return True
        return False

    def revoke(self, client_id: str, token: str | None) -> None:
        """Revocation endpoint: the token's grant ends and all the app's connections go."""
        if not token:
            raise InvalidRequest("token is required")
        client = self.store.client(client_id)
        assert client is not None
        with self._lock:
            known = self._state.tokens.get(token)
        if not self.store.revoke(client, known.opaque if known else token):
            return
        with self._lock:
            for key in [k for k in self._state.connections if k[0] == client_id]:
                del self._state.connections[key]
        for grant in self.store.grants():
            if grant.client_id == client_id and not grant.revoked:
                grant.revoked = True

    def revoke_everything(self) -> int:
        """Fault injection / control API: every grant ends and every connection goes."""
        with self._lock:
            self._state.connections.clear()
        return self.store.revoke_all()

    def clear(self) -> None:
        with self._lock:
            self._state = IdentityState()
