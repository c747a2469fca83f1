"""The sign-in throttle under attack: parallel bursts, strangers locking owners out, sprays, floods.

Every attempt is reserved before argon2 runs, so these tests fire real parallel sign-ins (through
the HTTP app and through the service) and count how many passwords were actually checked.
"""

# ruff: noqa: F811

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from ledgerbridge.identity import clock as identity_clock
from ledgerbridge.identity import errors, passwords, throttling
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import RateWindow
from litestar.testing import AsyncTestClient

from tests.api.conftest import (  # noqa: F401  (fixtures)
    OWNER_PASSWORD,
    Tenant,
    app,
    client,
    sign_in,
    tenant,
)


async def test_a_parallel_burst_checks_no_more_passwords_than_the_limit(
    client: AsyncTestClient, tenant: Tenant
) -> None:
    guesses = [f"guess {n}" for n in range(29)] + [OWNER_PASSWORD]
    answers = await asyncio.gather(*(sign_in(client, tenant.owner_email, guess) for guess in guesses))
    statuses = [answer.status_code for answer in answers]
    checked = [status for status in statuses if status in (200, 401)]
    assert len(checked) <= throttling.MAX_FAILED_LOGINS, statuses
    assert statuses.count(429) >= len(guesses) - throttling.MAX_FAILED_LOGINS
    assert all(answer.json()["code"] == "login_throttled" for answer in answers if answer.status_code == 429)


async def test_a_stranger_cannot_lock_the_owner_out(tenant: Tenant) -> None:
    for n in range(throttling.MAX_FAILED_LOGINS):
        with pytest.raises(errors.BadCredentials):
            await passwords.authenticate(tenant.owner_email, f"guess {n}", client="203.0.113.9")
    with pytest.raises(errors.LoginThrottled) as paused:
        await passwords.authenticate(tenant.owner_email, OWNER_PASSWORD, client="203.0.113.9")
    assert paused.value.scope == "account"
    owner = await passwords.authenticate(tenant.owner_email, OWNER_PASSWORD, client="198.51.100.7")
    assert owner.id == tenant.owner_id


async def test_guesses_spread_over_many_addresses_pause_the_account_only_briefly(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = identity_clock.now()
    now = {"at": start}
    monkeypatch.setattr(identity_clock, "now", lambda: now["at"])
    for n in range(throttling.ACCOUNT_ANYWHERE.allowance):
        with pytest.raises(errors.BadCredentials):
            await passwords.authenticate(tenant.owner_email, "guess", client=f"203.0.113.{n}")
    with pytest.raises(errors.LoginThrottled) as paused:
        await passwords.authenticate(tenant.owner_email, OWNER_PASSWORD, client="198.51.100.7")
    assert paused.value.scope == "account" and paused.value.retry_after <= 60
    now["at"] = start + timedelta(seconds=throttling.ACCOUNT_ANYWHERE.window + 1)
    assert (await passwords.authenticate(tenant.owner_email, OWNER_PASSWORD, client="198.51.100.7")).id


async def test_one_address_cannot_spray_many_accounts(tenant: Tenant) -> None:
    for n in range(throttling.CLIENT.allowance):
        with pytest.raises(errors.BadCredentials):
            await passwords.authenticate(f"person{n}@example.com", "guess", client="203.0.113.50")
    with pytest.raises(errors.LoginThrottled) as refused:
        await passwords.authenticate(tenant.owner_email, OWNER_PASSWORD, client="203.0.113.50")
    assert refused.value.scope == "client"
    assert "from your network" in refused.value.message


async def test_a_server_wide_flood_is_refused_before_hashing(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    server = throttling.Limit(throttling.SERVER.prefix, 60, 8, "server", failures_only=False)
    monkeypatch.setattr(throttling, "LIMITS", (*throttling.LIMITS[:-1], server))
    outcomes = await asyncio.gather(
        *(passwords.authenticate(f"p{n}@example.com", "guess", client=f"192.0.2.{n}") for n in range(20)),
        return_exceptions=True,
    )
    assert sum(isinstance(o, errors.BadCredentials) for o in outcomes) == 8
    refused = [o for o in outcomes if isinstance(o, errors.LoginThrottled)]
    assert len(refused) == 12 and {o.scope for o in refused} == {"server"}


async def test_hashing_runs_in_a_bounded_pool(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHING_QUEUE", 1)
    # Production's cost: the suite's cheap hashes finish before the queue can fill.
    monkeypatch.setenv("LEDGERBRIDGE_PASSWORD_HASHING", "standard")
    get_settings.cache_clear()
    room = passwords.HASHING_THREADS + 1
    outcomes = await asyncio.gather(
        *(passwords.authenticate(f"q{n}@example.com", "guess", client=f"192.0.2.{n}") for n in range(12)),
        return_exceptions=True,
    )
    busy = [o for o in outcomes if isinstance(o, errors.SignInBusy)]
    assert sum(isinstance(o, errors.BadCredentials) for o in outcomes) >= room
    assert busy, outcomes
    # A refused attempt gave its reservation back: nothing counts against its account or address.
    victim = outcomes.index(busy[0])
    keys = throttling._keys(f"q{victim}@example.com", f"192.0.2.{victim}")
    rows = await RateWindow.select(RateWindow.calls.as_alias("calls")).where(
        RateWindow.key.is_in([keys[throttling.ACCOUNT_FROM_CLIENT.prefix], keys[throttling.CLIENT.prefix]])
    )
    assert sum(row["calls"] for row in rows) == 0
