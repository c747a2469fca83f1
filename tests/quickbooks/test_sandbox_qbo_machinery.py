"""Unit tests of the provider-agnostic sandbox machinery (ledgerbridge_testing.sandbox).

Time is always simulated here: the clock is either frozen or driven by a fake real clock, so nothing
depends on the speed of the machine.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from ledgerbridge_quickbooks.sandbox.notifications import encode_body, legacy_payload
from ledgerbridge_quickbooks.sandbox.service import ChangeEvent
from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.clock import ClockError, SandboxClock
from ledgerbridge_testing.sandbox.faults import FaultKind, FaultRegistry, FaultRuleError
from ledgerbridge_testing.sandbox.idtoken import IdTokenSigner
from ledgerbridge_testing.sandbox.limits import ConcurrencyLimiter, LimitExceeded, SlidingWindowLimiter
from ledgerbridge_testing.sandbox.oauth import (
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidToken,
    OAuthClient,
    OAuthStore,
    TokenPolicy,
)
from ledgerbridge_testing.sandbox.webhooks import WebhookOutbox, sign_hmac_sha256_base64, verify_hmac_sha256_base64

# FACTS.md QBO 8, "Test vector" (from Intuit's Java SDK WebhooksServiceTest).
VECTOR_TOKEN = "b5771f19b12ddb4bcdb9f08bdc50bc63878a"
VECTOR_BODY = (
    '{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Customer",'
    '"id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}'
)
VECTOR_SIGNATURE = "JC2GUwciPmRBwEO7WvrRmKqu9tGOKL8FFallocTFi8Q="


class FakeRealTime:
    """A controllable stand-in for time.monotonic."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- clock -----------------------------------------------------------------------------------------------


def test_clock_scale_compresses_real_time() -> None:
    real = FakeRealTime()
    clock = SandboxClock(scale=60, start=datetime(2026, 1, 1, tzinfo=UTC), real_monotonic=real)
    real.now += 1.0
    assert clock.monotonic() == pytest.approx(60.0)
    assert clock.now() == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert clock.real_seconds(60) == pytest.approx(1.0)


def test_clock_frozen_moves_only_by_advance_and_never_backwards() -> None:
    real = FakeRealTime()
    clock = SandboxClock(scale=0, real_monotonic=real)
    real.now += 500
    assert clock.monotonic() == 0
    clock.advance(30)
    assert clock.monotonic() == 30
    with pytest.raises(ClockError):
        clock.advance(-1)


def test_clock_rescale_has_no_jump() -> None:
    real = FakeRealTime()
    clock = SandboxClock(scale=2, real_monotonic=real)
    real.now += 10
    clock.set_scale(100)
    assert clock.monotonic() == pytest.approx(20)
    real.now += 1
    assert clock.monotonic() == pytest.approx(120)


# -- limits ----------------------------------------------------------------------------------------------


def test_sliding_window_rejects_over_limit_and_recovers_as_window_slides() -> None:
    clock = SandboxClock(scale=0)
    limiter = SlidingWindowLimiter("rpm", 3, 60, clock)
    assert [limiter.hit("k").allowed for _ in range(3)] == [True, True, True]
    clock.advance(30)
    rejected = limiter.hit("k")
    assert not rejected.allowed
    assert rejected.retry_after == pytest.approx(30)
    assert limiter.hit("other").allowed  # keys are independent
    clock.advance(30)
    assert limiter.hit("k").allowed


def test_sliding_window_cost_counts_units() -> None:
    clock = SandboxClock(scale=0)
    limiter = SlidingWindowLimiter("rpm", 10, 60, clock)
    assert limiter.hit("k", cost=8).allowed
    assert not limiter.hit("k", cost=3).allowed
    assert limiter.remaining("k") == 2
    with pytest.raises(LimitExceeded):
        limiter.check("k", cost=3)


def test_concurrency_limiter_slots() -> None:
    limiter = ConcurrencyLimiter("c", 2)
    assert limiter.try_acquire("k") and limiter.try_acquire("k")
    assert not limiter.try_acquire("k")
    limiter.release("k")
    with limiter.slot("k"):
        assert limiter.in_flight("k") == 2
        with pytest.raises(LimitExceeded):
            with limiter.slot("k"):
                pass
    assert limiter.in_flight("k") == 1


# -- faults ----------------------------------------------------------------------------------------------


def test_fault_registry_counts_down_and_matches_prefix_and_method() -> None:
    registry = FaultRegistry()
    rule = registry.add(FaultKind.ERROR, "/v3/company/1/invoice", count=2, status=503, method="POST")
    assert registry.take("GET", "/v3/company/1/invoice") is None
    assert registry.take("POST", "/v3/company/1/customer") is None
    assert registry.take("POST", "/v3/company/1/invoice?x") is rule
    assert registry.take("POST", "/v3/company/1/invoice") is rule
    assert registry.take("POST", "/v3/company/1/invoice") is None
    assert rule.triggered == 2


def test_fault_registry_validates_rules() -> None:
    registry = FaultRegistry()
    with pytest.raises(FaultRuleError):
        registry.add("error", status=200)
    with pytest.raises(FaultRuleError):
        registry.add("slow", count=0)
    with pytest.raises(ValueError):
        registry.add("explode")


# -- OAuth store -----------------------------------------------------------------------------------------

CLIENT = OAuthClient("app", "secret", ("http://localhost/cb",))


def _store(**policy: float) -> tuple[OAuthStore, SandboxClock]:
    clock = SandboxClock(scale=0)
    return OAuthStore(clock, TokenPolicy(**policy), [CLIENT]), clock  # type: ignore[arg-type]


def test_oauth_code_is_single_use_and_bound_to_redirect() -> None:
    store, _ = _store()
    code = store.issue_code("app", "http://localhost/cb", "realm", ["s"])
    with pytest.raises(InvalidGrant):
        store.exchange_code(CLIENT, code, "http://localhost/other")
    # a failed exchange still burns the code, as a replayed code must never work
    with pytest.raises(InvalidGrant):
        store.exchange_code(CLIENT, code, "http://localhost/cb")
    code = store.issue_code("app", "http://localhost/cb", "realm", ["s"])
    assert store.exchange_code(CLIENT, code, "http://localhost/cb").grant.subject == "realm"
    with pytest.raises(InvalidGrant):
        store.exchange_code(CLIENT, code, "http://localhost/cb")


def test_oauth_code_expires() -> None:
    store, clock = _store(code_ttl=60)
    code = store.issue_code("app", "http://localhost/cb", "realm", ["s"])
    clock.advance(61)
    with pytest.raises(InvalidGrant):
        store.exchange_code(CLIENT, code, "http://localhost/cb")


def test_oauth_rotation_supersedes_old_refresh_token_without_grace() -> None:
    store, _ = _store()
    code = store.issue_code("app", "http://localhost/cb", "realm", ["s"])
    first = store.exchange_code(CLIENT, code, "http://localhost/cb")
    second = store.refresh(CLIENT, first.refresh_token)
    assert second.refresh_token != first.refresh_token
    with pytest.raises(InvalidGrant):
        store.refresh(CLIENT, first.refresh_token)
    assert store.refresh(CLIENT, second.refresh_token).refresh_token != second.refresh_token


def test_oauth_grace_period_allows_retry_with_previous_token() -> None:
    store, clock = _store(grace_period=1800)
    code = store.issue_code("app", "http://localhost/cb", "realm", ["s"])
    first = store.exchange_code(CLIENT, code, "http://localhost/cb")
    store.refresh(CLIENT, first.refresh_token)
    clock.advance(60)
    assert store.refresh(CLIENT, first.refresh_token).access_token
    clock.advance(1800)
    with pytest.raises(InvalidGrant):
        store.refresh(CLIENT, first.refresh_token)


def test_oauth_rotation_interval_keeps_token_until_due() -> None:
    store, clock = _store(rotation_interval=86400)
    code = store.issue_code("app", "http://localhost/cb", "realm", ["s"])
    first = store.exchange_code(CLIENT, code, "http://localhost/cb")
    assert store.refresh(CLIENT, first.refresh_token).refresh_token == first.refresh_token
    clock.advance(86400)
    assert store.refresh(CLIENT, first.refresh_token).refresh_token != first.refresh_token


def test_oauth_access_expiry_refresh_expiry_and_hard_cap() -> None:
    store, clock = _store(access_ttl=3600, refresh_ttl=1000 * 86400, hard_ttl=10 * 86400)
    code = store.issue_code("app", "http://localhost/cb", "realm", ["s"])
    tokens = store.exchange_code(CLIENT, code, "http://localhost/cb")
    assert tokens.refresh_expires_in == 10 * 86400  # capped by the hard expiry
    store.validate_access(tokens.access_token)
    clock.advance(3600)
    with pytest.raises(InvalidToken) as info:
        store.validate_access(tokens.access_token)
    assert info.value.reason == "expired"
    clock.advance(10 * 86400)
    with pytest.raises(InvalidGrant):
        store.refresh(CLIENT, tokens.refresh_token)


def test_oauth_revoke_ends_connection_and_client_auth() -> None:
    store, _ = _store()
    code = store.issue_code("app", "http://localhost/cb", "realm", ["s"])
    tokens = store.exchange_code(CLIENT, code, "http://localhost/cb")
    with pytest.raises(InvalidClient):
        store.authenticate_client("app", "wrong")
    with pytest.raises(InvalidRequest):
        store.revoke(CLIENT, None)
    assert store.revoke(CLIENT, tokens.refresh_token)
    with pytest.raises(InvalidToken):
        store.validate_access(tokens.access_token)
    with pytest.raises(InvalidGrant):
        store.refresh(CLIENT, tokens.refresh_token)
    assert not store.revoke(CLIENT, "unknown-token")


def test_oauth_loopback_redirects_only_when_allowed() -> None:
    strict = OAuthClient("a", "s", ("https://app.example/cb",))
    loose = OAuthClient("b", "s", (), allow_loopback_redirects=True)
    assert not strict.accepts_redirect("http://localhost:9000/cb")
    assert loose.accepts_redirect("http://localhost:9000/cb")
    assert loose.accepts_redirect("http://127.0.0.1/cb")
    assert not loose.accepts_redirect("http://evil.example/cb")


# -- webhooks --------------------------------------------------------------------------------------------


def test_intuit_signature_test_vector() -> None:
    assert sign_hmac_sha256_base64(VECTOR_TOKEN, VECTOR_BODY.encode()) == VECTOR_SIGNATURE
    assert verify_hmac_sha256_base64(VECTOR_TOKEN, VECTOR_BODY.encode(), VECTOR_SIGNATURE)
    assert not verify_hmac_sha256_base64(VECTOR_TOKEN, VECTOR_BODY.encode() + b" ", VECTOR_SIGNATURE)


def test_legacy_payload_builder_reproduces_the_documented_body() -> None:
    event = ChangeEvent("1185883450", "Customer", "1", "Create", "2015-10-05T14:42:19-07:00")
    body = encode_body(legacy_payload("1185883450", [event]))
    assert body.decode() == VECTOR_BODY
    assert sign_hmac_sha256_base64(VECTOR_TOKEN, body) == VECTOR_SIGNATURE


def test_facts_file_carries_the_same_vector(provider_specs) -> None:  # type: ignore[no-untyped-def]
    facts = (provider_specs / "FACTS.md").read_text(encoding="utf-8")
    assert VECTOR_TOKEN in facts and VECTOR_SIGNATURE in facts and VECTOR_BODY in facts


async def test_outbox_retries_on_schedule_and_holds_later_events() -> None:
    clock = SandboxClock(scale=0)
    outbox = WebhookOutbox(clock, retry_schedule=(10, 20))
    answers = [500, 200, 200]
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(answers.pop(0))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        outbox.enqueue("http://hook/a", b"first", {})
        outbox.enqueue("http://hook/a", b"second", {})
        attempted = await outbox.flush(client)
        assert [d.body for d in attempted] == [b"first"]  # second is held behind the failure
        assert await outbox.flush(client) == []  # not due before 10 s
        clock.advance(10)
        attempted = await outbox.flush(client)
    assert [d.body for d in attempted] == [b"first", b"second"]
    assert seen == [b"first", b"first", b"second"]
    assert [d.body for d in outbox.history()] == [b"first", b"second"]
    assert outbox.pending() == []


# -- JSON and ID tokens -----------------------------------------------------------------------------------


def test_jsoncodec_keeps_money_exact() -> None:
    data = jsoncodec.loads(b'{"a": 0.1, "b": 0.2, "n": 3}')
    assert data["a"] + data["b"] == Decimal("0.3")
    assert isinstance(data["n"], int)
    assert jsoncodec.dumps({"x": Decimal("100.10")}) == b'{"x":100.10}'
    with pytest.raises(jsoncodec.JSONBodyError):
        jsoncodec.loads(b'{"a": NaN}')


def test_id_token_verifies_against_jwks() -> None:
    signer = IdTokenSigner(key_size=2048)
    token = signer.sign({"sub": "u", "realmid": "123"})
    header_b64, payload_b64, signature_b64 = token.split(".")

    def unb64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    key = signer.jwks()["keys"][0]
    public = rsa.RSAPublicNumbers(
        int.from_bytes(unb64(key["e"]), "big"), int.from_bytes(unb64(key["n"]), "big")
    ).public_key()
    public.verify(unb64(signature_b64), f"{header_b64}.{payload_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert json.loads(unb64(payload_b64))["realmid"] == "123"
    assert json.loads(unb64(header_b64)) == {"kid": key["kid"], "alg": "RS256"}
