"""The API's own refusals, typed like every LedgerBridge error (code, message, fix).

The app's exception handler turns the code into the HTTP status (see `ledgerbridge.app`), so a
handler only says what went wrong, in words a person can act on.
"""

from __future__ import annotations

from ledgerbridge.errors import LedgerBridgeError


class NotFound(LedgerBridgeError):
    """No such record in the caller's workspace. Another workspace's record is "not found" too,
    so ids cannot be probed across workspaces."""

    code = "not_found"

    def __init__(self, what: str, record_id: object) -> None:
        super().__init__(
            f"No {what} with id {record_id} in this workspace.",
            fix=f"Check the {what} id; list them with GET on the collection.",
        )


class Conflict(LedgerBridgeError):
    """The record exists but its state refuses the request (billed, in use, last owner...)."""

    code = "conflict"


class Invalid(LedgerBridgeError):
    """A well-formed request whose values do not hold together; `field` names the culprit."""

    code = "validation_failed"

    def __init__(self, field: str, message: str, *, fix: str | None = None) -> None:
        super().__init__(f"{field}: {message}", fix=fix or f"Correct `{field}` and send the request again.")
        self.field = field
        self.detail = message
