"""OpenID Connect ID tokens (RS256) and the matching JWKS document.

Providers return an ``id_token`` when the ``openid`` scope is requested, and a careful client verifies
its signature against the provider's JWKS. The sandbox signs with a key generated at start-up, so a
client that verifies signatures works unchanged and one that skips verification is not rewarded by a
token that could never verify.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class IdTokenSigner:
    """Holds one RSA key; signs claims and publishes the public half as a JWKS."""

    def __init__(self, key_id: str | None = None, key_size: int = 2048) -> None:
        self.key_id = key_id or secrets.token_urlsafe(15)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)

    def sign(self, claims: Mapping[str, Any]) -> str:
        """Return a compact JWS (header.payload.signature) over ``claims``."""
        header = {"kid": self.key_id, "alg": "RS256"}
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
        )
        signature = self._key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)

    def jwks(self) -> dict[str, Any]:
        """The public key in JWKS form for the discovery document's ``jwks_uri``."""
        numbers = self._key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": self.key_id,
                    "n": _int_b64url(numbers.n),
                    "e": _int_b64url(numbers.e),
                }
            ]
        }
