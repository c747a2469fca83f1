"""Sending one record to a provider exactly once.

Every write is recorded with its idempotency key before it is sent, held by one run at a time
(`claims.claim_write`); an answer settles it. A write left pending by a crash, or uncertain after a
timeout, is resent with the same key where the provider replays keys, and an invoice create is
first looked up by number, so nothing is ever created twice. `ensure_exported` is that step plus
the record's link, shared by customers, items, payments and time entries (invoices add batches and
numbers, in `exporting`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from ledgerbridge import connections
from ledgerbridge.errors import ProviderError, RateLimited
from ledgerbridge.jobs import RunContext, transaction
from ledgerbridge.provider import ExportResult, LinkRef, RemoteInvoice
from ledgerbridge.sync.claims import WrittenElsewhere, claim_write
from ledgerbridge.sync.lanes import one_at_a_time
from ledgerbridge.sync.links import fingerprint, get_link, link_ref, save_link, settle_write
from ledgerbridge.sync.retrying import Retries
from ledgerbridge.tables import Connection, LinkState, OutboundWrite, RecordType, WriteState


def is_retry(ctx: RunContext, write: OutboundWrite) -> bool:
    """Whether this write may already have reached the provider: sent before and never settled."""
    if write.state == WriteState.uncertain:
        return True
    return write.state == WriteState.pending and (write.run != ctx.run.id or write.attempt != ctx.run.claims)


Recorder = Callable[[ExportResult], Awaitable[None]]


async def write(ctx: RunContext, connection: Connection, record_type: str, record_id: int, operation: str,
                hook: str, number: str | None = None, record: Recorder | None = None,
                **kwargs: object) -> ExportResult:
    """Send one write with its recorded key, settling first a write that may already have landed.

    An invoice create that may have reached the provider is looked up by number before it is sent
    again, whatever the provider's idempotency: the earlier attempt may have gone out in a batch,
    whose key is not this invoice's own. Transient errors are retried here (`retrying`); `record`
    saves what the write means here (the link) in the transaction that settles it, so a record is
    never created there without being recorded here. A void or delete that may already have landed
    does not report the record `already_removed`: who removed it there cannot be told. Raises
    `claims.WrittenElsewhere` when another run wrote the record while this one waited for it.
    """
    write = await claim_write(ctx, connection, record_type, record_id, operation)
    assert write is not None, "claim_write waits until the write is ours"
    uncertain = is_retry(ctx, write)
    retries = Retries(ctx)
    lookup = bool(number) and record_type == RecordType.invoice and operation == "create"
    while True:
        try:
            if uncertain and lookup:
                found: RemoteInvoice | None = await connections.call(connection.id, "find_invoice", number=number)
                if found is not None and found.status != "draft":
                    result = ExportResult(remote_id=found.remote_id, version=found.version, number=found.number,
                                          created=True, record=found)
                    await applied(write, result, record)
                    return result
                if found is not None:  # created, but a later step of the write (mark as sent) is still to do
                    kwargs["link"] = LinkRef(remote_id=found.remote_id, remote_version=found.version,
                                             remote_number=found.number)
            await ctx.ensure_lease()
            result = await connections.call(connection.id, hook, idempotency_key=write.idempotency_key, **kwargs)
            if kwargs.get("link") is not None and operation == "create":
                result = replace(result, created=True)  # finishing our own create is still its creation
            if uncertain and result.already_removed:  # our own earlier attempt may be what removed it
                result = replace(result, already_removed=False)
        except RateLimited as exc:  # refused, so certainly not applied by this request
            try:
                await retries.pause(exc)
            except RateLimited:
                if not uncertain:
                    await settle_write(write, WriteState.failed, error=exc.message)
                raise
            continue
        except ProviderError as exc:
            if not exc.retryable:  # refused, so certainly not applied
                await settle_write(write, WriteState.failed, error=exc.message)
                raise
            # A timeout, a lost answer or a 5xx: it may have landed, so it is settled before it is resent.
            await settle_write(write, WriteState.uncertain, error=exc.message)
            uncertain = True
            await retries.pause(exc)
            continue
        await applied(write, result, record)
        return result


async def applied(write: OutboundWrite, result: ExportResult, record: Recorder | None) -> None:
    """Settle a write as applied and record its result here, in one transaction."""
    async with transaction():
        await settle_write(write, WriteState.applied, remote_id=result.remote_id)
        if record is not None:
            await record(result)


@dataclass(frozen=True)
class Exported:
    """The record's id in the provider; `result` is None when its link was current and nothing was sent."""

    remote_id: str
    result: ExportResult | None = None


async def ensure_exported(
    ctx: RunContext, connection: Connection, record_type: str, record_id: int, *, hook: str, argument: str,
    build: Callable[[], Awaitable[Any]], resend_changed: bool, warnings_on_link: bool = False,
) -> Exported:
    """Look the record's link up, send it with its recorded idempotency key when it needs sending,
    and save the link.

    A record the invoice only depends on (customer, item) is sent when it has no current link
    (`resend_changed=False`: its changes go by their own runs); a record that follows the invoice
    (payment, time entry) is sent again whenever what would be sent changed (`resend_changed=True`).
    `build` makes the provider-side value, and may raise when the record cannot be sent yet.
    """
    async with one_at_a_time(ctx, record_type, record_id):  # two lanes of this run needing it send it once
        return await _ensure_exported(ctx, connection, record_type, record_id, hook=hook, argument=argument,
                                      build=build, resend_changed=resend_changed,
                                      warnings_on_link=warnings_on_link)


async def _ensure_exported(
    ctx: RunContext, connection: Connection, record_type: str, record_id: int, *, hook: str, argument: str,
    build: Callable[[], Awaitable[Any]], resend_changed: bool, warnings_on_link: bool,
) -> Exported:
    link = await get_link(connection.id, record_type, record_id)
    if not resend_changed and link is not None and link.remote_id and link.state not in (
        LinkState.needs_sync, LinkState.error
    ):
        return Exported(link.remote_id)
    data = await build()
    if resend_changed and link is not None and link.remote_id and link.fingerprint == fingerprint(data):
        return Exported(link.remote_id)
    operation = "update" if link_ref(link) else "create"

    async def record(result: ExportResult) -> None:
        await save_link(
            workspace_id=connection.workspace, connection_id=connection.id, record_type=record_type,
            record_id=record_id, remote_id=result.remote_id, version=result.version,
            fingerprint_value=fingerprint(data), message="; ".join(result.warnings) if warnings_on_link else "",
        )

    try:
        result = await write(ctx, connection, record_type, record_id, operation, hook, record=record,
                             **{argument: data}, link=link_ref(link))
    except WrittenElsewhere as elsewhere:  # another run sent it at the same moment: its link is ours too
        assert elsewhere.link.remote_id is not None, "a link written elsewhere carries its remote id"
        return Exported(elsewhere.link.remote_id)
    return Exported(result.remote_id, result)
