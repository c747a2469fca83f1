"""Sign-in throttling: every attempt is reserved before its password is hashed.

An attempt is counted when it starts, not when it fails: a reservation is taken in one serialised
write transaction, so a parallel burst cannot test more passwords than the limit allows (counting
after the hash let 30 parallel guesses through a limit of 5). A success gives its reservation back.

Four limits guard the password check, each a sliding window of rows in the shared `RateWindow`
table (so every server process sees the same counts):

* one account from one client: 5 failed attempts within 15 minutes pause that pair. A stranger on
  another address cannot lock the owner out this way;
* one account from anywhere: 20 failures within a minute pause the account for at most a minute,
  which caps guessing spread over many addresses while costing the owner only a short wait;
* one client, any accounts: 30 attempts a minute, so one address cannot spray many accounts;
* the whole server: 300 attempts a minute, so floods of sign-ins cannot starve the API of CPU.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from ledgerbridge.db import current_engine, write_transaction
from ledgerbridge.identity import clock
from ledgerbridge.tables import RateWindow

Scope = Literal["account", "client", "server"]


@dataclass(frozen=True)
class Limit:
    """`allowance` attempts within `window` seconds under the key `prefix` + its subject."""

    prefix: str
    window: int
    allowance: int
    scope: Scope
    failures_only: bool  # a success gives its reservation back


ACCOUNT_FROM_CLIENT = Limit("login:ac:", 15 * 60, 5, "account", failures_only=True)
ACCOUNT_ANYWHERE = Limit("login:a:", 60, 20, "account", failures_only=True)
CLIENT = Limit("login:c:", 60, 30, "client", failures_only=False)
SERVER = Limit("login:s:", 60, 300, "server", failures_only=False)
LIMITS = (ACCOUNT_FROM_CLIENT, ACCOUNT_ANYWHERE, CLIENT, SERVER)

# Kept for callers and messages that speak of the per-account rule.
MAX_FAILED_LOGINS = ACCOUNT_FROM_CLIENT.allowance


def _digest(text: str) -> str:
    # Hashed: the limiter table is shared and should not collect email or IP addresses.
    return hashlib.sha256(text.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Reservation:
    """The attempt's place in each window: given back on success where the limit counts failures."""

    keys: dict[str, str]  # limit prefix -> key
    at: int


@dataclass(frozen=True)
class Refusal:
    wait: float
    scope: Scope


def _keys(email: str, client: str) -> dict[str, str]:
    return {
        ACCOUNT_FROM_CLIENT.prefix: ACCOUNT_FROM_CLIENT.prefix + _digest(f"{client}\n{email}"),
        ACCOUNT_ANYWHERE.prefix: ACCOUNT_ANYWHERE.prefix + _digest(email),
        CLIENT.prefix: CLIENT.prefix + _digest(client),
        SERVER.prefix: SERVER.prefix + "all",
    }


async def _wait_for(limit: Limit, key: str, at: int) -> float:
    """Seconds until `key` has room for one more attempt under `limit`; 0 when it has now."""
    rows = (
        await RateWindow.select(RateWindow.window_start, RateWindow.calls.as_alias("calls"))
        .where((RateWindow.key == key) & (RateWindow.window_start > at - limit.window))
        .order_by(RateWindow.window_start, ascending=False)
    )
    seen = 0
    for row in rows:
        seen += row["calls"]
        if seen >= limit.allowance:
            return max(1.0, float(row["window_start"] + limit.window - at))
    return 0.0


async def _bump(key: str, at: int, by: int) -> None:
    hit = (
        await RateWindow.update({RateWindow.calls: RateWindow.calls + by})
        .where((RateWindow.key == key) & (RateWindow.window_start == at))
        .returning(RateWindow.id)
    )
    if not hit and by > 0:
        await RateWindow(key=key, window_start=at, calls=by).save()


async def reserve(email: str, client: str) -> Reservation | Refusal:
    """Take one attempt from every limit, or say which limit refuses and for how long.

    Check and count happen under one lock (SQLite's write lock; an advisory lock on PostgreSQL),
    so two parallel attempts can never both see the last free place.
    """
    keys = _keys(email, client)
    at = int(clock.now().timestamp())
    async with write_transaction():
        if current_engine().engine_type == "postgres":
            await RateWindow.raw("SELECT pg_advisory_xact_lock(hashtext({}))", "ledgerbridge:login")
        for limit in LIMITS:
            wait = await _wait_for(limit, keys[limit.prefix], at)
            if wait > 0:
                return Refusal(wait, limit.scope)
        for limit in LIMITS:
            await _bump(keys[limit.prefix], at, 1)
        longest = max(limit.window for limit in LIMITS)
        await RateWindow.delete().where(
            RateWindow.key.like("login:%") & (RateWindow.window_start <= at - longest)
        )
    return Reservation(keys, at)


async def succeeded(reservation: Reservation) -> None:
    """The password was right: the account's failure counts start again from nothing."""
    async with write_transaction():
        await RateWindow.delete().where(RateWindow.key == reservation.keys[ACCOUNT_FROM_CLIENT.prefix])
        await _bump(reservation.keys[ACCOUNT_ANYWHERE.prefix], reservation.at, -1)


async def cancelled(reservation: Reservation) -> None:
    """The attempt never reached a password check (the hashing pool was full): give it all back."""
    async with write_transaction():
        for limit in LIMITS:
            await _bump(reservation.keys[limit.prefix], reservation.at, -1)
