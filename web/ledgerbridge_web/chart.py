"""The dashboard's 30-day chart of exports and failures, drawn as inline SVG on the server.

No charting library and no JavaScript: bars are plain rectangles, so the chart prints, scales and
reads the same in every browser. Counts come from one grouped query over run records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ledgerbridge.tables import RecordType, RunRecord, utcnow

DAYS = 30
EXPORTED = ("created", "updated", "linked")


@dataclass(frozen=True)
class Day:
    day: date
    exported: int
    failed: int


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    kind: str
    title: str


async def daily_counts(workspace_id: int, today: date | None = None) -> list[Day]:
    """Invoice exports and failures per day over the last 30 days, oldest first."""
    today = today or utcnow().date()
    start = today - timedelta(days=DAYS - 1)
    rows = await RunRecord.select(RunRecord.created_at, RunRecord.outcome).where(
        (RunRecord.run.workspace == workspace_id)
        & (RunRecord.record_type == RecordType.invoice)
        & (RunRecord.run.kind.is_in(["export_invoice", "export_invoices"]))
        & (RunRecord.created_at >= utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=DAYS))
    )
    exported: dict[date, int] = {}
    failed: dict[date, int] = {}
    for row in rows:
        day = row["created_at"].date()
        if row["outcome"] in EXPORTED:
            exported[day] = exported.get(day, 0) + 1
        elif row["outcome"] == "failed":
            failed[day] = failed.get(day, 0) + 1
    return [
        Day(day, exported.get(day, 0), failed.get(day, 0))
        for day in (start + timedelta(days=offset) for offset in range(DAYS))
    ]


def bars(days: list[Day], width: float = 600, height: float = 120) -> list[Bar]:
    """Two bars per day, side by side, scaled to the busiest day."""
    peak = max([max(d.exported, d.failed) for d in days] + [1])
    slot = width / max(len(days), 1)
    out = []
    for index, d in enumerate(days):
        for offset, (kind, value) in enumerate((("exported", d.exported), ("failed", d.failed))):
            bar_height = height * value / peak
            out.append(
                Bar(
                    x=round(index * slot + offset * slot * 0.45 + slot * 0.05, 2),
                    y=round(height - bar_height, 2),
                    height=round(bar_height, 2),
                    kind=kind,
                    title=f"{d.day.isoformat()}: {value} {kind}",
                )
            )
    return out

