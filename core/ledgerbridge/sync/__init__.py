"""The sync engine: what each kind of run does.

The job queue (`ledgerbridge.jobs`) does not import this package; whoever starts a worker builds
`run_handlers()` and installs it into the queue (`jobs.install_handlers`).
"""

from ledgerbridge.events import delivery
from ledgerbridge.jobs import RunHandlers
from ledgerbridge.notifications import mail
from ledgerbridge.sync import (
    customer_push,
    exporting,
    followers,
    importing,
    payment_voids,
    polling,
    time_sync,
    tokens,
)
from ledgerbridge.tables import RunKind

__all__ = ["run_handlers"]


def run_handlers() -> RunHandlers:
    """Every run kind the engine executes, with its handler."""
    handlers = RunHandlers()
    handlers.handles(*importing.KIND_STEPS)(importing.run_import)
    handlers.handles(RunKind.export_invoice, RunKind.export_invoices)(exporting.run_export)
    handlers.handles(RunKind.export_customer)(exporting.run_export_customer)
    handlers.handles(RunKind.export_payment)(followers.run_export_payment)
    handlers.handles(RunKind.void_payment)(payment_voids.run_void_payment)
    handlers.handles(RunKind.export_time_entries)(time_sync.run_export_time_entries)
    handlers.handles(RunKind.push_records)(customer_push.run_push_records)
    handlers.handles(RunKind.poll_status)(polling.run_poll)
    handlers.handles(RunKind.refresh_tokens)(tokens.run_refresh)
    handlers.handles(RunKind.deliver_webhooks)(delivery.run_deliveries)
    handlers.handles(RunKind.send_notices)(mail.run_send_notices)
    return handlers
