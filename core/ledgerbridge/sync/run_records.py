"""What a run did to each record: the counts on the run and the `RunRecord` rows its page lists."""

from __future__ import annotations

from collections import Counter

from ledgerbridge import metrics
from ledgerbridge.bulk_rows import append_rows
from ledgerbridge.jobs import RunContext
from ledgerbridge.tables import RunRecord, utcnow


async def note(ctx: RunContext, record_type: str, record_id: int | None, remote_id: str | None, outcome: str,
               message: str = "", *, seen: bool = True, kept: bool = True) -> None:
    """Count one record's outcome (created, updated, linked, skipped, failed) and, when `kept`,
    list it on the run. `seen=False` for records that follow another one already counted as seen
    (a payment or time entry after its invoice)."""
    if seen:
        ctx.count("seen")
    ctx.count(outcome)
    metrics.record(ctx.run.connection, record_type, outcome)
    if kept:
        await RunRecord(run=ctx.run.id, record_type=record_type, record_id=record_id, remote_id=remote_id,
                        outcome=outcome, message=message, created_at=utcnow()).save()


async def note_many(ctx: RunContext, record_type: str, outcomes: list[tuple[int | None, str, str, str]]) -> None:
    """`note` for a whole page of (record_id, remote_id, outcome, message) in one statement; skipped
    records are counted but, as with `note`, not listed on the run. Inside the page's transaction."""
    now = utcnow()
    rows = [(ctx.run.id, record_type, record_id, remote_id, outcome, message, now)
            for record_id, remote_id, outcome, message in outcomes if outcome != "skipped"]
    ctx.count("seen", len(outcomes))
    for outcome, amount in Counter(outcome for _, _, outcome, _ in outcomes).items():  # not a call per record
        ctx.count(outcome, amount)
        metrics.record(ctx.run.connection, record_type, outcome, amount)
    await append_rows(RunRecord, ["run", "record_type", "record_id", "remote_id", "outcome", "message", "created_at"],
                      rows)
