"""Tokens at rest: encrypted with Fernet under keys from settings, rotatable.

`LEDGERBRIDGE_ENCRYPTION_KEYS` is a comma-separated list; the first key encrypts, every key
decrypts, so an operator rotates by putting a new key first and re-saving (`ledgerbridge rekey`
re-encrypts every stored token under the first key).
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.settings import get_settings


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(secret: str) -> str:
    if not secret:
        return ""
    return _fernet(get_settings().encryption_keys).encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(get_settings().encryption_keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise LedgerBridgeError(
            "A stored token cannot be decrypted with the configured encryption keys.",
            fix="Restore the LEDGERBRIDGE_ENCRYPTION_KEYS value this server used before (keep old keys after a "
            "new first key when rotating), or reconnect the integration.",
            code="token_expired",
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt under the first key (used by `ledgerbridge rekey`)."""
    if not token:
        return ""
    return _fernet(get_settings().encryption_keys).rotate(token.encode()).decode()
