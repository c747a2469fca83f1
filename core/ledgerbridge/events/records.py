"""Events built from the rows they describe, so every place that emits one says the same things.

Each builder takes what the emitting code already holds (rows it just wrote, the provider's
answer) and reads nothing else, so building an event adds no query to the change's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.events.catalogue import (
    ConnectionChanged,
    CustomerChanged,
    Event,
    EventType,
    InvoiceExported,
    InvoiceExportFailed,
    InvoiceStatusChanged,
    InvoiceWarning,
    IssueChanged,
    ItemChanged,
    PaymentRecorded,
    PaymentVoided,
)
from ledgerbridge.provider import ExportResult, RemoteInvoice
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Connection, Customer, Invoice, Item, Payment, SyncIssue

CONNECTION_EVENTS = {
    "connected": EventType.connection_connected,
    "needs_reconnect": EventType.connection_needs_reconnect,
    "disconnected": EventType.connection_disconnected,
}


def invoice_exported(connection: Connection, invoice: Invoice, result: ExportResult, number: str,
                     warnings: Sequence[str]) -> Event:
    return Event(EventType.invoice_exported, connection.workspace, InvoiceExported(
        invoice_id=invoice.id, number=invoice.number, external_ref=invoice.external_ref, connection_id=connection.id,
        provider=connection.provider, remote_id=result.remote_id, remote_number=number, created=result.created,
        warnings=list(warnings),
    ))


def invoice_export_failed(connection: Connection, invoice: Invoice, error: LedgerBridgeError) -> Event:
    return Event(EventType.invoice_export_failed, connection.workspace, InvoiceExportFailed(
        invoice_id=invoice.id, number=invoice.number, external_ref=invoice.external_ref, connection_id=connection.id,
        provider=connection.provider, code=error.code, message=error.message, fix=error.fix,
    ))


def invoice_status_changed(connection: Connection, invoice: Invoice, remote: RemoteInvoice, old: str, new: str,
                           amount_paid: Decimal) -> Event:
    return Event(EventType.invoice_status_changed, connection.workspace, InvoiceStatusChanged(
        invoice_id=invoice.id, number=invoice.number, external_ref=invoice.external_ref, connection_id=connection.id,
        provider=connection.provider, remote_id=remote.remote_id, old_status=old, status=new,  # type: ignore[arg-type]
        total=invoice.total, amount_paid=amount_paid, balance=None if remote.deleted else remote.balance,
    ))


def invoice_warning(connection: Connection, invoice: Invoice, remote_id: str | None, warnings: Sequence[str]) -> Event:
    return Event(EventType.invoice_warning, connection.workspace, InvoiceWarning(
        invoice_id=invoice.id, number=invoice.number, external_ref=invoice.external_ref, connection_id=connection.id,
        provider=connection.provider, remote_id=remote_id, warnings=list(warnings),
    ))


def payment_recorded(connection: Connection, invoice: Invoice, payment: Payment, remote_id: str | None) -> Event:
    return Event(EventType.payment_recorded, connection.workspace, PaymentRecorded(
        payment_id=payment.id, invoice_id=invoice.id, invoice_external_ref=invoice.external_ref, amount=payment.amount,
        currency=invoice.currency, paid_on=payment.paid_on, method=payment.method, reference=payment.reference,
        connection_id=connection.id, provider=connection.provider, remote_id=remote_id,
    ))


def payment_voided(workspace_id: int, invoice: Invoice, payment: Payment, amount_paid: Decimal,
                   voided_in: Sequence[int], removed_in_provider: str | None = None) -> Event:
    return Event(EventType.payment_voided, workspace_id, PaymentVoided(
        payment_id=payment.id, invoice_id=invoice.id, invoice_external_ref=invoice.external_ref, amount=payment.amount,
        currency=invoice.currency, paid_on=payment.paid_on, reference=payment.reference, amount_paid=amount_paid,
        voided_in=list(voided_in), removed_in_provider=removed_in_provider,
    ))


def customer_changed(kind: str, connection: Connection, customer: Customer, remote_id: str | None) -> Event:
    """`kind`: created, updated or archived."""
    return customer_event(kind, connection, customer_id=customer.id, external_ref=customer.external_ref,
                          name=customer.name, email=customer.email, active=bool(customer.active), remote_id=remote_id)


def customer_event(kind: str, connection: Connection, *, customer_id: int, external_ref: str | None, name: str,
                   email: str, active: bool, remote_id: str | None) -> Event:
    """`customer_changed` from the values alone: a bulk import has them without a model instance
    (building thousands of those cost more than writing the rows)."""
    return Event(EventType(f"customer.{kind}"), connection.workspace, CustomerChanged(
        customer_id=customer_id, external_ref=external_ref, name=name, email=email, active=active,
        connection_id=connection.id, provider=connection.provider, remote_id=remote_id,
    ))


def item_changed(kind: str, connection: Connection, item: Item, remote_id: str | None) -> Event:
    """`kind`: created, updated or archived."""
    return Event(EventType(f"item.{kind}"), connection.workspace, ItemChanged(
        item_id=item.id, external_ref=item.external_ref, name=item.name, active=bool(item.active),
        connection_id=connection.id, provider=connection.provider, remote_id=remote_id,
    ))


def connection_changed(connection: Connection, previous: str, status: str, reason: str) -> Event:
    return Event(CONNECTION_EVENTS[status], connection.workspace, ConnectionChanged(
        connection_id=connection.id, provider=connection.provider, tenant_id=connection.tenant_id,
        tenant_name=connection.tenant_name, status=status, previous_status=previous,  # type: ignore[arg-type]
        reason=reason, reconnect_url=f"{get_settings().base_url}/integrations/{connection.id}",
    ))


def issue_changed(opened: bool, issue: SyncIssue) -> Event:
    return Event(EventType.issue_opened if opened else EventType.issue_resolved, issue.workspace, IssueChanged(
        issue_id=issue.id, code=issue.code, message=issue.message, fix=issue.fix, record_type=issue.record_type,
        record_id=issue.record_id, connection_id=issue.connection,
    ))
