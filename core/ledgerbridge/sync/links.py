"""External links and the write-ahead record of outbound writes.

`prepare_write` is what makes exports exactly-once: the write, and the idempotency key it will
carry, are committed before the provider is called. A retry after a crash finds that row and sends
the same key (providers with native idempotency replay their first answer), or, on providers
without, settles the uncertain write by looking the record up before sending anything.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, fields, is_dataclass
from functools import cache
from typing import Any

from ledgerbridge.bulk_rows import insert_new_rows, update_column_by_id
from ledgerbridge.db import fetch_raw, marks, write_transaction
from ledgerbridge.provider import ADDED_LATER, LinkRef
from ledgerbridge.tables import ExternalLink, LinkState, OutboundWrite, WriteState, utcnow


@cache
def _field_names(kind: Any) -> tuple[str, ...] | None:
    return tuple(f.name for f in fields(kind)) if is_dataclass(kind) else None


@cache
def _added_later(kind: Any) -> tuple[tuple[str, Any], ...]:
    """(name, default) of the dataclass's fields marked `ADDED_LATER`: left out while at their default."""
    return tuple((f.name, f.default) for f in fields(kind) if f.metadata.get("fingerprint") == ADDED_LATER[
        "fingerprint"]) if is_dataclass(kind) else ()


def _fields_or_text(value: Any) -> Any:
    """The JSON encoder's fallback: a dataclass as its fields, anything else it cannot encode as text."""
    names = _field_names(value.__class__)
    if names is None:
        return str(value)
    plain = getattr(value, "__dict__", None)
    if plain is None or len(plain) != len(names):  # slots, or something cached beside the fields
        plain = {name: getattr(value, name) for name in names}
    later = _added_later(value.__class__)
    if later:
        plain = dict(plain)
        for name, default in later:
            if plain[name] == default:
                del plain[name]
    return plain


#: `json.dumps(value, sort_keys=True, default=_fields_or_text)`, built once: the same text, without
#: making an encoder per call. Records are trees of frozen dataclasses, so no cycle check.
_CANONICAL = json.JSONEncoder(sort_keys=True, default=_fields_or_text, check_circular=False)


def fingerprint(value: Any) -> str:
    """A stable hash of what was sent or seen, to tell whether a record changed since.

    The same hash as before (stored fingerprints stay valid: `dataclasses.asdict`, then JSON with
    sorted keys and `str` for what JSON has no type for), but the C encoder walks the value and
    calls back only for dataclasses and such values, instead of a Python call per field, which
    took a third of a bulk import's time. A field added to a record type later (`ADDED_LATER`) counts
    only once it is set, so records sent before it existed keep their fingerprint."""
    return hashlib.sha256(_CANONICAL.encode(value).encode()).hexdigest()


async def get_link(connection_id: int, record_type: str, record_id: int) -> ExternalLink | None:
    return await ExternalLink.objects().where(
        (ExternalLink.connection == connection_id)
        & (ExternalLink.record_type == record_type)
        & (ExternalLink.record_id == record_id)
    ).first()


async def link_by_remote(connection_id: int, record_type: str, remote_id: str) -> ExternalLink | None:
    return await ExternalLink.objects().where(
        (ExternalLink.connection == connection_id)
        & (ExternalLink.record_type == record_type)
        & (ExternalLink.remote_id == remote_id)
    ).first()


def link_ref(link: ExternalLink | None) -> LinkRef | None:
    if link is None or not link.remote_id:
        return None
    return LinkRef(remote_id=link.remote_id, remote_version=link.remote_version, remote_number=link.remote_number)


async def save_link(
    *, workspace_id: int, connection_id: int, record_type: str, record_id: int, remote_id: str,
    state: LinkState = LinkState.synced, version: str = "", number: str = "", fingerprint_value: str = "",
    remote_data: dict[str, Any] | None = None, message: str = "",
) -> ExternalLink:
    """Create or update the one link of a record in a connection.

    Another run (an import, an export) may create the same link at the same moment: the row is
    added with ON CONFLICT DO NOTHING and then read back, so the loser updates the winner's row
    instead of failing on `externallink_one_per_record`.
    """
    now = utcnow()
    async with write_transaction():
        link = await get_link(connection_id, record_type, record_id)
        if link is None:
            await ExternalLink.insert(ExternalLink(
                workspace=workspace_id, connection=connection_id, record_type=record_type, record_id=record_id,
                remote_id=remote_id, state=state, created_at=now, updated_at=now,
            )).on_conflict(action="DO NOTHING")
            link = await get_link(connection_id, record_type, record_id)
        if link is None:  # not a race on this record: another record holds this remote id, which must show
            link = ExternalLink(workspace=workspace_id, connection=connection_id, record_type=record_type,
                                record_id=record_id, created_at=now)
        link.remote_id = remote_id
        link.state = state
        link.remote_version = version or link.remote_version or ""
        link.remote_number = number or link.remote_number or ""
        if fingerprint_value:
            link.fingerprint = fingerprint_value
        if remote_data is not None:
            link.remote_data = json.dumps(remote_data, default=str)
        link.message = message
        link.last_synced_at = now
        link.updated_at = now
        await link.save()
    return link


async def set_link_state(link: ExternalLink, state: LinkState, message: str = "") -> None:
    async with write_transaction():
        await ExternalLink.update(
            {ExternalLink.state: state, ExternalLink.message: message, ExternalLink.updated_at: utcnow()}
        ).where(ExternalLink.id == link.id)
    link.state, link.message = state, message


async def prepare_write(
    *, workspace_id: int, connection_id: int, run_id: int | None, record_type: str, record_id: int, operation: str,
    attempt: int = 0,
) -> OutboundWrite:
    """The unfinished write for this record and operation, or a new one with a fresh key.

    Runs that must not send a write another live run holds use `claims.claim_write` instead.
    """
    unfinished = (
        (OutboundWrite.connection == connection_id)
        & (OutboundWrite.record_type == record_type)
        & (OutboundWrite.record_id == record_id)
        & (OutboundWrite.operation == operation)
        & OutboundWrite.state.is_in([WriteState.pending, WriteState.uncertain])
    )
    async with write_transaction():
        existing = await OutboundWrite.objects().where(unfinished).first()
        if existing is not None:
            return existing
        await OutboundWrite.insert(OutboundWrite(
            workspace=workspace_id, connection=connection_id, run=run_id, attempt=attempt, record_type=record_type,
            record_id=record_id, operation=operation, idempotency_key=new_write_key(),
            state=WriteState.pending, created_at=utcnow(),
        )).on_conflict(action="DO NOTHING")  # a concurrent run's row wins (`outboundwrite_one_open`)
        write = await OutboundWrite.objects().where(unfinished).first()
        assert write is not None, "the write was just inserted, or another run's row was there"
    return write


def new_write_key() -> str:
    """A fresh idempotency key for a write; providers that replay keys answer a resend with the first answer."""
    return f"lb-{uuid.uuid4().hex}"


async def settle_write(write: OutboundWrite, state: WriteState, *, remote_id: str | None = None,
                       error: str = "") -> None:
    values: dict[Any, Any] = {OutboundWrite.state: state, OutboundWrite.error: error}
    if state in (WriteState.applied, WriteState.failed):
        values[OutboundWrite.finished_at] = utcnow()
    if remote_id is not None:
        values[OutboundWrite.remote_id] = remote_id
    async with write_transaction():
        await OutboundWrite.update(values).where(OutboundWrite.id == write.id)
    write.state = state


async def settle_applied(writes: list[tuple[OutboundWrite, str]]) -> None:
    """`settle_write(write, applied, remote_id=...)` for a batch's writes in one statement, inside the
    caller's transaction (the one that records what they mean here)."""
    if not writes:
        return
    await update_column_by_id(OutboundWrite, "remote_id", {write.id: remote_id for write, remote_id in writes}, {
        "state": WriteState.applied, "error": "", "finished_at": utcnow()})
    for write, _ in writes:
        write.state = WriteState.applied


@dataclass(frozen=True)
class LinkValues:
    """One record's link as `save_link` writes it after an export."""

    record_id: int
    remote_id: str
    version: str
    number: str
    fingerprint: str
    remote_data: dict[str, Any]
    message: str


async def save_links(*, workspace_id: int, connection_id: int, record_type: str, links: list[LinkValues]) -> None:
    """`save_link` (state synced) for many records of one type, inside the caller's transaction: the
    links none of them had yet are inserted in one statement; a record that had one already, or
    whose link another run created meanwhile, goes through `save_link`."""
    if not links:
        return
    now = utcnow()
    ids = [values.record_id for values in links]
    existing = {row["record_id"] for row in await fetch_raw(  # raw: Piccolo built the `IN` list a value at a time
        f'SELECT record_id FROM {ExternalLink._meta.tablename} WHERE "connection" = ? AND record_type = ? '
        f'AND record_id IN ({marks(ids)})', connection_id, record_type, *ids)}
    new = [values for values in links if values.record_id not in existing]
    columns = ["workspace", "connection", "record_type", "record_id", "remote_id", "remote_version", "remote_number",
               "fingerprint", "state", "remote_data", "message", "last_synced_at", "created_at", "updated_at"]
    added = await insert_new_rows(ExternalLink, columns, [
        (workspace_id, connection_id, record_type, values.record_id, values.remote_id, values.version, values.number,
         values.fingerprint, LinkState.synced, json.dumps(values.remote_data, default=str), values.message, now, now,
         now) for values in new], key="record_id")
    for values in links:
        if values.record_id not in added:
            await save_link(workspace_id=workspace_id, connection_id=connection_id, record_type=record_type,
                            record_id=values.record_id, remote_id=values.remote_id, version=values.version,
                            number=values.number, fingerprint_value=values.fingerprint,
                            remote_data=values.remote_data, message=values.message)
