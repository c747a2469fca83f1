"""The webhook endpoints API's request and response types (msgspec Structs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar.params import KwargDefinition
from msgspec import UNSET, Meta, Struct, UnsetType

from ledgerbridge.api.paging import Page

EventFilter = Annotated[
    list[str],
    Meta(description="Event types to send (`invoice.exported`, or a family like `invoice.*`); empty: every event."),
]


class EndpointIn(Struct):
    url: Annotated[str, Meta(min_length=1, max_length=2000, description="Where events are POSTed.")]
    description: Annotated[str, Meta(max_length=200)] = ""
    event_types: EventFilter = []


class EndpointUpdate(Struct):
    url: Annotated[str, Meta(min_length=1, max_length=2000)] | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    event_types: EventFilter | UnsetType = UNSET
    enabled: Annotated[bool, Meta(description="Enabling again retries what was left undelivered.")] | UnsetType = UNSET


class EndpointOut(Struct):
    id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str
    previous_secret_expires_at: Annotated[
        datetime | None, Meta(description="Until then deliveries are also signed with the previous secret.")
    ]
    pending: Annotated[int, Meta(description="Events waiting to be delivered.")]
    created_at: datetime
    updated_at: datetime


class EndpointSecretOut(Struct):
    endpoint: EndpointOut
    secret: Annotated[str, Meta(description="The signing secret (whsec_...). Shown this once; keep it safe.")]


class EndpointList(Struct):
    items: list[EndpointOut]


class AttemptOut(Struct):
    number: int
    status_code: int | None
    response_excerpt: str
    error: str
    latency_ms: int
    started_at: datetime


class DeliveryOut(Struct):
    id: int
    event_id: Annotated[str, Meta(description="The event's id, sent as `webhook-id`.")]
    event_type: str
    state: Annotated[str, Meta(description="pending, delivered or failed.")]
    attempts: list[AttemptOut]
    next_attempt_at: datetime | None
    delivered_at: datetime | None


DeliveryPage = Annotated[Page[DeliveryOut], KwargDefinition(schema_component_key="DeliveryPage")]


class TestResultOut(Struct):
    ok: bool
    status_code: int | None
    response_excerpt: str
    error: str
    latency_ms: int
