"""The journey on a bundled provider sandbox over HTTP: an invoice is exported, the bookkeeper pays it
in the sandbox's accountant view, and a real receiver gets `invoice.exported` then
`invoice.status_changed` (paid), verified with `standardwebhooks`."""

from __future__ import annotations

import json

import pytest
from ledgerbridge import vault
from ledgerbridge.events.secrets import new_secret
from ledgerbridge.tables import DeliveryState, RunKind, RunState, WebhookDelivery, WebhookEndpoint, utcnow
from ledgerbridge_testing.conformance import steps

from tests.events.conftest import run_queued
from tests.events.receiver import Receiver


async def _delivered() -> bool:
    return await WebhookDelivery.count().where(WebhookDelivery.state != DeliveryState.delivered) == 0


@pytest.mark.parametrize("provider", ["quickbooks", "xero", "freshbooks"])
async def test_paid_in_the_accountant_view_reaches_the_host(world, receiver: Receiver) -> None:
    connection = await steps.imported(world)
    await steps.map_everything(connection)
    secret = new_secret()
    receiver.secrets = [secret]
    await WebhookEndpoint(workspace=connection.workspace, url=receiver.url, event_types=json.dumps(["invoice.*"]),
                          secret_enc=vault.encrypt(secret), created_at=utcnow(), updated_at=utcnow()).save()
    invoice = await steps.local_invoice(connection, "LB-7001")
    exported = await steps.run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert exported.state == RunState.done, exported.error
    remote = await steps.remote_of(connection, invoice)
    world.accountant(connection.tenant_id, "record_payment", invoice_id=remote.remote_id, amount="120.00")
    polled = await steps.run(RunKind.poll_status, connection)
    assert polled.state == RunState.done, polled.error
    await run_queued(until=_delivered)

    assert receiver.refused_signatures == 0
    assert receiver.types() == ["invoice.exported", "invoice.status_changed"]
    paid = receiver.unique()[-1].payload["data"]
    assert (paid["status"], paid["amount_paid"], paid["provider"]) == ("paid", "120.00", world.key)
