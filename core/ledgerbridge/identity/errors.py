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


class PasswordChangeRequired(LedgerBridgeError):
    """Someone else chose this person's password (an owner's reset, the CLI, the first owner's
    generated one): until they choose their own, a session may do nothing else. Pages redirect to
    the change form; the API answers 403 with this code."""

    code = "password_change_required"

    def __init__(self) -> None:
        super().__init__(
            "Your password was set by someone else: choose your own before anything else.",
            fix="Change it at /account/password (or POST /auth/password with the password you were given).",
        )


class BadCredentials(LedgerBridgeError):
    code = "bad_credentials"

    def __init__(self) -> None:
        super().__init__(
            "The email or password is not right.",
            fix="Check both and try again; after 5 failed attempts sign-in pauses for 15 minutes.",
        )


class LoginThrottled(LedgerBridgeError):
    """Sign-in paused by one of the throttle's limits; the message says which, so people know
    whether waiting or another network helps."""

    code = "login_throttled"

    _WORDING = {
        "account": (
            "Too many failed sign-in attempts for this email. Try again in {wait}.",
            "Wait, then sign in with the right password; an owner can reset it with `ledgerbridge createadmin`.",
        ),
        "client": (
            "Too many sign-in attempts from your network. Try again in {wait}.",
            "Wait, then sign in once with the right password.",
        ),
        "server": (
            "The server is receiving too many sign-in attempts. Try again in {wait}.",
            "Wait a little and sign in again; an administrator can check the access log for a flood.",
        ),
    }

    def __init__(self, retry_after: float, scope: str = "account") -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        self.scope = scope
        minutes = max(1, (self.retry_after + 59) // 60)
        message, fix = self._WORDING.get(scope, self._WORDING["account"])
        super().__init__(message.format(wait=f"{minutes} minute{'s' if minutes != 1 else ''}"), fix=fix)


class SignInBusy(LedgerBridgeError):
    """Every password-hashing slot is taken and the queue is full: refused before any hashing."""

    code = "login_throttled"

    def __init__(self) -> None:
        self.retry_after = 2
        super().__init__(
            "The server is busy checking other sign-ins.",
            fix="Try again in a few seconds.",
        )


class CsrfRefused(LedgerBridgeError):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            "This request did not carry a valid CSRF token.",
            fix="Reload the page and submit again. Scripts should use an API key instead of a session cookie.",
        )


class SignInRefused(LedgerBridgeError):
    """Signing in with an OpenID Connect issuer did not go through.

    `reason` says which check refused (`state_mismatch`, `nonce_mismatch`, `expired`, `wrong_audience`,
    `bad_signature`, `email_unverified`, `unknown_email`...), so tests and logs can tell them apart
    while people read the message; `status` is the HTTP status the sign-in page answers with.
    """

    code = "sign_in_refused"

    def __init__(self, reason: str, message: str, *, fix: str, status: int = 400) -> None:
        self.reason = reason
        self.status = status
        super().__init__(message, fix=fix)
