"""The steps the conformance cases are made of: connect as a person does, run a job to its end,
make an invoice here, find its copy there. Cases and the `connected_provider` fixture share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ledgerbridge import jobs, oauth
from ledgerbridge.domain.payments.schemas import PaymentIn
from ledgerbridge.domain.payments.services import create_payment
from ledgerbridge.identity import memberships
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import LEGACY_KEY_SCOPES
from ledgerbridge.plugins import get_registry
from ledgerbridge.tables import (
    Account,
    Connection,
    Customer,
    ExternalLink,
    Invoice,
    InvoiceLine,
    Item,
    Role,
    RunKind,
    RunState,
    SyncRun,
    utcnow,
)

from ledgerbridge_testing.world import ProviderWorld

OWNER_PASSWORD = "correct horse battery"


async def run(kind: RunKind, connection: Connection, **params: object) -> SyncRun:
    """Record a run and execute it here, re-running it while it is requeued (429, provider down)."""
    queued = await jobs.enqueue(kind, workspace_id=connection.workspace, connection_id=connection.id,
                                params=params)
    return await finish(queued.id)


async def finish(run_id: int) -> SyncRun:
    """Execute a recorded run here until it ends, skipping the waits of its requeues."""
    row = None
    for _ in range(20):
        await jobs.execute(run_id, owner="e2e")
        row = await SyncRun.objects().where(SyncRun.id == run_id).first()
        assert row is not None, f"run {run_id} vanished"
        if row.state != RunState.queued:
            return row
        await SyncRun.update({SyncRun.not_before: None}).where(SyncRun.id == run_id)  # skip the wait
    raise AssertionError(f"run {run_id} never finished: {row.error if row else ''}")


def host_app(connection: Connection) -> Caller:
    """The host app's API key in the connection's workspace, with the scopes keys made before scopes
    existed keep (records, exports, books, webhooks), as a host app calls the services."""
    return Caller(via="api_key", workspace_id=connection.workspace, workspace_name="Client Co", role=None,
                  api_key_id=1, api_key_prefix="lb_e2e", scopes=frozenset(s.value for s in LEGACY_KEY_SCOPES))


async def connect(world: ProviderWorld, email: str = "owner@example.com", workspace: str = "Client Co") -> Connection:
    """Connect `world`'s provider to the workspace named `workspace` (made if new) as its owner `email`."""
    user, made = await memberships.create_admin(email, OWNER_PASSWORD, workspace)
    workspace_id = made.id
    url = await oauth.begin_connect(world.key, workspace_id=workspace_id, user_id=user.id, environment="production")
    params = world.consent(url)
    outcome = await oauth.complete_connect(params, user_id=user.id)
    if len(outcome.tenants) > 1:
        await oauth.choose_tenant(outcome.connection.id, outcome.tenants[0].id, user_id=user.id)
    return await _connection(outcome.connection.id)


async def _connection(connection_id: int) -> Connection:
    row = await Connection.objects().where(Connection.id == connection_id).first()
    assert row is not None, f"connection {connection_id} vanished"
    return row


async def imported(world: ProviderWorld) -> Connection:
    connection = await connect(world)
    result = await run(RunKind.import_all, connection)
    assert result.state == RunState.done, result.error
    return await _connection(connection.id)


async def map_everything(connection: Connection) -> None:
    """Give the connection a default income account, as the mapping page's "assign to all" does."""
    if not get_registry().provider(connection.provider).capabilities.income_accounts:
        return
    account = await Account.objects().where(Account.connection == connection.id).order_by(Account.id).first()
    assert account is not None, "the import brought income accounts"
    await Connection.update({Connection.default_income_account_id: account.id}).where(Connection.id == connection.id)


async def local_invoice(connection: Connection, number: str, customer: Customer | None = None,
                        amount: str = "120.00", item_name: str = "Consulting hours") -> Invoice:
    now = utcnow()
    if customer is None:
        customer = Customer(workspace=connection.workspace, name=f"New Client {number}",
                            email=f"{number.lower()}@client.example", created_at=now, updated_at=now)
        await customer.save()
    item = await Item.objects().where((Item.workspace == connection.workspace) & (Item.name == item_name)).first()
    if item is None:
        item = Item(workspace=connection.workspace, name=item_name, unit_price=Decimal("60"), created_at=now,
                    updated_at=now)
        await item.save()
    total = Decimal(amount)
    invoice = Invoice(workspace=connection.workspace, number=number, customer=customer.id,
                      issue_date=date(2026, 11, 2), due_date=date(2026, 12, 2), status="sent", subtotal=total,
                      total=total, currency=connection.currency or "USD", created_at=now, updated_at=now)
    await invoice.save()
    await InvoiceLine(invoice=invoice.id, item=item.id, description="Work", quantity=Decimal("2"),
                      unit_price=total / 2, line_total=total).save()
    return invoice


async def remote_of(connection: Connection, invoice: Invoice) -> ExternalLink | None:
    return await ExternalLink.objects().where(
        (ExternalLink.connection == connection.id) & (ExternalLink.record_type == "invoice")
        & (ExternalLink.record_id == invoice.id)).first()


async def exported_invoices(connection: Connection, *numbered: tuple[str, str]) -> list[tuple[Invoice, ExternalLink]]:
    """Invoices of one customer, one per (number, amount), each exported: with the link to its copy
    (for a bookkeeper's edit there that touches several, such as one payment for two invoices)."""
    made: list[tuple[Invoice, ExternalLink]] = []
    customer: Customer | None = None
    for number, amount in numbered:
        invoice = await local_invoice(connection, number, customer=customer, amount=amount)
        customer = customer or await Customer.objects().where(Customer.id == invoice.customer).first()
        exported = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
        assert exported.state == RunState.done, exported.error
        link = await remote_of(connection, invoice)
        assert link is not None and link.remote_id, "the invoice reached the books"
        made.append((invoice, link))
    return made


async def polled(connection: Connection) -> SyncRun:
    """A status poll run to its end, done (the read-back a bookkeeper's edit there waits for)."""
    ended = await run(RunKind.poll_status, connection)
    assert ended.state == RunState.done, ended.error
    return ended


def owner(connection: Connection) -> Caller:
    """The owner `connect` made, as a person calling the services (the audit trail names them)."""
    return Caller(via="session", workspace_id=connection.workspace, workspace_name="Client Co", role=Role.owner,
                  user_id=1, email="owner@example.com")


@dataclass(frozen=True)
class ExportedPayment:
    invoice: Invoice
    payment_id: int
    link: ExternalLink  # the payment's, with its id in the books


async def exported_payment(connection: Connection, number: str, amount: str = "50.00") -> ExportedPayment:
    """An invoice of 120.00 exported, and a payment of `amount` recorded here by the owner and run to
    the books, as the books and here hold them before the bookkeeper changes anything."""
    invoice = await local_invoice(connection, number, amount="120.00")
    exported = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert exported.state == RunState.done, exported.error
    payment = await create_payment(owner(connection), data=PaymentIn(invoice_id=invoice.id, amount=Decimal(amount)))
    for queued in await SyncRun.objects().where(SyncRun.state == RunState.queued).order_by(SyncRun.id):
        done = await finish(queued.id)
        assert done.state == RunState.done, done.error
    link = await ExternalLink.objects().where(
        (ExternalLink.connection == connection.id) & (ExternalLink.record_type == "payment")
        & (ExternalLink.record_id == payment.id)).first()
    assert link is not None and link.remote_id, "the payment reached the books"
    return ExportedPayment(invoice, payment.id, link)
