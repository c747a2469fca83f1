"""The core's OAuth2 flow from a declared `AuthorizationServer`, the signed state, and the webhook HMAC helper.

The flow runs over real HTTP: against the bundled QuickBooks sandbox for a whole connect-refresh-revoke
round trip, and against a small recording server where the test must see exactly what went on the wire
(client authentication, PKCE, revocation bodies) or make the token endpoint fail in a chosen way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from ledgerbridge import oauth
from ledgerbridge.errors import AuthorizationError, LedgerBridgeError, ProviderUnavailable, RateLimited
from ledgerbridge.provider import AuthorizationServer
from ledgerbridge.settings import ProviderSettings
from ledgerbridge.webhook_signatures import HmacSignature
from ledgerbridge_quickbooks import plugin as quickbooks
from ledgerbridge_testing.consent import approve_consent
from ledgerbridge_testing.sandbox.server import serve
from litestar import Litestar, Request, Response, post

REDIRECT = "http://127.0.0.1:8000/oauth/quickbooks/callback"
VERIFIER = "core-flow-verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF"


def _jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.signature"


# --------------------------------------------------------------------------- against a bundled sandbox


async def test_the_generic_flow_connects_refreshes_and_revokes_against_the_qbo_sandbox():
    """A server declared here, not the plugin's: the flow needs nothing from a provider plugin."""
    demo = quickbooks.demo_sandbox(public_url="", webhook_url="http://127.0.0.1:1/webhooks/quickbooks")
    realm = next(iter(demo.app.sandbox.state.companies.values())).realm_id
    with serve(demo.app) as base:
        settings = ProviderSettings(key="sandbox-books", client_id=demo.client_id, client_secret=demo.client_secret,
                                    webhook_secret="", base_url=base)
        server = AuthorizationServer(
            authorize_url=f"{base}/connect/oauth2", token_url=f"{base}/oauth2/v1/tokens/bearer",
            revoke_url=f"{base}/v2/oauth2/tokens/revoke", scopes=("com.intuit.quickbooks.accounting",),
            revoke_body="json", refresh_expires_in_key="x_refresh_token_expires_in",
        )
        url = oauth.authorization_url_for(server, settings, redirect_uri=REDIRECT, state="st-1", code_verifier=None)
        callback = await approve_consent(url, f"{base}/connect/oauth2", {"realm_id": realm}, "Approve")
        assert callback["realmId"] == realm
        tokens = await oauth.request_tokens(server, settings, "Sandbox Books", "authorization_code",
                                            redirect_uri=REDIRECT, code=callback["code"])
        assert tokens.refresh_expires_at > tokens.access_expires_at > datetime.now(UTC)
        assert tokens.refresh_hard_expires_at is None  # not asked for: no token_request_headers declared
        with pytest.raises(AuthorizationError) as caught:  # a code works once
            await oauth.request_tokens(server, settings, "Sandbox Books", "authorization_code",
                                       redirect_uri=REDIRECT, code=callback["code"])
        assert caught.value.code == "token_revoked" and "Sandbox Books refused the sign-in code" in caught.value.message
        fresh = await oauth.request_tokens(server, settings, "Sandbox Books", "refresh_token",
                                           refresh_token=tokens.refresh_token)
        assert fresh.access_token != tokens.access_token and fresh.refresh_token
        wrong = ProviderSettings(key="sandbox-books", client_id=demo.client_id, client_secret="wrong",
                                 webhook_secret="", base_url=base)
        with pytest.raises(AuthorizationError) as caught:
            await oauth.request_tokens(server, wrong, "Sandbox Books", "refresh_token",
                                       refresh_token=fresh.refresh_token)
        assert caught.value.code == "environment_mismatch" and caught.value.provider_code == "invalid_client"
        assert await oauth.revoke_at(server, settings, fresh.refresh_token) is True
        with pytest.raises(AuthorizationError) as caught:
            await oauth.request_tokens(server, settings, "Sandbox Books", "refresh_token",
                                       refresh_token=fresh.refresh_token)
        assert caught.value.code == "token_revoked" and caught.value.provider_code == "invalid_grant"
        assert "Sandbox Books no longer accepts this connection's refresh token" in caught.value.message


async def test_an_unreachable_token_endpoint_is_provider_unavailable_and_revocation_just_fails():
    server = AuthorizationServer(authorize_url="http://127.0.0.1:9/a", token_url="http://127.0.0.1:9/t",
                                 revoke_url="http://127.0.0.1:9/r")
    settings = ProviderSettings(key="x", client_id="id", client_secret="s", webhook_secret="", base_url="")
    with pytest.raises(ProviderUnavailable) as caught:
        await oauth.request_tokens(server, settings, "Nowhere Books", "refresh_token", refresh_token="r")
    assert "Nowhere Books" in caught.value.message
    assert await oauth.revoke_at(server, settings, "r") is False
    assert await oauth.revoke_at(AuthorizationServer(authorize_url="a", token_url="t"), settings, "r") is False


# --------------------------------------------------------------------------- on the wire


class Recorder:
    """A token and revocation endpoint that records every request and answers what the test queued."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[tuple[int, bytes, dict[str, str]]] = []

    def answer(self, status: int, body: Any, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers.append((status, raw, headers))

    def app(self) -> Litestar:
        @post(["/token", "/revoke"], status_code=200)
        async def endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
            self.requests.append({"path": request.url.path, "headers": dict(request.headers),
                                  "body": await request.body()})
            status, raw, headers = self.answers.pop(0) if self.answers else (200, b"", {})
            return Response(raw, status_code=status, media_type="application/json", headers=headers)

        return Litestar(route_handlers=[endpoint])

    def form(self, index: int = -1) -> dict[str, str]:
        return dict(parse_qsl(self.requests[index]["body"].decode()))


@pytest.fixture
def recorder():
    rec = Recorder()
    with serve(rec.app()) as base:
        rec.base = base  # type: ignore[attr-defined]
        yield rec


SETTINGS = ProviderSettings(key="wire", client_id="the-client", client_secret="the-secret", webhook_secret="",
                            base_url="")


def _server(rec: Recorder, **fields: Any) -> AuthorizationServer:
    return AuthorizationServer(authorize_url="https://books.example/authorize", token_url=f"{rec.base}/token",
                               revoke_url=f"{rec.base}/revoke", **fields)


async def test_basic_auth_and_pkce_go_where_declared(recorder: Recorder):
    server = _server(recorder, scopes=("read", "write"), pkce=True, extra_authorize_params={"prompt": "consent"},
                     token_request_headers={"x-extra": "yes"})
    url = oauth.authorization_url_for(server, SETTINGS, redirect_uri=REDIRECT, state="signed", code_verifier=VERIFIER)
    params = dict(parse_qsl(urlsplit(url).query))
    expected = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
    assert params == {"response_type": "code", "client_id": "the-client", "redirect_uri": REDIRECT,
                      "scope": "read write", "state": "signed", "prompt": "consent", "code_challenge": expected,
                      "code_challenge_method": "S256"}
    recorder.answer(200, {"access_token": "a1", "refresh_token": "r1", "expires_in": 600})
    await oauth.request_tokens(server, SETTINGS, "Wire Books", "authorization_code", redirect_uri=REDIRECT,
                               code="c1", code_verifier=VERIFIER)
    sent = recorder.requests[-1]
    assert sent["headers"]["authorization"] == "Basic " + base64.b64encode(b"the-client:the-secret").decode()
    assert sent["headers"]["x-extra"] == "yes"
    assert recorder.form() == {"grant_type": "authorization_code", "redirect_uri": REDIRECT, "code": "c1",
                               "code_verifier": VERIFIER}


async def test_client_secret_post_puts_the_credentials_in_the_body(recorder: Recorder):
    server = _server(recorder, client_auth="client_secret_post")
    url = oauth.authorization_url_for(server, SETTINGS, redirect_uri=REDIRECT, state="s", code_verifier=VERIFIER)
    assert "code_challenge" not in url  # PKCE not declared: no challenge even with a verifier at hand
    recorder.answer(200, {"access_token": "a2"})
    tokens = await oauth.request_tokens(server, SETTINGS, "Wire Books", "refresh_token", refresh_token="r-old")
    assert "authorization" not in recorder.requests[-1]["headers"]
    assert recorder.form() == {"grant_type": "refresh_token", "refresh_token": "r-old", "client_id": "the-client",
                               "client_secret": "the-secret"}
    assert tokens.refresh_token == "r-old"  # not rotated: the one just used stays


async def test_revocation_as_an_rfc7009_form_or_as_json(recorder: Recorder):
    assert await oauth.revoke_at(_server(recorder, revoke_token_hint="refresh_token"), SETTINGS, "r1") is True
    assert recorder.form() == {"token": "r1", "token_type_hint": "refresh_token"}
    assert recorder.requests[-1]["headers"]["authorization"].startswith("Basic ")
    assert await oauth.revoke_at(_server(recorder, revoke_body="json"), SETTINGS, "r2") is True
    sent = recorder.requests[-1]
    assert json.loads(sent["body"]) == {"token": "r2"} and sent["headers"]["content-type"] == "application/json"
    assert sent["headers"]["authorization"].startswith("Basic ")
    await oauth.revoke_at(_server(recorder, revoke_body="json", client_auth="client_secret_post"), SETTINGS, "r3")
    assert json.loads(recorder.requests[-1]["body"]) == {"token": "r3", "client_id": "the-client",
                                                         "client_secret": "the-secret"}
    recorder.answer(400, {"error": "unsupported_token_type"})
    assert await oauth.revoke_at(_server(recorder), SETTINGS, "r4") is False


async def test_token_answers_are_read_by_the_declaration(recorder: Recorder):
    server = _server(recorder, access_token_lifetime=timedelta(minutes=30), refresh_token_lifetime=timedelta(days=60),
                     access_token_claims={"authentication_event_id": "auth_event_id"})
    access = _jwt({"authentication_event_id": "event-7", "sub": "u"})
    recorder.answer(200, {"access_token": access, "refresh_token": "r1", "id_token": "id.t.k", "scope": "a b"})
    before = datetime.now(UTC)
    tokens = await oauth.request_tokens(server, SETTINGS, "Wire Books", "authorization_code", redirect_uri=REDIRECT,
                                        code="c")
    assert tokens.extra == {"id_token": "id.t.k", "auth_event_id": "event-7"} and tokens.scope == "a b"
    assert before + timedelta(minutes=29) < tokens.access_expires_at <= datetime.now(UTC) + timedelta(minutes=30)
    assert before + timedelta(days=59) < tokens.refresh_expires_at <= datetime.now(UTC) + timedelta(days=60)
    qbo_like = _server(recorder, refresh_expires_in_key="x_refresh_token_expires_in",
                       refresh_hard_expires_in_key="x_refresh_token_hard_expires_in")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    read = oauth.read_token_response(qbo_like, {"access_token": "a", "refresh_token": "r", "expires_in": 3600,
                                                "x_refresh_token_expires_in": 8726400,
                                                "x_refresh_token_hard_expires_in": 86400}, now=now)
    assert read.access_expires_at == now + timedelta(hours=1)
    assert read.refresh_expires_at == now + timedelta(seconds=8726400)
    assert read.refresh_hard_expires_at == now + timedelta(days=1)
    never = oauth.read_token_response(_server(recorder), {"access_token": "a", "refresh_token": "r"}, now=now)
    assert never.refresh_expires_at is None and never.access_expires_at == now + timedelta(hours=1)


async def test_token_endpoint_failures_become_typed_errors_naming_the_provider(recorder: Recorder):
    server = _server(recorder, expired_grant_marker="expired")

    async def refresh() -> Exception:
        with pytest.raises(Exception) as caught:
            await oauth.request_tokens(server, SETTINGS, "Wire Books", "refresh_token", refresh_token="r")
        return caught.value

    recorder.answer(503, b"<html>down</html>")
    error = await refresh()
    assert isinstance(error, ProviderUnavailable) and error.status == 503 and "Wire Books'" in error.message
    recorder.answer(429, {"error": "slow_down"}, **{"retry-after": "17"})
    error = await refresh()
    assert isinstance(error, RateLimited) and error.retry_after == 17
    recorder.answer(400, {"error": "invalid_grant", "error_description": "Token expired after 100 days"})
    error = await refresh()
    assert isinstance(error, AuthorizationError) and error.code == "token_expired" and "(it expired)" in error.message
    recorder.answer(400, {"error": "invalid_grant", "error_description": "Token revoked"})
    error = await refresh()
    assert isinstance(error, AuthorizationError) and error.code == "token_revoked"
    assert error.provider_code == "invalid_grant" and "Wire Books no longer accepts" in error.message
    recorder.answer(401, {"error": "invalid_client"})
    error = await refresh()
    assert isinstance(error, AuthorizationError) and error.code == "environment_mismatch"
    recorder.answer(200, b"not json")
    error = await refresh()
    assert isinstance(error, ProviderUnavailable) and "unreadable" in error.message
    recorder.answer(400, {"error": "invalid_grant"})
    with pytest.raises(AuthorizationError) as caught:
        await oauth.request_tokens(server, SETTINGS, "Wire Books", "authorization_code", redirect_uri=REDIRECT,
                                   code="c", code_verifier=VERIFIER)
    assert caught.value.code == "token_revoked" and "PKCE verifier" in caught.value.message


# --------------------------------------------------------------------------- state


def test_state_round_trips_and_carries_a_nonce():
    state = oauth.sign_state({"p": "acme", "u": 3})
    data = oauth.read_state(state)
    assert data["p"] == "acme" and data["u"] == 3 and data["nonce"]
    assert oauth.sign_state({"p": "acme", "u": 3}) != state


@pytest.mark.parametrize("forge", [
    lambda s: s[:-2] + ("AA" if not s.endswith("AA") else "BB"),  # signature changed
    lambda s: "",  # no state at all
    lambda s: "not-a-state",
])
def test_a_forged_state_is_refused(forge):
    with pytest.raises(LedgerBridgeError) as caught:
        oauth.read_state(forge(oauth.sign_state({"p": "acme", "u": 3})))
    assert caught.value.message == "The sign-in link is not one LedgerBridge issued."


def test_a_state_signed_for_another_purpose_is_refused():
    from itsdangerous import URLSafeTimedSerializer
    from ledgerbridge.settings import get_settings

    other = URLSafeTimedSerializer(get_settings().secret_key, salt="something-else").dumps({"p": "acme", "u": 3})
    with pytest.raises(LedgerBridgeError) as caught:
        oauth.read_state(other)
    assert caught.value.message == "The sign-in link is not one LedgerBridge issued."


def test_an_expired_state_is_refused(monkeypatch):
    issued = time.time() - oauth.STATE_TTL_SECONDS - 5
    monkeypatch.setattr(time, "time", lambda: issued)
    state = oauth.sign_state({"p": "acme", "u": 3})
    monkeypatch.undo()
    with pytest.raises(LedgerBridgeError) as caught:
        oauth.read_state(state)
    assert caught.value.message == "The sign-in took too long and expired."
    monkeypatch.setattr(time, "time", lambda: issued + oauth.STATE_TTL_SECONDS - 5)
    assert oauth.read_state(state)["p"] == "acme"  # within 15 minutes it was fine


# --------------------------------------------------------------------------- webhook signatures

# RFC 4231 test case 2 (HMAC-SHA256).
RFC_KEY, RFC_DATA = "Jefe", b"what do ya want for nothing?"
RFC_HEX = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_hmac_signatures_in_hex_and_base64():
    hexed = HmacSignature("x-sig", encoding="hex")
    assert hexed.sign(RFC_KEY, RFC_DATA) == RFC_HEX
    assert hexed.verify(RFC_KEY, {"X-Sig": RFC_HEX.upper()}, RFC_DATA)
    b64 = HmacSignature("X-Signature")
    encoded = base64.b64encode(bytes.fromhex(RFC_HEX)).decode()
    assert b64.sign(RFC_KEY, RFC_DATA) == encoded
    assert b64.verify(RFC_KEY, {"x-signature": f" {encoded} "}, RFC_DATA)
    assert HmacSignature("h", digest="sha1", encoding="hex").sign(RFC_KEY, RFC_DATA) == (
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")


def test_a_webhook_signature_is_refused_when_anything_is_off():
    sig = HmacSignature("x-signature")
    good = {"x-signature": sig.sign("secret", b"body")}
    assert sig.verify("secret", good, b"body")
    assert not sig.verify("secret", good, b"body ")  # another body
    assert not sig.verify("other", good, b"body")  # another secret
    assert not sig.verify("", good, b"body")  # no secret configured: refuse everything
    assert not sig.verify("secret", {}, b"body")  # unsigned
    assert not sig.verify("secret", {"x-signature": "ünïcode"}, b"body")  # garbage never raises
    assert not sig.matches("", b"", "")
