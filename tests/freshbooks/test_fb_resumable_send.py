"""FreshBooks' create-then-mark-as-sent is one resumable write (issue 17): whichever step loses its
answer or fails, the run finishes it, and the invoice ends sent in FreshBooks, never a draft there
while it shows synced here. Through the engine, against the FreshBooks sandbox over real HTTP."""

from __future__ import annotations

import pytest
from ledgerbridge import connections
from ledgerbridge.tables import RunKind, RunState
from ledgerbridge_testing.conformance.steps import imported, local_invoice, map_everything, remote_of, run
from ledgerbridge_testing.world import ProviderWorld

pytestmark = pytest.mark.parametrize("provider", ["freshbooks"])


async def _export_through(world: ProviderWorld, number: str, **fault: object) -> None:
    connection = await imported(world)
    await map_everything(connection)
    invoice = await local_invoice(connection, number)
    await run(RunKind.export_customer, connection, customer_id=invoice.customer)
    world.fault(**fault)  # type: ignore[arg-type]
    result = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert result.state == RunState.done and result.failed == 0, result.error
    assert result.attempts == 1, "finished inside the run, not by another attempt"
    assert world.invoice_numbers(connection.tenant_id).count(number) == 1
    there = await connections.call(connection.id, "find_invoice", number=number)
    assert there is not None and there.status != "draft", there
    link = await remote_of(connection, invoice)
    assert link is not None and link.state == "synced" and link.remote_id == there.remote_id
    assert link.message == "", "no warning stands in for the step that was missing"


async def test_a_failed_mark_as_sent_is_retried_not_turned_into_a_warning(world: ProviderWorld):
    await _export_through(world, "FB-SEND-1", kind="error", path_prefix="/accounting/", count=1, status=503,
                          method="PUT")


async def test_a_create_whose_answer_was_lost_is_found_and_then_marked_sent(world: ProviderWorld):
    await _export_through(world, "FB-SEND-2", kind="timeout_after_apply", path_prefix="/accounting/", count=1,
                          method="POST", delay=1)
