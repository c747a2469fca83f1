"""The API's request and response types, as msgspec Structs (Litestar's native types).

Money goes out as strings ("12.50") and comes in as a string or a JSON number; either way it is
parsed straight to `Decimal` (see `ledgerbridge.api.decoding`), so no amount ever passes through a
float. Partial updates use `UNSET` so "leave as is" and "set to null" stay different things.
Lists use offset pagination: `limit` and `offset` in the query, `total` in the answer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from litestar.openapi.datastructures import ResponseSpec
from msgspec import UNSET, Meta, Struct

# The one spelling of a decimal amount in a request, shared by the OpenAPI schema (`pattern`) and
# the request check (`ledgerbridge.api.decoding`), so the server accepts exactly what it documents.
MONEY_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
# What the server writes: plain digits, a minus sign for negatives, never an exponent.
MONEY_OUT_PATTERN = r"^-?\d+(\.\d+)?$"
MoneyIn = Annotated[
    Decimal,
    Meta(
        description="A decimal amount, as a string (preferred, e.g. \"12.50\") or a JSON number; parsed exactly, "
        "never via float.",
        examples=["12.50"],
        extra_json_schema={"extra": {"type": ["string", "number"], "format": "decimal", "pattern": MONEY_PATTERN}},
    ),
]
MoneyOut = Annotated[
    str,
    Meta(
        description="A decimal amount as a string.",
        examples=["12.50"],
        extra_json_schema={"extra": {"format": "decimal", "pattern": MONEY_OUT_PATTERN}},
    ),
]
Name = Annotated[str, Meta(min_length=1, max_length=255)]
Text120 = Annotated[str, Meta(max_length=120)]
Text254 = Annotated[str, Meta(max_length=254)]
Text255 = Annotated[str, Meta(max_length=255)]
Currency = Annotated[str, Meta(pattern="^[A-Z]{3}$", description="ISO 4217 code", examples=["USD"])]
ExternalRef = Annotated[
    str,
    Meta(min_length=1, max_length=120, description="The host app's own id for this record."),
]
Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]


# --------------------------------------------------------------------------- errors


class FieldErrorOut(Struct):
    field: str
    message: str


class ErrorOut(Struct):
    """Every error: a stable `code` to branch on, a `message` for people and how to `fix` it."""

    code: str
    message: str
    fix: str
    fields: list[FieldErrorOut] | None = None


_ERROR_DESCRIPTIONS = {
    400: "The request is invalid; `message` names the field.",
    401: "Not signed in, or the API key is missing, unknown or revoked.",
    403: "Signed in but not allowed: the role or the API key's scopes do not permit this (every route checks "
    "one), or a cookie-authenticated request lacks its CSRF token.",
    404: "No such record in this workspace.",
    409: "The record's state does not allow this (e.g. a draft cannot be exported).",
    410: "The link was used, revoked or has expired.",
    429: "Too many attempts; retry after the time in the message.",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the errors a handler can answer, so clients see them documented. Every
    API route can answer 400 (a malformed request), 401 and 403 (each declares a permission that a
    role or a key's scopes may lack)."""
    wanted = sorted({400, 401, 403, *codes})
    return {code: ResponseSpec(data_container=ErrorOut, description=_ERROR_DESCRIPTIONS[code]) for code in wanted}


def upsert_responses(created: type, *codes: int) -> dict[int, ResponseSpec]:
    """A create-or-update handler's documented answers: its 201 beside the 200 Litestar documents."""
    return {**error_responses(*codes), 201: ResponseSpec(data_container=created, description="Created.")}


# --------------------------------------------------------------------------- shared pieces


class LinkOut(Struct):
    """A record's counterpart in one connection."""

    connection_id: int
    provider: str
    remote_id: str | None
    remote_number: str
    state: str
    remote_data: dict[str, Any]
    message: str
    last_synced_at: datetime | None


class IssueOut(Struct):
    id: int
    connection_id: int | None
    run_id: int | None
    record_type: str | None
    record_id: int | None
    code: str
    message: str
    fix: str
    first_seen_at: datetime
    last_seen_at: datetime
    times: int
    resolved_at: datetime | None


class RunCountsOut(Struct):
    seen: int
    created: int
    updated: int
    linked: int
    skipped: int
    failed: int


class SyncRunOut(Struct):
    id: int
    connection_id: int | None
    kind: str
    trigger: str
    params: dict[str, Any]
    state: str
    counts: RunCountsOut
    progress_done: int
    progress_total: int
    error: str
    attempts: int
    created_at: datetime
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    not_before: datetime | None


# --------------------------------------------------------------------------- requests


def given_fields(data: Struct) -> dict[str, Any]:
    """The fields a request actually sent (`UNSET` ones left out), for partial updates."""
    return {name: value for name in data.__struct_fields__ if (value := getattr(data, name)) is not UNSET}
