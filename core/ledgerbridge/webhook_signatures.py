"""HMAC webhook signatures, checked one way for every provider.

Providers sign their webhooks with an HMAC of the body under a shared secret and differ only in the
header, the digest and how the MAC is written (base64 or hex). Getting the check subtly wrong is
easy (comparing with `==` leaks timing, accepting when no secret is configured accepts anything), so
plugins declare an `HmacSignature` and call it rather than each writing their own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class HmacSignature:
    """How one provider signs: `header` carries `encoding`(HMAC-`digest`(secret, message))."""

    header: str
    digest: str = "sha256"
    encoding: Literal["base64", "hex"] = "base64"

    def sign(self, secret: str, message: bytes) -> str:
        """The signature a provider would send for `message` (tests and sandboxes sign with it too)."""
        mac = hmac.new(secret.encode(), message, getattr(hashlib, self.digest)).digest()
        return base64.b64encode(mac).decode() if self.encoding == "base64" else mac.hex()

    def sent(self, headers: Mapping[str, str]) -> str:
        """The signature header's value, whatever case the server gave the header name; "" if absent."""
        wanted = self.header.lower()
        return next((value for key, value in headers.items() if key.lower() == wanted), "").strip()

    def matches(self, secret: str, message: bytes, signature: str) -> bool:
        """Constant-time check; False without a secret or a signature, so an unconfigured endpoint refuses."""
        if not secret or not signature:
            return False
        sent = signature.strip().lower() if self.encoding == "hex" else signature.strip()
        return hmac.compare_digest(self.sign(secret, message).encode(), sent.encode())

    def verify(self, secret: str, headers: Mapping[str, str], message: bytes) -> bool:
        """`matches` against the signature found in `headers`."""
        return self.matches(secret, message, self.sent(headers))
