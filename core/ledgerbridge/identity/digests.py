"""Secrets (session ids, API keys) are stored only as their SHA-256, so a copy of the database
opens nothing."""

from __future__ import annotations

import hashlib


def digest(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()
