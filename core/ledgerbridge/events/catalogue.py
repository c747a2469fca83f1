"""The event catalogue: one type name, one version and one payload shape per event.

Payloads are versioned per type: a change that could break a receiver (a field removed or its
meaning changed) bumps the version, adding a field does not. Every envelope carries the same
outer fields (`id`, `type`, `version`, `timestamp`, `workspace_id`) so a receiver can route on
`type` and deduplicate on `id` (also sent as the `webhook-id` header) before it reads `data`.
Money is sent as decimal strings, as in the rest of the API.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct


class EventType(StrEnum):
    invoice_exported = "invoice.exported"
    invoice_export_failed = "invoice.export_failed"
    invoice_status_changed = "invoice.status_changed"
    invoice_warning = "invoice.warning"
    payment_recorded = "payment.recorded"
    payment_voided = "payment.voided"
    customer_created = "customer.created"
    customer_updated = "customer.updated"
    customer_archived = "customer.archived"
    item_created = "item.created"
    item_updated = "item.updated"
    item_archived = "item.archived"
    connection_connected = "connection.connected"
    connection_needs_reconnect = "connection.needs_reconnect"
    connection_disconnected = "connection.disconnected"
    sync_run_finished = "sync_run.finished"
    issue_opened = "issue.opened"
    issue_resolved = "issue.resolved"
    # Sent only by "send a test event"; never recorded in the outbox or the feed.
    webhook_test = "webhook.test"


# --------------------------------------------------------------------------- payloads (`data`)


class InvoiceExported(Struct):
    invoice_id: int
    number: str
    external_ref: str | None
    connection_id: int
    provider: str
    remote_id: str | None
    remote_number: str
    created: Annotated[bool, Meta(description="False when an existing copy in the books was updated.")]
    warnings: list[str]


class InvoiceExportFailed(Struct):
    invoice_id: int
    number: str
    external_ref: str | None
    connection_id: int
    provider: str
    code: str
    message: str
    fix: str


InvoiceState = Literal["draft", "open", "partially_paid", "paid", "void", "deleted"]


class InvoiceStatusChanged(Struct):
    invoice_id: int
    number: str
    external_ref: str | None
    connection_id: int
    provider: str
    remote_id: str | None
    old_status: Annotated[str, Meta(description="Empty when the status was not known before.")]
    status: InvoiceState
    total: Decimal
    amount_paid: Decimal
    balance: Decimal | None


class InvoiceWarning(Struct):
    invoice_id: int
    number: str
    external_ref: str | None
    connection_id: int
    provider: str
    remote_id: str | None
    warnings: Annotated[list[str], Meta(description="What differs: amount, number, currency or tax.")]


class PaymentRecorded(Struct):
    payment_id: int
    invoice_id: int
    invoice_external_ref: str | None
    amount: Decimal
    currency: str
    paid_on: date
    method: str
    reference: str
    connection_id: int
    provider: str
    remote_id: str | None


class PaymentVoided(Struct):
    payment_id: int
    invoice_id: int
    invoice_external_ref: str | None
    amount: Decimal
    currency: str
    paid_on: date
    reference: str
    amount_paid: Annotated[Decimal, Meta(description="What the invoice has been paid here without this payment.")]
    voided_in: Annotated[list[int], Meta(description="The books connections whose copy is being voided too; "
                                                    "empty when it never reached them.")]
    removed_in_provider: Annotated[str | None, Meta(
        description="Set when the bookkeeper deleted or voided the payment in the books (this provider) and "
                    "the read-back voided it here; null when it was voided here.")] = None


class CustomerChanged(Struct):
    customer_id: int
    external_ref: str | None
    name: str
    email: str
    active: bool
    connection_id: int
    provider: str
    remote_id: str | None


class ItemChanged(Struct):
    item_id: int
    external_ref: str | None
    name: str
    active: bool
    connection_id: int
    provider: str
    remote_id: str | None


class ConnectionChanged(Struct):
    connection_id: int
    provider: str
    tenant_id: str
    tenant_name: str
    status: Literal["connected", "needs_reconnect", "disconnected"]
    previous_status: str
    reason: str
    reconnect_url: Annotated[str, Meta(description="Where an owner reconnects it (the admin UI).")]


class SyncRunFinished(Struct):
    run_id: int
    kind: str
    state: Literal["done", "failed", "cancelled"]
    connection_id: int | None
    counts: dict[str, int]
    error: str


class IssueChanged(Struct):
    issue_id: int
    code: str
    message: str
    fix: str
    record_type: str | None
    record_id: int | None
    connection_id: int | None


class WebhookTest(Struct):
    endpoint_id: int
    message: str


@dataclass(frozen=True)
class EventSpec:
    """What the catalogue says about one type: its current version, payload and meaning."""

    type: EventType
    version: int
    data: builtins.type[Struct]
    description: str


CATALOGUE: dict[EventType, EventSpec] = {
    spec.type: spec
    for spec in [
        EventSpec(EventType.invoice_exported, 1, InvoiceExported, "An invoice was created or updated in the books."),
        EventSpec(EventType.invoice_export_failed, 1, InvoiceExportFailed,
                  "The books refused an invoice; `message` and `fix` say why and what to do."),
        EventSpec(EventType.invoice_status_changed, 1, InvoiceStatusChanged,
                  "An exported invoice's status in the books changed: open, partly paid, paid, void or deleted."),
        EventSpec(EventType.invoice_warning, 1, InvoiceWarning,
                  "The books' copy of an invoice differs from ours (amount, number, currency or tax)."),
        EventSpec(EventType.payment_recorded, 1, PaymentRecorded, "A payment recorded in the books was read back."),
        EventSpec(EventType.payment_voided, 1, PaymentVoided,
                  "A payment was voided here; its copy in the books is voided there too where the provider allows."),
        EventSpec(EventType.customer_created, 1, CustomerChanged, "A customer was created from the books."),
        EventSpec(EventType.customer_updated, 1, CustomerChanged, "A customer was updated from the books."),
        EventSpec(EventType.customer_archived, 1, CustomerChanged,
                  "A customer deleted or deactivated in the books was archived here."),
        EventSpec(EventType.item_created, 1, ItemChanged, "An item was created from the books."),
        EventSpec(EventType.item_updated, 1, ItemChanged, "An item was updated from the books."),
        EventSpec(EventType.item_archived, 1, ItemChanged, "An item deleted or deactivated in the books was archived."),
        EventSpec(EventType.connection_connected, 1, ConnectionChanged, "A connection to the books is working."),
        EventSpec(EventType.connection_needs_reconnect, 1, ConnectionChanged,
                  "The books refused the connection's tokens: an owner must reconnect (`reconnect_url`)."),
        EventSpec(EventType.connection_disconnected, 1, ConnectionChanged, "A connection was disconnected."),
        EventSpec(EventType.sync_run_finished, 1, SyncRunFinished, "A sync run ended, with its counts."),
        EventSpec(EventType.issue_opened, 1, IssueChanged, "A problem needing a person was opened on a record."),
        EventSpec(EventType.issue_resolved, 1, IssueChanged, "An open problem was resolved."),
        EventSpec(EventType.webhook_test, 1, WebhookTest, "Sent by \"send a test event\"; not in the feed."),
    ]
}


@dataclass(frozen=True)
class Event:
    """An event about to be recorded: its type, the workspace it belongs to, and its payload."""

    type: EventType
    workspace_id: int
    data: Struct

    def __post_init__(self) -> None:
        expected = CATALOGUE[self.type].data
        if not isinstance(self.data, expected):
            raise TypeError(f"{self.type} carries {expected.__name__}, not {type(self.data).__name__}")

    @property
    def version(self) -> int:
        return CATALOGUE[self.type].version


def encode_data(data: Struct) -> str:
    """JSON text of a payload, as stored in the outbox and sent (Decimal as strings)."""
    return msgspec.json.encode(data).decode()


# --------------------------------------------------------------------------- envelopes (OpenAPI)


class _Envelope(Struct, tag_field="type", kw_only=True):
    id: Annotated[str, Meta(description="Unique per event; also the `webhook-id` header. Deduplicate on it.")]
    version: int
    timestamp: datetime
    workspace_id: int
    cursor: Annotated[str, Meta(description="Pass as `after` to the events feed to read what follows.")]


class InvoiceExportedEvent(_Envelope, tag="invoice.exported"):
    data: InvoiceExported


class InvoiceExportFailedEvent(_Envelope, tag="invoice.export_failed"):
    data: InvoiceExportFailed


class InvoiceStatusChangedEvent(_Envelope, tag="invoice.status_changed"):
    data: InvoiceStatusChanged


class InvoiceWarningEvent(_Envelope, tag="invoice.warning"):
    data: InvoiceWarning


class PaymentRecordedEvent(_Envelope, tag="payment.recorded"):
    data: PaymentRecorded


class PaymentVoidedEvent(_Envelope, tag="payment.voided"):
    data: PaymentVoided


class CustomerCreatedEvent(_Envelope, tag="customer.created"):
    data: CustomerChanged


class CustomerUpdatedEvent(_Envelope, tag="customer.updated"):
    data: CustomerChanged


class CustomerArchivedEvent(_Envelope, tag="customer.archived"):
    data: CustomerChanged


class ItemCreatedEvent(_Envelope, tag="item.created"):
    data: ItemChanged


class ItemUpdatedEvent(_Envelope, tag="item.updated"):
    data: ItemChanged


class ItemArchivedEvent(_Envelope, tag="item.archived"):
    data: ItemChanged


class ConnectionConnectedEvent(_Envelope, tag="connection.connected"):
    data: ConnectionChanged


class ConnectionNeedsReconnectEvent(_Envelope, tag="connection.needs_reconnect"):
    data: ConnectionChanged


class ConnectionDisconnectedEvent(_Envelope, tag="connection.disconnected"):
    data: ConnectionChanged


class SyncRunFinishedEvent(_Envelope, tag="sync_run.finished"):
    data: SyncRunFinished


class IssueOpenedEvent(_Envelope, tag="issue.opened"):
    data: IssueChanged


class IssueResolvedEvent(_Envelope, tag="issue.resolved"):
    data: IssueChanged


class WebhookTestEvent(_Envelope, tag="webhook.test"):
    data: WebhookTest


AnyEvent = (
    InvoiceExportedEvent | InvoiceExportFailedEvent | InvoiceStatusChangedEvent | InvoiceWarningEvent
    | PaymentRecordedEvent | PaymentVoidedEvent | CustomerCreatedEvent | CustomerUpdatedEvent | CustomerArchivedEvent
    | ItemCreatedEvent | ItemUpdatedEvent | ItemArchivedEvent | ConnectionConnectedEvent
    | ConnectionNeedsReconnectEvent | ConnectionDisconnectedEvent | SyncRunFinishedEvent | IssueOpenedEvent
    | IssueResolvedEvent | WebhookTestEvent
)


def envelope_json(*, event_id: str, type: str, version: int, timestamp: datetime, workspace_id: int,
                  cursor: str, data_json: str) -> str:
    """The body every delivery and feed entry of one event carries, byte for byte the same."""
    head = msgspec.json.encode(
        {"id": event_id, "type": type, "version": version, "timestamp": timestamp, "workspace_id": workspace_id,
         "cursor": cursor}
    ).decode()
    return f"{head[:-1]},\"data\":{data_json}}}"


def decode_envelope(body: str) -> Any:
    """A stored envelope as its typed Struct (what the feed answers, documented in OpenAPI)."""
    return msgspec.json.decode(body, type=AnyEvent)
