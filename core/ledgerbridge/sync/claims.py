"""One run at a time sends a record: the claim on its open write.

Two export runs of one connection may need the same customer or item at the same moment (two bulk
exports of invoices to one client), or the same invoice (a bulk export and a single one). Each
record's unsettled write is unique (the ``outboundwrite_one_open`` index), so the first run to
record it holds it; the other waits while the holder is alive and then uses what the holder wrote
(the link it saved), or takes the write over when the holder died, treating it as possibly sent.
A write is settled and its link saved in one transaction (`outbound.write`), so "no open write and
no link" always means nobody has sent the record yet.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from piccolo.columns.combination import Combinable

from ledgerbridge.bulk_rows import insert_new_rows
from ledgerbridge.db import fetch_raw, marks, write_transaction
from ledgerbridge.errors import ProviderUnavailable
from ledgerbridge.jobs import RunContext
from ledgerbridge.row_objects import fetched, unsaved
from ledgerbridge.sync.links import get_link, new_write_key
from ledgerbridge.tables import Connection, ExternalLink, OutboundWrite, RunState, SyncRun, WriteState, utcnow

#: Seconds between looks at a write another run holds.
POLL = 0.2
#: Waiting longer than this for another run's write, this run rather waits in the queue.
LONGEST_WAIT = 120.0


class WrittenElsewhere(Exception):
    """Another run sent this record while this one waited: use its link, send nothing."""

    def __init__(self, link: ExternalLink):
        super().__init__(f"{link.record_type} {link.record_id} was written by another run")
        self.link = link


async def claim_write(ctx: RunContext, connection: Connection, record_type: str, record_id: int, operation: str,
                      *, wait: bool = True) -> OutboundWrite | None:
    """This record's open write, held by this run (new, or taken over from a run that died).

    While another live run holds it, waits (`wait`) or returns None. Raises `WrittenElsewhere` when
    another run wrote the record meanwhile.
    """
    waited = False
    deadline = time.monotonic() + LONGEST_WAIT
    while True:
        held, taken = await _take(ctx, connection, record_type, record_id, operation, waited)
        if taken is not None:
            return taken
        if held and not wait:
            return None
        if held:
            waited = True
            if time.monotonic() > deadline:
                raise ProviderUnavailable(
                    f"Another run has been sending this {record_type} for over {int(LONGEST_WAIT)} s.",
                    fix="Nothing to do: this run resumes when the other one has finished.",
                )
            await asyncio.sleep(POLL)
            await ctx.ensure_lease()


def _open(connection_id: int, record_type: str, record_id: int, operation: str) -> Combinable:
    return ((OutboundWrite.connection == connection_id) & (OutboundWrite.record_type == record_type)
            & (OutboundWrite.record_id == record_id) & (OutboundWrite.operation == operation)
            & OutboundWrite.state.is_in([WriteState.pending, WriteState.uncertain]))


async def _take(ctx: RunContext, connection: Connection, record_type: str, record_id: int, operation: str,
                waited: bool) -> tuple[bool, OutboundWrite | None]:
    """One look: (held by another live run, the write now ours)."""
    run_id, claim = ctx.run.id, ctx.run.claims
    async with write_transaction():
        current = await OutboundWrite.objects().where(_open(connection.id, record_type, record_id, operation)).first()
        if current is None:
            link = await get_link(connection.id, record_type, record_id)
            if link is not None and link.remote_id and (waited or operation == "create"):
                raise WrittenElsewhere(link)
            write = OutboundWrite(
                workspace=connection.workspace, connection=connection.id, run=run_id, attempt=claim,
                record_type=record_type, record_id=record_id, operation=operation,
                idempotency_key=new_write_key(), state=WriteState.pending, created_at=utcnow(),
            )
            added = await OutboundWrite.insert(write).on_conflict(action="DO NOTHING").returning(OutboundWrite.id)
            if not added:  # another run recorded it between our look and our insert
                return True, None
            write.id = added[0]["id"]
            return False, write
        if current.run == run_id:
            return False, current
        if current.run is not None and await _alive(current.run):
            return True, None
        # Its run died or gave up while the write was out: it may have landed, so settle before resending.
        state = WriteState.uncertain
        same_holder = OutboundWrite.run.is_null() if current.run is None else OutboundWrite.run == current.run
        moved = await OutboundWrite.update(
            {OutboundWrite.run: run_id, OutboundWrite.attempt: claim, OutboundWrite.state: state}
        ).where((OutboundWrite.id == current.id) & same_holder).returning(OutboundWrite.id)
        if not moved:
            return True, None
        current.run, current.attempt, current.state = run_id, claim, state
        return False, current


async def _alive(run_id: int) -> bool:
    row = await SyncRun.select(SyncRun.state, SyncRun.lease_expires_at).where(SyncRun.id == run_id).first()
    return bool(row and row["state"] == RunState.running and row["lease_expires_at"]
                and row["lease_expires_at"] > utcnow())


@dataclass
class Claims:
    """What `claim_new_writes` found: writes now ours, records another run already wrote (their links),
    and records with an open write (or that lost a race for one) to be claimed one by one."""

    ours: dict[int, OutboundWrite] = field(default_factory=dict)
    written: dict[int, ExternalLink] = field(default_factory=dict)
    contested: list[int] = field(default_factory=list)


async def claim_new_writes(ctx: RunContext, connection: Connection, record_type: str,
                           record_ids: list[int]) -> Claims:
    """`claim_write` of a create for many records at once: one transaction and three statements
    whatever their number, so a batch's write-ahead records cost what one did.

    As in `_take`, open writes are looked at before links: a write is settled in the transaction
    that saves its link, so "no open write, then no link" means nobody has sent the record. A record
    with an open write is not decided here (it may be another live run's, or ours to settle first).
    """
    claims = Claims()
    if not record_ids:
        return claims
    run_id, attempt = ctx.run.id, ctx.run.claims
    now = utcnow()  # the rows are made before the transaction: SQLite's write lock is held only to write
    columns = ["workspace", "connection", "run", "attempt", "record_type", "record_id", "operation",
               "idempotency_key", "state", "created_at"]
    made = dict(zip(record_ids, unsaved(OutboundWrite, [dict(
        workspace=connection.workspace, connection=connection.id, run=run_id, attempt=attempt,
        record_type=record_type, record_id=record_id, operation="create", idempotency_key=new_write_key(),
        state=WriteState.pending, created_at=now,
    ) for record_id in record_ids]), strict=True))
    async with write_transaction():
        open_rows = await fetch_raw(
            f'SELECT record_id FROM {OutboundWrite._meta.tablename} WHERE "connection" = ? AND record_type = ? '
            f'AND record_id IN ({marks(record_ids)})'
            " AND operation = 'create' AND state IN (?, ?)",
            connection.id, record_type, *record_ids, WriteState.pending, WriteState.uncertain)
        held = {row["record_id"] for row in open_rows}
        free = [record_id for record_id in record_ids if record_id not in held]
        if free:
            for link in await fetched(ExternalLink, '"connection" = ? AND record_type = ? AND remote_id IS NOT NULL '
                                      f'AND record_id IN ({marks(free)})',
                                      connection.id, record_type, *free):
                if link.remote_id:
                    claims.written[link.record_id] = link
        writes = {record_id: made[record_id] for record_id in free if record_id not in claims.written}
        added = await insert_new_rows(OutboundWrite, columns, [
            [getattr(write, column) for column in columns] for write in writes.values()], key="record_id")
    for record_id, write_id in added.items():
        writes[record_id].id = write_id
        claims.ours[record_id] = writes[record_id]
    claims.contested = [record_id for record_id in record_ids
                        if record_id not in claims.ours and record_id not in claims.written]
    return claims
