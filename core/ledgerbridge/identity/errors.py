"""Refusals of identity and permission, typed like every LedgerBridge error."""

from __future__ import annotations

from ledgerbridge.errors import LedgerBridgeError


class NotSignedIn(LedgerBridgeError):
    code = "not_signed_in"

    def __init__(self, message: str | None = None, *, fix: str | None = None) -> None:
        super().__init__(
            message or "You are not signed in.",
            fix=fix or "Sign in, or send an API key as `Authorization: Bearer <key>` or `X-API-Key`.",
        )


class Forbidden(LedgerBridgeError):
    code = "forbidden"


class BadCredentials(LedgerBridgeError):
    code = "bad_credentials"

    def __init__(self) -> None:
        super().__init__(
            "The email or password is not right.",
            fix="Check both and try again; after 5 failed attempts sign-in pauses for 15 minutes.",
        )


class LoginThrottled(LedgerBridgeError):
    code = "login_throttled"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        minutes = max(1, (self.retry_after + 59) // 60)
        super().__init__(
            f"Too many failed sign-in attempts for this email. Try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''}.",
            fix="Wait, then sign in with the right password; an owner can reset it with `ledgerbridge createadmin`.",
        )


class CsrfRefused(LedgerBridgeError):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            "This request did not carry a valid CSRF token.",
            fix="Reload the page and submit again. Scripts should use an API key instead of a session cookie.",
        )
