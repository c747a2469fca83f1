"""The runs that carry events out: one waiting `deliver_webhooks` run per endpoint, one waiting
`send_notices` run per workspace.

Written as rows in the caller's transaction (like every run), so they commit with the event. A
run already waiting is reused rather than doubled; a running one is not, because it may already
have looked for work. Whoever commits hands the runs to the broker (`JobTransaction.emit`); a
run nobody handed over is queued by the sweeper.
"""

from __future__ import annotations

import json

from ledgerbridge.tables import RunKind, RunState, SyncRun, utcnow


async def waiting_run(kind: RunKind, *, workspace_id: int, trigger: str, params: dict[str, int]) -> SyncRun:
    existing = await SyncRun.objects().where(
        (SyncRun.kind == kind) & (SyncRun.state == RunState.queued) & (SyncRun.trigger == trigger)
    ).first()
    if existing is not None:
        return existing
    now = utcnow()
    run = SyncRun(workspace=workspace_id, kind=kind, trigger=trigger, params=json.dumps(params),
                  state=RunState.queued, created_at=now, queued_at=now)
    await run.save()
    return run


async def delivery_run(workspace_id: int, endpoint_id: int) -> SyncRun:
    """The run that delivers an endpoint's pending events."""
    return await waiting_run(RunKind.deliver_webhooks, workspace_id=workspace_id,
                             trigger=f"webhook_endpoint:{endpoint_id}", params={"endpoint_id": endpoint_id})


async def notices_run(workspace_id: int) -> SyncRun:
    """The run that emails a workspace's due notices."""
    return await waiting_run(RunKind.send_notices, workspace_id=workspace_id, trigger="notices",
                             params={"workspace_id": workspace_id})
