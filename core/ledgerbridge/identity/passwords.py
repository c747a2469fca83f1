"""Passwords: argon2 hashes, the length rule, email normalising, and signing in with both.

Unknown emails cost the same hash check as known ones, so response time does not reveal accounts.
Argon2 is deliberately expensive, so hashing runs in a small pool of its own with a bounded queue:
a flood of sign-ins waits for (or is refused) a hashing slot instead of taking every CPU the API
needs, and the rest of the server keeps answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from litestar import Request

from ledgerbridge.api.errors import Invalid
from ledgerbridge.db import write_transaction
from ledgerbridge.identity import clock
from ledgerbridge.identity.errors import BadCredentials, LoginThrottled, SignInBusy
from ledgerbridge.identity.throttling import Refusal, cancelled, reserve, succeeded
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import User

MIN_PASSWORD_LENGTH = 8
NO_PASSWORD = "!"  # the stored hash of an account without a password (joined through an issuer): nothing matches it
HASHING_THREADS = 2
HASHING_QUEUE = 16  # sign-ins waiting for a thread beyond this are refused at once

# RFC 9106's second recommendation (3 passes over 64 MiB, 4 lanes). "fast" (argon2's cheapest profile)
# exists because a test run creates and signs in hundreds of accounts; a hash records its own
# parameters, so either setting verifies the other's hashes and sign-in upgrades a cheap one.
_HASHERS = {"standard": PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY),
            "fast": PasswordHasher.from_parameters(profiles.CHEAPEST)}
HASHING_NICENESS = 10


def _yield_to_requests() -> None:
    """Run this hashing thread (and the lane threads argon2 starts from it) below the threads that answer
    requests: a burst of sign-ins then waits for CPU instead of making every API call wait. Linux keeps a
    nice value per thread; elsewhere this is a no-op."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


_pool = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2", initializer=_yield_to_requests)
_queued = 0
T = TypeVar("T")


async def run_hashing(work: Callable[..., T], *args: str) -> T:
    """Run argon2 work in the bounded pool; `SignInBusy` when its queue is already full."""
    global _queued
    if _queued >= HASHING_THREADS + HASHING_QUEUE:
        raise SignInBusy()
    _queued += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(_pool, work, *args)
    finally:
        _queued -= 1


def _hasher() -> PasswordHasher:
    return _HASHERS[get_settings().password_hashing]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def has_password(password_hash: str) -> bool:
    """Whether the account can sign in with a password at all (`NO_PASSWORD` is not a hash)."""
    return bool(password_hash) and password_hash != NO_PASSWORD


def check_password_rules(password: str, field_name: str = "password") -> None:
    """Length is the rule that matters (NIST 800-63B); composition rules only annoy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(field_name, f"must be at least {MIN_PASSWORD_LENGTH} characters long")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash(hashing: str) -> str:
    """A hash to verify against for unknown emails, so response time does not reveal accounts."""
    return _HASHERS[hashing].hash(secrets.token_urlsafe(16))


def _verify_unknown(hashing: str, password: str) -> bool:
    """The check an unknown email costs, run in the hashing pool: the dummy hash is made there too on
    first use, as making it on the event loop (a full argon2 hash) stalled every request in flight at
    a burst's first unknown email."""
    _verify(_dummy_hash(hashing), password)
    return False


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalize_email(email: str, field_name: str = "email") -> str:
    """Emails are compared lower-cased: people do not remember how they capitalised them."""
    cleaned = email.strip().lower()
    if not _EMAIL.match(cleaned):
        raise Invalid(field_name, "is not an email address")
    return cleaned


def client_address(request: Request[Any, Any, Any]) -> str:
    """The address sign-in limits count against: the socket's peer (uvicorn puts a trusted proxy's
    `X-Forwarded-For` there), never a header a client could choose freely."""
    return request.client.host if request.client is not None else "unknown"


async def authenticate(email: str, password: str, *, client: str) -> User:
    """The user whose password this is, or `BadCredentials`; `LoginThrottled` while paused.

    `client` is the caller's network address. The attempt is reserved with the throttle before the
    password is hashed, and while paused the password is not even checked, so guessing cannot
    continue in the meantime. Unknown emails cost the same hash check and count the same way, so
    neither timing nor throttling tells an attacker which accounts exist.
    """
    email = email.strip().lower()
    reservation = await reserve(email, client)
    if isinstance(reservation, Refusal):
        raise LoginThrottled(reservation.wait, reservation.scope)
    try:
        user = await User.objects().where(User.email == email).first()
        if user is None or not user.is_active:
            await run_hashing(_verify_unknown, get_settings().password_hashing, password)
            raise BadCredentials()
        if not await run_hashing(_verify, user.password_hash, password):
            raise BadCredentials()
    except SignInBusy:
        await cancelled(reservation)
        raise
    await succeeded(reservation)
    values: dict[Any, Any] = {User.last_login_at: clock.now()}
    if _hasher().check_needs_rehash(user.password_hash):
        values[User.password_hash] = await run_hashing(hash_password, password)
    async with write_transaction():
        await User.update(values).where(User.id == user.id)
    return user
