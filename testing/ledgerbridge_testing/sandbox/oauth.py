"""OAuth2 authorization-code and refresh-token bookkeeping for provider sandboxes.

Every provider LedgerBridge talks to uses the same OAuth2 shape with different lifetimes and rotation
rules, and most real-world token bugs come from those rules: a refresh token that rotated while the
app kept the old one, a reused authorization code, a refresh racing a revoke. :class:`OAuthStore`
implements the protocol state machine once, with the provider differences in :class:`TokenPolicy`:

* authorization codes are single-use and short-lived;
* access tokens expire after ``access_ttl`` simulated seconds;
* refresh tokens expire after ``refresh_ttl`` (rolling: each use restarts the period) and never beyond
  the grant's hard cap ``hard_ttl``;
* on refresh the refresh token rotates (always, or once it is older than ``rotation_interval``); a
  superseded token keeps working for ``grace_period`` seconds (0 for QBO, 30 min for Xero) and then
  fails with ``invalid_grant``;
* revoking any token of a grant ends the whole connection;
* a code issued with a PKCE challenge (RFC 7636) is exchanged only with the matching verifier;
* an OpenID Connect consent carries who signed in (:class:`SignIn`) from the code to its grant, so the
  sandbox's ID token and userinfo describe the person the tester chose on the consent page.

The store is transport-free: sandbox apps map :class:`OAuthError` to their provider's HTTP bodies.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ledgerbridge_testing.sandbox.clock import SandboxClock


class OAuthError(Exception):
    """An OAuth2 protocol error; ``error`` is the RFC 6749 code the client must receive."""

    status: int = 400
    error: str = "invalid_request"

    def __init__(self, description: str = "") -> None:
        super().__init__(description or self.error)
        self.description = description


class InvalidRequest(OAuthError):
    """Malformed request (missing parameter, bad redirect_uri)."""

    error = "invalid_request"


class InvalidClient(OAuthError):
    """Unknown client or wrong secret (HTTP 401)."""

    status = 401
    error = "invalid_client"


class InvalidGrant(OAuthError):
    """Code or refresh token unknown, used, expired, superseded or revoked."""

    error = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    """grant_type other than authorization_code / refresh_token."""

    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    """Requested scope is empty or not offered."""

    error = "invalid_scope"


class InvalidToken(OAuthError):
    """Access token unknown, expired or revoked (used by resource servers, HTTP 401)."""

    status = 401
    error = "invalid_token"

    def __init__(self, description: str = "", reason: str = "invalid") -> None:
        super().__init__(description)
        self.reason = reason  # "expired", "revoked" or "invalid"


@dataclass(frozen=True)
class TokenPolicy:
    """Lifetimes (simulated seconds) and rotation rules of one provider."""

    access_ttl: float = 3600.0
    refresh_ttl: float = 100 * 86400.0
    refresh_rolling: bool = True
    rotate_refresh_tokens: bool = True
    rotation_interval: float = 0.0
    grace_period: float = 0.0
    code_ttl: float = 300.0
    hard_ttl: float = 5 * 365 * 86400.0


@dataclass(frozen=True)
class OAuthClient:
    """A registered application.

    ``allow_loopback_redirects`` accepts any ``http://localhost`` / ``http://127.0.0.1`` redirect URI,
    which Intuit allows for development apps and which the demo client needs because the local
    LedgerBridge port is not known in advance.
    """

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    allow_loopback_redirects: bool = False

    def accepts_redirect(self, redirect_uri: str) -> bool:
        """Exact match against the registration, plus loopback URIs when allowed."""
        if redirect_uri in self.redirect_uris:
            return True
        if not self.allow_loopback_redirects:
            return False
        parsed = urlsplit(redirect_uri)
        return parsed.scheme == "http" and parsed.hostname in {"localhost", "127.0.0.1"} and not parsed.fragment


@dataclass(frozen=True)
class SignIn:
    """The person an OpenID Connect consent signed in: what the ID token and userinfo say about them.

    ``nonce`` is the client's value from the authorization request, echoed in the ID token.
    """

    user_id: str
    email: str
    email_verified: bool = True
    nonce: str | None = None


def s256_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(SHA-256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


@dataclass
class Grant:
    """One connection: a user's consent for one client to one subject (company, tenant...)."""

    grant_id: str
    client_id: str
    subject: str
    scopes: tuple[str, ...]
    created_at: float
    hard_expires_at: float
    revoked: bool = False
    sign_in: SignIn | None = None


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    subject: str
    scopes: tuple[str, ...]
    expires_at: float
    used: bool = False
    sign_in: SignIn | None = None
    code_challenge: str | None = None
    code_challenge_method: str = "plain"


@dataclass
class _Refresh:
    token: str
    grant_id: str
    issued_at: float
    expires_at: float
    superseded_at: float | None = None


@dataclass
class _Access:
    token: str
    grant_id: str
    expires_at: float


@dataclass(frozen=True)
class IssuedTokens:
    """What a token endpoint hands back (seconds are remaining simulated lifetimes)."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    hard_expires_in: int
    grant: Grant


@dataclass(frozen=True)
class AccessInfo:
    """A validated access token: which grant it belongs to and how long it has left."""

    grant: Grant
    expires_in: float


@dataclass
class _State:
    codes: dict[str, _Code] = field(default_factory=dict)
    refresh: dict[str, _Refresh] = field(default_factory=dict)
    access: dict[str, _Access] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    current_refresh: dict[str, str] = field(default_factory=dict)  # grant_id -> live refresh token


class OAuthStore:
    """Thread-safe in-memory OAuth2 server state (see module docstring)."""

    def __init__(
        self,
        clock: SandboxClock,
        policy: TokenPolicy | None = None,
        clients: Iterable[OAuthClient] = (),
        token_prefix: str = "",
    ) -> None:
        self.clock = clock
        self.policy = policy or TokenPolicy()
        self._clients: dict[str, OAuthClient] = {c.client_id: c for c in clients}
        self._state = _State()
        self._lock = threading.RLock()
        self._prefix = token_prefix

    # -- clients -----------------------------------------------------------------------------------

    def register_client(self, client: OAuthClient) -> None:
        """Add or replace a client registration."""
        with self._lock:
            self._clients[client.client_id] = client

    def client(self, client_id: str) -> OAuthClient | None:
        """Look a client up without authenticating it (authorize page)."""
        return self._clients.get(client_id)

    def authenticate_client(self, client_id: str | None, client_secret: str | None) -> OAuthClient:
        """Check client credentials; any mismatch is ``invalid_client``."""
        client = self._clients.get(client_id or "")
        if client is None or not secrets.compare_digest(client.client_secret, client_secret or ""):
            raise InvalidClient("client authentication failed")
        return client

    # -- authorization codes -----------------------------------------------------------------------

    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        subject: str,
        scopes: Iterable[str],
        *,
        sign_in: SignIn | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str = "plain",
    ) -> str:
        """Create a single-use authorization code after the user approved.

        ``code_challenge`` (PKCE, ``S256`` or ``plain``) binds the code to the client's verifier.
        """
        client = self._clients.get(client_id)
        if client is None:
            raise InvalidClient("unknown client")
        if not client.accepts_redirect(redirect_uri):
            raise InvalidRequest("redirect_uri is not registered for this client")
        if code_challenge and code_challenge_method not in ("S256", "plain"):
            raise InvalidRequest("code_challenge_method must be S256 or plain")
        code = self._prefix + "AB" + secrets.token_urlsafe(30)
        with self._lock:
            self._state.codes[code] = _Code(
                code=code,
                client_id=client_id,
                redirect_uri=redirect_uri,
                subject=subject,
                scopes=tuple(scopes),
                expires_at=self.clock.monotonic() + self.policy.code_ttl,
                sign_in=sign_in,
                code_challenge=code_challenge or None,
                code_challenge_method=code_challenge_method,
            )
        return code

    def exchange_code(
        self, client: OAuthClient, code: str | None, redirect_uri: str | None, code_verifier: str | None = None
    ) -> IssuedTokens:
        """authorization_code grant: the code must be fresh, unused, and bound to this client/URI
        (and to the PKCE verifier when the authorization request carried a challenge)."""
        if not code:
            raise InvalidRequest("code is required")
        now = self.clock.monotonic()
        with self._lock:
            entry = self._state.codes.get(code)
            if entry is None or entry.client_id != client.client_id:
                raise InvalidGrant("unknown authorization code")
            if entry.used:
                raise InvalidGrant("authorization code already used")
            entry.used = True
            if entry.expires_at <= now:
                raise InvalidGrant("authorization code expired")
            if redirect_uri != entry.redirect_uri:
                raise InvalidGrant("redirect_uri does not match the authorization request")
            if entry.code_challenge is not None:
                if not code_verifier:
                    raise InvalidGrant("code_verifier is required for this code")
                expected = s256_challenge(code_verifier) if entry.code_challenge_method == "S256" else code_verifier
                if not secrets.compare_digest(expected, entry.code_challenge):
                    raise InvalidGrant("code_verifier does not match the code_challenge")
            grant = Grant(
                grant_id=secrets.token_hex(8),
                client_id=client.client_id,
                subject=entry.subject,
                scopes=entry.scopes,
                created_at=now,
                hard_expires_at=now + self.policy.hard_ttl,
                sign_in=entry.sign_in,
            )
            self._state.grants[grant.grant_id] = grant
            refresh = self._new_refresh(grant, now)
            return self._issue(grant, refresh, now)

    # -- refresh -------------------------------------------------------------------------------------

    def refresh(self, client: OAuthClient, refresh_token: str | None) -> IssuedTokens:
        """refresh_token grant with rotation and an optional grace period for superseded tokens."""
        if not refresh_token:
            raise InvalidRequest("refresh_token is required")
        now = self.clock.monotonic()
        with self._lock:
            entry = self._state.refresh.get(refresh_token)
            if entry is None:
                raise InvalidGrant("unknown refresh token")
            grant = self._state.grants[entry.grant_id]
            if grant.client_id != client.client_id:
                raise InvalidGrant("refresh token was issued to another client")
            if grant.revoked:
                raise InvalidGrant("the connection was revoked")
            if entry.expires_at <= now or grant.hard_expires_at <= now:
                raise InvalidGrant("refresh token expired")
            if entry.superseded_at is not None and now - entry.superseded_at >= self.policy.grace_period:
                raise InvalidGrant("refresh token was superseded by a newer one")
            current = self._state.refresh[self._state.current_refresh[grant.grant_id]]
            rotate = self.policy.rotate_refresh_tokens and (
                entry.superseded_at is not None or now - current.issued_at >= self.policy.rotation_interval
            )
            if rotate:
                current_token = self._new_refresh(grant, now)
            else:
                if self.policy.refresh_rolling:
                    current.expires_at = min(now + self.policy.refresh_ttl, grant.hard_expires_at)
                current_token = current
            return self._issue(grant, current_token, now)

    def _new_refresh(self, grant: Grant, now: float) -> _Refresh:
        previous = self._state.current_refresh.get(grant.grant_id)
        if previous is not None:
            old = self._state.refresh[previous]
            if old.superseded_at is None:
                old.superseded_at = now
        token = self._prefix + "RT1-" + secrets.token_urlsafe(36)
        entry = _Refresh(
            token=token,
            grant_id=grant.grant_id,
            issued_at=now,
            expires_at=min(now + self.policy.refresh_ttl, grant.hard_expires_at),
        )
        self._state.refresh[token] = entry
        self._state.current_refresh[grant.grant_id] = token
        return entry

    def _issue(self, grant: Grant, refresh: _Refresh, now: float) -> IssuedTokens:
        access = self._prefix + "eyJ" + secrets.token_urlsafe(48)
        self._state.access[access] = _Access(access, grant.grant_id, now + self.policy.access_ttl)
        return IssuedTokens(
            access_token=access,
            refresh_token=refresh.token,
            expires_in=int(self.policy.access_ttl),
            refresh_expires_in=int(refresh.expires_at - now),
            hard_expires_in=int(grant.hard_expires_at - now),
            grant=grant,
        )

    # -- resource-server side ------------------------------------------------------------------------

    def validate_access(self, token: str | None) -> AccessInfo:
        """Resolve a bearer token to its grant or raise :class:`InvalidToken` with a reason."""
        if not token:
            raise InvalidToken("no access token", reason="invalid")
        now = self.clock.monotonic()
        with self._lock:
            entry = self._state.access.get(token)
            if entry is None:
                raise InvalidToken("unknown access token", reason="invalid")
            grant = self._state.grants[entry.grant_id]
            if grant.revoked:
                raise InvalidToken("access token revoked", reason="revoked")
            if entry.expires_at <= now:
                raise InvalidToken("access token expired", reason="expired")
            return AccessInfo(grant=grant, expires_in=entry.expires_at - now)

    # -- revocation ------------------------------------------------------------------------------------

    def revoke(self, client: OAuthClient, token: str | None) -> bool:
        """Revoke the grant behind an access or refresh token; False if the token is unknown.

        Unknown tokens are not an error (RFC 7009): the caller's goal, a dead token, is reached.
        """
        if not token:
            raise InvalidRequest("token is required")
        with self._lock:
            grant_id = None
            if token in self._state.refresh:
                grant_id = self._state.refresh[token].grant_id
            elif token in self._state.access:
                grant_id = self._state.access[token].grant_id
            if grant_id is None:
                return False
            grant = self._state.grants[grant_id]
            if grant.client_id != client.client_id:
                return False
            grant.revoked = True
            return True

    def revoke_all(self) -> int:
        """Fault injection: every connection ends (as when a user disconnects all apps)."""
        with self._lock:
            live = [g for g in self._state.grants.values() if not g.revoked]
            for grant in live:
                grant.revoked = True
            return len(live)

    def expire_access_tokens(self) -> int:
        """Fault injection: all access tokens expire now; refresh tokens still work."""
        now = self.clock.monotonic()
        with self._lock:
            count = 0
            for entry in self._state.access.values():
                if entry.expires_at > now:
                    entry.expires_at = now
                    count += 1
            return count

    def grants(self) -> list[Grant]:
        """Snapshot of all connections (accountant/control views)."""
        with self._lock:
            return list(self._state.grants.values())
