"""Passwords: argon2 hashes, the length rule, email normalising, and signing in with both.

Unknown emails cost the same hash check as known ones, so response time does not reveal accounts.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ledgerbridge.api.errors import Invalid
from ledgerbridge.db import write_transaction
from ledgerbridge.identity import clock
from ledgerbridge.identity.errors import BadCredentials, LoginThrottled
from ledgerbridge.identity.throttling import clear_failures, record_failure, throttled_for
from ledgerbridge.tables import User

MIN_PASSWORD_LENGTH = 8

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
        await record_failure(email)
        raise BadCredentials()
    if not await asyncio.to_thread(_verify, user.password_hash, password):
        await record_failure(email)
        raise BadCredentials()
    await clear_failures(email)
    values: dict[Any, Any] = {User.last_login_at: clock.now()}
    if _hasher.check_needs_rehash(user.password_hash):
        values[User.password_hash] = await asyncio.to_thread(hash_password, password)
    async with write_transaction():
        await User.update(values).where(User.id == user.id)
    return user
