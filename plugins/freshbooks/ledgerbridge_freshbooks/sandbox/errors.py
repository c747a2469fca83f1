"""FreshBooks' error bodies (FACTS.md "FreshBooks 7").

FreshBooks answers in several shapes depending on which of its services replies, and an integration must
read all of them:

* classic accounting: ``{"response":{"errors":[{"errno","field","message","object","value"}]}}``;
* newer google.rpc accounting: ``{"code", "message", "details":[{"@type", "reason", "domain", "metadata"}]}``;
* identity/OAuth: ``{"error", "error_description"}``;
* events (webhook callbacks): ``{"errno", "message"[, "details"]}``;
* business services (ledger accounts): ``{"errors":{"message","status","details":[...]}}``.

:class:`FbError` carries one problem and renders it in any of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: HTTP status -> google.rpc canonical code.
RPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 422: 3, 429: 8, 500: 13, 503: 14}

ERRNO_NOT_FOUND = 1012
ERRNO_UNAUTHENTICATED = 1003
ERRNO_INVALID = 1001
ERRNO_REQUIRED = 1004
ERRNO_CONFLICT = 1006
ERRNO_FORBIDDEN = 1002


@dataclass
class FbError(Exception):
    """One FreshBooks error; raised by the service and rendered by the routes."""

    status: int
    errno: int
    message: str
    object: str = ""
    field: str = ""
    value: str = ""

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)

    def classic(self) -> dict[str, Any]:
        """``{"response":{"errors":[...]}}``."""
        entry = {"errno": self.errno, "field": self.field, "message": self.message, "object": self.object,
                 "value": self.value}
        return {"response": {"errors": [entry]}}

    def rpc(self) -> dict[str, Any]:
        """The google.rpc form with an ErrorInfo detail."""
        return {
            "code": RPC_CODES.get(self.status, 2),
            "message": f"Request failed with status_code: {self.status}",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": str(self.errno),
                    "domain": "accounting.api.freshbooks.com",
                    "metadata": {"object": self.object, "message": self.message, "value": self.value,
                                 "field": self.field},
                }
            ],
        }

    def events(self) -> dict[str, Any]:
        """The events (callbacks) API form."""
        return {"errno": self.status, "message": self.message}

    def business(self) -> dict[str, Any]:
        """The business services form (ledger accounts)."""
        return {"errors": {"message": self.message, "status": self.status,
                           "details": [{"reason": str(self.errno), "metadata": {"field": self.field,
                                                                               "object": self.object}}]}}


def not_found(obj: str, field: str, value: object) -> FbError:
    """errno 1012, FreshBooks' "X not found."."""
    return FbError(404, ERRNO_NOT_FOUND, f"{obj.capitalize()} not found.", obj, field, str(value))


def invalid(obj: str, field: str, message: str, value: object = "") -> FbError:
    """A 422 validation error on one field."""
    return FbError(422, ERRNO_INVALID, message, obj, field, "" if value is None else str(value))


def required(obj: str, field: str) -> FbError:
    """A required field is missing."""
    return FbError(422, ERRNO_REQUIRED, f"Field {field} is required.", obj, field, "")


def conflict(obj: str, field: str, message: str, value: object = "") -> FbError:
    """409, e.g. two invoices claiming the same number."""
    return FbError(409, ERRNO_CONFLICT, message, obj, field, str(value))


def unauthenticated() -> FbError:
    """401 with reason 1003 (rendered in the google.rpc form by the gateway)."""
    return FbError(401, ERRNO_UNAUTHENTICATED, "This action requires authentication to continue.",
                   "", "", "")


def forbidden(account_id: str) -> FbError:
    """The token's user is not a member of the account."""
    return FbError(403, ERRNO_FORBIDDEN, "The server understood the request but refuses to authorize it.",
                   "account", "accountid", account_id)


def throttled() -> FbError:
    """429: FreshBooks publishes no body; this sandbox sends the classic shape."""
    return FbError(429, 429, "Too many requests. Please slow down.", "", "", "")
