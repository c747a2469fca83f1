"""Xero's error bodies (FACTS Xero 1 "API auth failures" and Xero 7).

Validation failures are ``ValidationException`` (ErrorNumber 10) with the failing elements echoed
back; authentication problems use the problem-details shape Xero's identity layer answers with; a
missing resource is plain text. Every error is raised as :class:`XeroApiError` and rendered once.
"""

from __future__ import annotations

import uuid
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"
NOT_FOUND_TEXT = "The resource you're looking for cannot be found"


class XeroApiError(Exception):
    """An error response: HTTP status, body (JSON object or text) and extra headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body!r}")
        self.status = status
        self.body = body
        self.headers = headers or {}


class ElementInvalid(Exception):
    """One element of a batch failed validation; ``messages`` become its ``ValidationErrors``."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


def validation_exception(
    elements: list[dict[str, Any]], message: str = "A validation exception occurred"
) -> XeroApiError:
    """HTTP 400 ``ValidationException`` listing the failed elements with their ValidationErrors."""
    return XeroApiError(
        400, {"ErrorNumber": 10, "Type": "ValidationException", "Message": message, "Elements": elements}
    )


def simple_validation(message: str) -> XeroApiError:
    """A 400 about the request as a whole (no element to echo)."""
    return validation_exception([{"ValidationErrors": [{"Message": message}]}], message)


def post_data_invalid(message: str) -> XeroApiError:
    """Malformed body. The Type name is UNCONFIRMED (FACTS Xero 7); see the README."""
    return XeroApiError(400, {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": message})


def query_parse_error(message: str) -> XeroApiError:
    """Unreadable ``where``/``order``. The Type name is UNCONFIRMED (FACTS Xero 7)."""
    return XeroApiError(400, {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message})


def not_found() -> XeroApiError:
    """404 with Xero's plain-text body."""
    return XeroApiError(404, NOT_FOUND_TEXT)


def unauthorized(detail: str) -> XeroApiError:
    """401 problem body, e.g. ``TokenExpired: token expired at ...``."""
    return XeroApiError(
        401,
        {
            "Type": None,
            "Title": "Unauthorized",
            "Status": 401,
            "Detail": detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
        {"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def forbidden(detail: str = "AuthenticationUnsuccessful") -> XeroApiError:
    """403 for a missing or unconnected ``xero-tenant-id``, or a missing scope."""
    return XeroApiError(403, {"Title": "Forbidden", "Status": 403, "Detail": detail, "Instance": str(uuid.uuid4())})


def too_many_requests(problem: str, retry_after: int, headers: dict[str, str]) -> XeroApiError:
    """429 with ``Retry-After`` and ``X-Rate-Limit-Problem`` (JSON body shape UNCONFIRMED)."""
    return XeroApiError(
        429,
        {
            "Title": "Too Many Requests",
            "Status": 429,
            "Detail": f"Rate limit exceeded: {problem}",
            "Instance": str(uuid.uuid4()),
        },
        {**headers, "Retry-After": str(retry_after), "X-Rate-Limit-Problem": problem},
    )
