"""A month in the books, on every provider with a sandbox: what a bookkeeper's first real month does.

Driven through our REST API (as the host app and the owner would) and the sandbox's accountant view
and control API only; every step checks the provider's own state (read through its API or its
accountant view) as well as ours. The month is a list of steps sharing one :class:`Month`; each
step is a plain coroutine, so more steps (taxes, time, customers in step) are added by appending to
``STEPS`` in the order a month brings them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from ledgerbridge import connections, jobs, oauth
from ledgerbridge.app import create_app
from ledgerbridge.identity import memberships
from ledgerbridge.identity.api_keys import create_api_key
from ledgerbridge.identity.permissions import Scope
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import Capabilities, RemoteInvoice
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import (
    AuditEntry,
    Connection,
    ConnectionStatus,
    ExternalLink,
    OutboxEvent,
    Payment,
    RunKind,
    RunRecord,
    RunState,
    SyncIssue,
    SyncRun,
    utcnow,
)
from litestar.testing import AsyncTestClient

from ledgerbridge_testing.conformance.steps import OWNER_PASSWORD, imported, map_everything
from ledgerbridge_testing.world import ProviderWorld

pytestmark = [pytest.mark.asyncio, pytest.mark.conformance("month")]


@dataclass
class Month:
    """What the month's steps share: the sandbox, our API as the host app, the books connection."""

    world: ProviderWorld
    api: AsyncTestClient[Any]
    connection: Connection
    user_id: int
    customer_id: int
    item_id: int
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)  # by the step's own name

    @property
    def caps(self) -> Capabilities:
        return get_registry().provider(self.world.key).capabilities

    async def drain(self, runs: list[dict[str, Any]] | list[SyncRun]) -> None:
        """Execute runs to their end here, skipping back-off waits; each must end done."""
        for run in runs:
            run_id = run["id"] if isinstance(run, dict) else run.id
            for _ in range(20):
                await jobs.execute(run_id, owner="month")
                row = await SyncRun.objects().where(SyncRun.id == run_id).first()
                assert row is not None
                if row.state != RunState.queued:
                    break
                await SyncRun.update({SyncRun.not_before: None}).where(SyncRun.id == run_id)
            assert row.state == RunState.done, f"run {run_id} ({row.kind}): {row.state} {row.error}"

    async def drain_queued(self) -> list[SyncRun]:
        """Execute every run queued for the books (what a change recorded beside itself), in order."""
        queued = await SyncRun.objects().where(
            (SyncRun.connection == self.connection.id) & (SyncRun.state == RunState.queued)).order_by(SyncRun.id)
        await self.drain(list(queued))
        return list(queued)

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.api.request(method, f"/api/v1{path}", **kwargs)
        assert response.status_code in (200, 201, 204), f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    async def invoice(self, name: str, amount: str) -> dict[str, Any]:
        """A finalized invoice here of `amount` (one line of the mapped item)."""
        created = await self.call("POST", "/invoices", json={
            "customer_id": self.customer_id, "currency": self.connection.currency or "USD",
            "lines": [{"item_id": self.item_id, "description": f"Work for {name}", "quantity": "1",
                       "unit_price": amount}]})
        finalized = await self.call("POST", f"/invoices/{created['id']}/finalize")
        self.invoices[name] = finalized
        return finalized

    async def ours(self, name: str) -> dict[str, Any]:
        return await self.call("GET", f"/invoices/{self.invoices[name]['id']}")

    async def theirs(self, remote_id: str) -> RemoteInvoice | None:
        """The provider's copy as its own API reports it; None when it is gone."""
        page = await connections.call(self.connection.id, "poll_invoices", cursor=None, remote_ids=[remote_id])
        return next((r for r in page.records if r.remote_id == remote_id and not r.deleted), None)

    async def live_link(self, name: str) -> dict[str, Any]:
        [link] = [link for link in (await self.ours(name))["links"] if link["connection_id"] == self.connection.id]
        assert link["remote_id"], f"{name} has no copy in the books: {link}"
        return link


@pytest_asyncio.fixture
async def month(world: ProviderWorld, database: str) -> AsyncIterator[Month]:
    connection = await imported(world)
    await map_everything(connection)
    user, _ = await memberships.create_admin("owner@example.com", OWNER_PASSWORD, "Client Co")
    # The key does the bookkeeper's part too (payments, reverts, connection settings): every scope.
    key = await create_api_key(connection.workspace, "host app", user.id, scopes=[scope.value for scope in Scope])
    async with AsyncTestClient(app=create_app(get_settings(), background=False)) as api:
        api.headers.update({"X-API-Key": key.key})
        customer = (await api.post("/api/v1/customers", json={
            "name": "Month Client", "email": "ap@month-client.example",
            "currency": connection.currency or "USD"})).json()
        item = (await api.post("/api/v1/items", json={"name": "Consulting hours", "unit_price": "60"})).json()
        yield Month(world=world, api=api, connection=connection, user_id=user.id, customer_id=customer["id"],
                    item_id=item["id"])


# --------------------------------------------------------------------------- the steps


async def a_customer_made_here_is_pushed_to_the_books(m: Month) -> None:
    await m.call("PATCH", f"/connections/{m.connection.id}", json={"auto_sync_customers": True})
    customer = await m.call("POST", "/customers", json={"name": "Pushed In The Month Ltd",
                                                        "email": "ap@pushed-month.example",
                                                        "currency": m.connection.currency or "USD"})
    drained = await m.drain_queued()  # the push was recorded with the customer, before any worker ran
    assert "push_records" in [run.kind for run in drained], drained
    assert "Pushed In The Month Ltd" in str(m.world.table(m.connection.tenant_id, "Customers"))
    ours = await m.call("GET", f"/customers/{customer['id']}")
    assert any(link["remote_id"] and link["connection_id"] == m.connection.id for link in ours["links"]), ours


async def time_billed_into_an_invoice_arrives_billed(m: Month) -> None:
    entries = [await m.call("POST", "/time-entries", json={
        "customer_id": m.customer_id, "person": "Emily Platt", "worked_on": f"2026-11-0{day}", "hours": "2",
        "rate": "60", "item_id": m.item_id, "description": f"Month design review {day}"}) for day in (3, 4)]
    draft = await m.call("POST", "/invoices/from-time-entries", json={"time_entry_ids": [e["id"] for e in entries]})
    invoice = await m.call("POST", f"/invoices/{draft['id']}/finalize")
    m.invoices["timed"] = invoice
    assert invoice["total"] == "240.00", invoice
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    there = await m.theirs((await m.live_link("timed"))["remote_id"])
    assert there is not None and there.total == Decimal("240.00"), there
    for entry in entries:
        assert (await m.call("GET", f"/time-entries/{entry['id']}"))["invoice_id"] == invoice["id"]
    if not m.caps.time_activities:  # Xero keeps no time records: only the invoice goes
        return
    time_there = m.world.table(m.connection.tenant_id, "Time")
    for entry in entries:
        [row] = [row for row in time_there if entry["description"] in row["Description"]]
        assert row["Billed"] == "yes", row  # QuickBooks HasBeenBilled: never offered for invoicing again


async def an_unmapped_tax_rate_stops_the_export_and_mapped_it_arrives_taxed(m: Month) -> None:
    books_rates = (await m.call("GET", f"/tax-rates?connection_id={m.connection.id}&active=true"))["items"]
    taxed = sorted((r for r in books_rates if Decimal(r["rate"]) > 0), key=lambda r: (-Decimal(r["rate"]), r["id"]))
    assert taxed, "the sandbox seeds at least one positive tax rate"
    ours = await m.call("POST", "/tax-rates", json={"name": "Month sales tax", "rate": taxed[0]["rate"]})
    created = await m.call("POST", "/invoices", json={
        "customer_id": m.customer_id, "currency": m.connection.currency or "USD",
        "lines": [{"item_id": m.item_id, "description": "Taxed work", "quantity": "1", "unit_price": "200.00",
                   "tax_rate_id": ours["id"]}]})
    invoice = await m.call("POST", f"/invoices/{created['id']}/finalize")
    m.invoices["taxed"] = invoice
    assert Decimal(invoice["tax_total"]) > 0, invoice
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    stopped = await m.ours("taxed")
    assert [i["code"] for i in stopped["issues"]] == ["tax_not_mapped"], stopped["issues"]
    assert "Month sales tax" in stopped["issues"][0]["message"] and stopped["issues"][0]["fix"]
    assert invoice["number"] not in m.world.invoice_numbers(m.connection.tenant_id)  # nothing was sent

    mapped = await m.call("POST", "/tax-mappings/apply-suggestions", json={})
    [mine] = [item for item in mapped["items"] if item["tax_rate_id"] == ours["id"]]
    assert mine["books_rate_id"] == taxed[0]["id"], mine
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    there = await m.theirs((await m.live_link("taxed"))["remote_id"])
    assert there is not None and there.total == Decimal(invoice["total"]), (there, invoice["total"])
    assert m.world.invoice_numbers(m.connection.tenant_id).count(invoice["number"]) == 1
    assert (await m.ours("taxed"))["issues"] == []


async def paid_before_export_arrives_paid(m: Month) -> None:
    invoice = await m.invoice("prepaid", "120.00")
    await m.call("POST", "/payments", json={"invoice_id": invoice["id"], "amount": "120.00", "reference": "CHK-100"})
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    link = await m.live_link("prepaid")
    there = await m.theirs(link["remote_id"])
    assert there is not None and there.balance == Decimal("0") and there.status == "paid", there
    ours = await m.ours("prepaid")
    assert (ours["payment_status"], ours["balance"], ours["locked"]) == ("paid", "0.00", True)


async def bulk_export_of_older_invoices(m: Month) -> None:
    older = [await m.invoice(f"older-{n}", "80.00") for n in range(3)]
    await m.call("POST", "/payments", json={"invoice_id": older[0]["id"], "amount": "80.00"})
    await m.call("POST", "/payments", json={"invoice_id": older[1]["id"], "amount": "30.00"})
    await m.drain((await m.call("POST", "/invoices/export", json={"invoice_ids": [i["id"] for i in older]}))["runs"])
    balances = []
    for n in range(3):
        there = await m.theirs((await m.live_link(f"older-{n}"))["remote_id"])
        assert there is not None
        balances.append(there.balance)
    assert balances == [Decimal("0"), Decimal("50.00"), Decimal("80.00")]
    numbers = m.world.invoice_numbers(m.connection.tenant_id)
    assert all(numbers.count(i["number"]) == 1 for i in older), numbers


async def revert_edit_and_export_again(m: Month) -> None:
    invoice = await m.invoice("edited", "100.00")
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    old = await m.live_link("edited")
    reverted = await m.call("POST", f"/invoices/{invoice['id']}/revert-to-draft")
    await m.drain(reverted["runs"])
    await m.call("PATCH", f"/invoices/{invoice['id']}", json={"lines": [
        {"item_id": m.item_id, "description": "Work, corrected", "quantity": "1", "unit_price": "150.00"}]})
    await m.call("POST", f"/invoices/{invoice['id']}/finalize")
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    new = await m.live_link("edited")
    assert new["remote_id"] != old["remote_id"]
    there = await m.theirs(new["remote_id"])
    assert there is not None and there.total == Decimal("150.00")
    gone = await m.theirs(old["remote_id"])
    assert gone is None or gone.status == "void", gone  # deleted there, or voided with its number kept
    ours = await m.ours("edited")
    [withdrawn] = ours["withdrawn"]
    assert withdrawn["remote_id"] == old["remote_id"] and withdrawn["state"] == "withdrawn"
    if withdrawn["action"] == "void" and m.connection.number_policy == "ours":
        assert new["remote_number"].endswith("-2") and "re-issue policy" in new["message"]


async def revert_with_the_provider_numbering_the_new_copy(m: Month) -> None:
    """`reissue_number=provider`: the voided copy keeps our number there, the provider numbers the new one.

    A case of its own, not a step of the month: the provider's next number may be the one our next
    invoice gets (both count INV-0001, INV-0002...), which the README warns about for this policy."""
    before = await m.call("GET", f"/connections/{m.connection.id}")
    await m.call("PATCH", f"/connections/{m.connection.id}", json={"revert_action": "void",
                                                                   "reissue_number": "provider"})
    invoice = await m.invoice("renumbered", "110.00")
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    old = await m.live_link("renumbered")
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/revert-to-draft"))["runs"])
    await m.call("PATCH", f"/invoices/{invoice['id']}", json={"lines": [
        {"item_id": m.item_id, "description": "Work, renumbered", "quantity": "1", "unit_price": "130.00"}]})
    await m.call("POST", f"/invoices/{invoice['id']}/finalize")
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    new = await m.live_link("renumbered")
    [withdrawn] = (await m.ours("renumbered"))["withdrawn"]
    assert withdrawn["action"] == "void" and withdrawn["state"] == "withdrawn", withdrawn
    there = await m.theirs(new["remote_id"])
    assert there is not None and there.total == Decimal("130.00"), there
    assert there.number and there.number != invoice["number"], there.number
    assert new["remote_number"] == there.number and "the provider numbered this new copy" in new["message"], new
    gone = await m.theirs(old["remote_id"])
    assert gone is not None and gone.status == "void" and gone.number == invoice["number"], gone
    numbers = m.world.invoice_numbers(m.connection.tenant_id)
    assert numbers.count(invoice["number"]) == 1 and numbers.count(there.number) == 1, numbers
    await m.call("PATCH", f"/connections/{m.connection.id}", json={"revert_action": before["revert_action"],
                                                                   "reissue_number": before["reissue_number"]})


async def bookkeeper_pays_one_and_deletes_another(m: Month) -> None:
    paid = await m.invoice("paid-there", "90.00")
    if m.caps.draft_export:  # where only drafts can be deleted there, the one to delete goes as a draft
        await Connection.update({Connection.export_as_draft: True}).where(Connection.id == m.connection.id)
    entry = await m.call("POST", "/time-entries", json={
        "customer_id": m.customer_id, "person": "Emily Platt", "worked_on": "2026-11-10", "hours": "1",
        "rate": "40", "item_id": m.item_id, "description": "Work billed by the doomed invoice"})
    draft = await m.call("POST", "/invoices/from-time-entries", json={"time_entry_ids": [entry["id"]]})
    doomed = m.invoices["deleted-there"] = await m.call("POST", f"/invoices/{draft['id']}/finalize")
    assert (await m.call("GET", f"/time-entries/{entry['id']}"))["invoice_id"] == doomed["id"]
    await m.drain((await m.call("POST", f"/invoices/{doomed['id']}/export"))["runs"])
    await Connection.update({Connection.export_as_draft: False}).where(Connection.id == m.connection.id)
    await m.drain((await m.call("POST", f"/invoices/{paid['id']}/export"))["runs"])
    tenant = m.connection.tenant_id
    # The scheduler's status poll has run since (it keeps the provider's change cursor).
    await m.drain((await m.call("POST", f"/connections/{m.connection.id}/sync", json={"what": ["invoices"]}))["runs"])
    m.world.accountant(tenant, "record_payment", invoice_id=(await m.live_link("paid-there"))["remote_id"],
                       amount="90.00")
    doomed_remote = (await m.live_link("deleted-there"))["remote_id"]
    m.world.accountant(tenant, "delete_invoice", invoice_id=doomed_remote)
    await m.drain((await m.call("POST", f"/connections/{m.connection.id}/sync", json={"what": ["invoices"]}))["runs"])
    ours = await m.ours("paid-there")
    assert (ours["payment_status"], ours["balance"], ours["locked"]) == ("paid", "0.00", True)
    there = await m.theirs((await m.live_link("paid-there"))["remote_id"])
    assert there is not None and there.status == "paid"
    assert await m.theirs(doomed_remote) is None
    gone = await m.ours("deleted-there")
    assert gone["links"][0]["remote_data"]["status"] == "deleted"
    # Its time is free to bill again here, and there: the books that keep time are told it is billable.
    assert (await m.call("GET", f"/time-entries/{entry['id']}"))["invoice_id"] is None
    assert "free to bill again" in gone["links"][0]["message"], gone["links"][0]
    if m.caps.time_activities:
        assert "export_time_entries" in [run.kind for run in await m.drain_queued()]
        [row] = [row for row in m.world.table(tenant, "Time") if entry["description"] in row["Description"]]
        assert row["Billed"] == "no", row


async def bookkeeper_deletes_a_payment_we_exported(m: Month) -> None:
    """Deleted there means archived here: the payment stays, voided and marked removed, and the invoice
    owes its amount again, as the books say; audited and announced once. Where the books can also void
    a payment (QuickBooks), a voided one is noticed the same way."""
    invoice = await m.invoice("payment-deleted-there", "100.00")
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    payments = [await m.call("POST", "/payments", json={"invoice_id": invoice["id"], "amount": amount,
                                                         "reference": f"CHK-30{n}"})
                for n, amount in enumerate(("60.00", "40.00"))]
    await m.drain_queued()
    assert ((await m.ours("payment-deleted-there"))["payment_status"]) == "paid"
    links = []
    for payment in payments:
        link = await ExternalLink.objects().where(
            (ExternalLink.connection == m.connection.id) & (ExternalLink.record_type == "payment")
            & (ExternalLink.record_id == payment["id"])).first()
        assert link is not None and link.remote_id, link
        links.append(link)
    remote_invoice = (await m.live_link("payment-deleted-there"))["remote_id"]
    tenant = m.connection.tenant_id
    # The scheduler's status poll has run since (it keeps the provider's change cursor).
    await m.drain((await m.call("POST", f"/connections/{m.connection.id}/sync", json={"what": ["invoices"]}))["runs"])
    voided_before = await OutboxEvent.count().where(OutboxEvent.type == "payment.voided")

    m.world.accountant(tenant, "delete_payment", payment_id=links[0].remote_id)
    there = await m.theirs(remote_invoice)
    assert there is not None and there.balance == Decimal("60.00"), there  # the books' own state
    assert links[0].remote_id not in [p.remote_id for p in there.payments], there.payments
    await m.drain((await m.call("POST", f"/connections/{m.connection.id}/sync", json={"what": ["invoices"]}))["runs"])
    ours = await m.ours("payment-deleted-there")
    assert (ours["payment_status"], ours["balance"]) == ("partially_paid", "60.00"), ours
    shown = {p["id"]: p for p in ours["payments"]}
    assert shown[payments[0]["id"]]["voided_at"] and shown[payments[0]["id"]]["removed_in_provider"] == m.world.key
    assert shown[payments[1]["id"]]["voided_at"] is None, shown
    link = await ExternalLink.objects().where(ExternalLink.id == links[0].id).first()
    assert link is not None and link.state == "deleted_remote" and "Deleted or voided in" in link.message, link
    entry = await AuditEntry.objects().where((AuditEntry.action == "payment.removed_in_provider")
                                             & (AuditEntry.target_id == str(payments[0]["id"]))).first()
    assert entry is not None and entry.actor_user is None and entry.actor, entry
    events = await OutboxEvent.objects().where(OutboxEvent.type == "payment.voided")
    assert len(events) == voided_before + 1 and f'"removed_in_provider":"{m.world.key}"' in str(
        events[-1].data).replace(" ", ""), events[-1].data
    # Nothing goes back to the books: the change came from there, and a second read changes nothing.
    assert await m.drain_queued() == []
    await m.drain((await m.call("POST", f"/connections/{m.connection.id}/sync", json={"what": ["invoices"]}))["runs"])
    assert await OutboxEvent.count().where(OutboxEvent.type == "payment.voided") == voided_before + 1

    actions = [a["name"] for a in m.world.http.get(f"/accountant/{tenant}/api").json()["actions"]]
    if "void_payment" in actions:  # QuickBooks keeps a voided payment, at zero, applied to nothing
        m.world.accountant(tenant, "void_payment", payment_id=links[1].remote_id)
    else:
        m.world.accountant(tenant, "delete_payment", payment_id=links[1].remote_id)
    await m.drain((await m.call("POST", f"/connections/{m.connection.id}/sync", json={"what": ["invoices"]}))["runs"])
    ours = await m.ours("payment-deleted-there")
    assert (ours["payment_status"], ours["balance"]) == ("unpaid", "100.00"), ours
    assert all(p["removed_in_provider"] == m.world.key for p in ours["payments"]), ours["payments"]
    there = await m.theirs(remote_invoice)
    assert there is not None and there.balance == Decimal("100.00"), there


async def a_void_here_frees_time_and_the_books_bill_it_again(m: Month) -> None:
    """Time an invoice voided here no longer bills is free here, and the books that keep time
    (QuickBooks `HasBeenBilled`, FreshBooks and Acme `billed`) are told it is billable again, once."""
    entry = await m.call("POST", "/time-entries", json={
        "customer_id": m.customer_id, "person": "Emily Platt", "worked_on": "2026-11-12", "hours": "1.5",
        "rate": "60", "item_id": m.item_id, "description": "Work the voided invoice billed"})
    draft = await m.call("POST", "/invoices/from-time-entries", json={"time_entry_ids": [entry["id"]]})
    invoice = m.invoices["voided-with-time"] = await m.call("POST", f"/invoices/{draft['id']}/finalize")
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    tenant = m.connection.tenant_id

    def billed_there() -> str:
        [row] = [row for row in m.world.table(tenant, "Time") if entry["description"] in row["Description"]]
        return row["Billed"]

    if m.caps.time_activities:
        assert billed_there() == "yes"
    voided = await m.call("POST", f"/invoices/{invoice['id']}/void")
    kinds = [run["kind"] for run in voided["runs"]]
    await m.drain(voided["runs"])
    assert (await m.call("GET", f"/time-entries/{entry['id']}"))["invoice_id"] is None
    audit_entry = await AuditEntry.objects().where((AuditEntry.action == "invoice.void")
                                                   & (AuditEntry.target_id == str(invoice["id"]))).first()
    assert audit_entry is not None and entry["id"] in json.loads(audit_entry.after)["freed_time_entries"], audit_entry
    if not m.caps.time_activities:  # Xero keeps no time records: nothing to tell it
        assert "export_time_entries" not in kinds, kinds
        return
    assert kinds.count("export_time_entries") == 1, kinds
    assert billed_there() == "no"  # billable again: the bookkeeper may invoice it there
    if m.world.key == "quickbooks":
        [row] = [row for row in m.world.table(tenant, "Time") if entry["description"] in row["Description"]]
        assert row["BillableStatus"] == "Billable", row
    # Exactly once: the same run again sends nothing.
    again = await jobs.enqueue(RunKind.export_time_entries, workspace_id=m.connection.workspace,
                               connection_id=m.connection.id, params={"time_entry_ids": [entry["id"]]})
    await m.drain([again])
    outcomes = [row.outcome for row in await RunRecord.objects().where(RunRecord.run == again.id)]
    assert "updated" not in outcomes and "created" not in outcomes, outcomes


async def a_payment_sent_before_applied_amounts_is_not_sent_again(m: Month) -> None:
    """A payment exported before `PaymentData.applied_amount` existed kept that fingerprint: its next
    re-export sends nothing (each used to send one redundant update)."""
    invoice = await m.invoice("paid-long-ago", "75.00")
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    payment = await m.call("POST", "/payments", json={"invoice_id": invoice["id"], "amount": "75.00",
                                                       "reference": "CHK-400"})
    await m.drain_queued()
    link = await ExternalLink.objects().where(
        (ExternalLink.connection == m.connection.id) & (ExternalLink.record_type == "payment")
        & (ExternalLink.record_id == payment["id"])).first()
    assert link is not None and link.remote_id
    customer_link = await ExternalLink.objects().where(
        (ExternalLink.connection == m.connection.id) & (ExternalLink.record_type == "customer")
        & (ExternalLink.record_id == m.customer_id)).first()
    assert customer_link is not None
    row = await Payment.objects().where(Payment.id == payment["id"]).first()
    sent_before = {"local_id": row.id, "invoice_id": (await m.live_link("paid-long-ago"))["remote_id"],
                   "customer_id": customer_link.remote_id, "paid_on": row.paid_on, "amount": row.amount,
                   "currency": invoice["currency"], "method": row.method, "reference": row.reference}
    legacy = hashlib.sha256(json.dumps(sent_before, sort_keys=True, default=str).encode()).hexdigest()
    assert link.fingerprint == legacy  # what is stored now is what was stored before
    await ExternalLink.update({ExternalLink.fingerprint: legacy}).where(ExternalLink.id == link.id)
    again = await jobs.enqueue(RunKind.export_payment, workspace_id=m.connection.workspace,
                               connection_id=m.connection.id, params={"payment_id": payment["id"]})
    await m.drain([again])
    outcomes = [r.outcome for r in await RunRecord.objects().where(RunRecord.run == again.id)]
    assert outcomes == ["skipped"], outcomes


async def a_reconnect_resumes_the_broken_work(m: Month) -> None:
    await m.call("PATCH", f"/connections/{m.connection.id}", json={"auto_export_on_send": True})
    waiting = await m.invoice("while-broken", "70.00")
    m.world.control("tokens/revoke-all")
    await Connection.update({Connection.access_expires_at: utcnow()}).where(Connection.id == m.connection.id)
    runs = (await m.call("POST", f"/invoices/{waiting['id']}/export"))["runs"]
    for run in runs:
        await jobs.execute(run["id"], owner="month")
    row = await Connection.objects().where(Connection.id == m.connection.id).first()
    assert row is not None and row.status == ConnectionStatus.needs_reconnect
    broken = await SyncRun.objects().where(SyncRun.id == runs[0]["id"]).first()
    assert broken.state == RunState.failed or broken.failed == 1, "the export did not pretend to succeed"
    # Sent while broken: auto-export cannot queue it against a broken connection.
    sent = await m.invoice("sent-while-broken", "55.00")
    await m.call("POST", f"/invoices/{sent['id']}/send")
    numbers = m.world.invoice_numbers(m.connection.tenant_id)
    assert waiting["number"] not in numbers and sent["number"] not in numbers

    url = await oauth.begin_connect(m.world.key, workspace_id=m.connection.workspace, user_id=m.user_id,
                                    environment=m.connection.environment, connection_id=m.connection.id)
    await oauth.complete_connect(m.world.consent(url, tenant=m.connection.tenant_id), user_id=m.user_id)
    resumed = await SyncRun.objects().where(
        (SyncRun.connection == m.connection.id) & (SyncRun.state == RunState.queued)
        & SyncRun.trigger.like("reconnect%")).order_by(SyncRun.id)
    assert resumed, "the reconnect queued the broken work again"
    await m.drain(list(resumed))
    numbers = m.world.invoice_numbers(m.connection.tenant_id)
    assert numbers.count(waiting["number"]) == 1 and numbers.count(sent["number"]) == 1, numbers
    for name in ("while-broken", "sent-while-broken"):
        assert (await m.ours(name))["sync"] == "synced"


async def a_payment_voided_here_is_voided_there(m: Month) -> None:
    invoice = await m.invoice("payment-voided", "100.00")
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    payment = await m.call("POST", "/payments", json={"invoice_id": invoice["id"], "amount": "40.00",
                                                       "reference": "CHK-200"})
    await m.drain_queued()
    remote_invoice = (await m.live_link("payment-voided"))["remote_id"]
    there = await m.theirs(remote_invoice)
    assert there is not None and there.balance == Decimal("60.00"), there
    payment_link = await ExternalLink.objects().where(
        (ExternalLink.connection == m.connection.id) & (ExternalLink.record_type == "payment")
        & (ExternalLink.record_id == payment["id"])).first()
    assert payment_link is not None and payment_link.remote_id

    voided = await m.call("POST", f"/payments/{payment['id']}/void")
    assert voided["voided_at"], voided
    ours = await m.ours("payment-voided")  # at once here, before the books hear of it
    assert (ours["payment_status"], ours["balance"]) == ("unpaid", "100.00"), ours
    if not m.caps.void_payments:  # no run: an issue on the payment says to void it there by hand
        assert await m.drain_queued() == []
        issue = await SyncIssue.objects().where(
            (SyncIssue.record_type == "payment") & (SyncIssue.record_id == payment["id"])).first()
        assert issue is not None and issue.code == "not_supported" and issue.fix, issue
        there = await m.theirs(remote_invoice)
        assert there is not None and there.balance == Decimal("60.00"), there
        return
    [run] = await m.drain_queued()
    assert run.kind == "void_payment"
    there = await m.theirs(remote_invoice)
    assert there is not None and there.balance == Decimal("100.00") and there.status == "open", there
    assert all(p.remote_id != payment_link.remote_id or p.amount == 0 for p in there.payments), there.payments
    link = await ExternalLink.objects().where(ExternalLink.id == payment_link.id).first()
    assert link is not None and link.state == "deleted_remote", link
    assert (await m.ours("payment-voided"))["links"][0]["remote_data"]["balance"] == "100.00"
    entry = await AuditEntry.objects().where((AuditEntry.action == "payment.void")
                                             & (AuditEntry.target_id == str(payment["id"]))).first()
    assert entry is not None
    assert await OutboxEvent.count().where(OutboxEvent.type == "payment.voided") == 1

    # Voiding again changes nothing, and a resumed run sends nothing twice.
    await m.call("POST", f"/payments/{payment['id']}/void")
    assert await m.drain_queued() == []
    again = await jobs.enqueue(RunKind.void_payment, workspace_id=m.connection.workspace,
                               connection_id=m.connection.id, params={"payment_id": payment["id"]})
    await m.drain([again])
    there = await m.theirs(remote_invoice)
    assert there is not None and there.balance == Decimal("100.00")


async def an_overpayment_is_credit_there_or_refused_here(m: Month) -> None:
    invoice = await m.invoice("overpaid", "50.00")
    await m.drain((await m.call("POST", f"/invoices/{invoice['id']}/export"))["runs"])
    remote_invoice = (await m.live_link("overpaid"))["remote_id"]
    answer = await m.api.post("/api/v1/payments", json={"invoice_id": invoice["id"], "amount": "65.00"})
    if not m.caps.overpayment_credit:
        assert answer.status_code == 409, answer.text
        error = answer.json()
        said = f"{error.get('message', error.get('detail', ''))} {error.get('fix', '')}"
        assert "65.00" in said and "50.00" in said and "15.00" in said and "balance due" in said, error
        assert (await m.call("GET", f"/payments?invoice_id={invoice['id']}"))["total"] == 0
        there = await m.theirs(remote_invoice)
        assert there is not None and there.balance == Decimal("50.00") and not there.payments, there
        return
    assert answer.status_code == 201, answer.text
    await m.drain_queued()
    there = await m.theirs(remote_invoice)
    assert there is not None and there.balance == Decimal("0") and there.status == "paid", there
    assert sum((p.amount for p in there.payments), Decimal("0")) == Decimal("50.00"), there.payments
    ours = await m.ours("overpaid")
    assert (ours["payment_status"], ours["balance"]) == ("paid", "0.00"), ours
    link = await ExternalLink.objects().where(
        (ExternalLink.connection == m.connection.id) & (ExternalLink.record_type == "payment")
        & (ExternalLink.record_id == answer.json()["id"])).first()
    assert link is not None and "15.00 above its balance is kept as the customer's credit" in link.message, link


Step = Callable[[Month], Awaitable[None]]

#: The month, in order: a customer pushed automatically, time billed into an invoice, taxes stopped
#: then mapped, payments before and after export, bulk export, revert, the bookkeeper's edits (a payment
#: deleted there too), a void freeing time, an old payment's re-export, a reconnect.
STEPS: list[Step] = [
    a_customer_made_here_is_pushed_to_the_books,
    time_billed_into_an_invoice_arrives_billed,
    an_unmapped_tax_rate_stops_the_export_and_mapped_it_arrives_taxed,
    paid_before_export_arrives_paid,
    bulk_export_of_older_invoices,
    revert_edit_and_export_again,
    bookkeeper_pays_one_and_deletes_another,
    bookkeeper_deletes_a_payment_we_exported,
    a_void_here_frees_time_and_the_books_bill_it_again,
    a_payment_sent_before_applied_amounts_is_not_sent_again,
    a_reconnect_resumes_the_broken_work,
]


async def test_a_month_in_the_books(month: Month) -> None:
    for step in STEPS:
        await step(month)


async def test_revert_with_the_provider_numbering_the_new_copy(month: Month) -> None:
    await revert_with_the_provider_numbering_the_new_copy(month)


async def test_a_payment_voided_here_is_voided_there(month: Month) -> None:
    await a_payment_voided_here_is_voided_there(month)


async def test_an_overpayment_is_credit_there_or_refused_here(month: Month) -> None:
    await an_overpayment_is_credit_there_or_refused_here(month)
