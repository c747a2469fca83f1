"""Acme Books: a provider plugin that ships with LedgerBridge's tests.

It is what a third party would write: it knows nothing of LedgerBridge's tables and is found
through the `ledgerbridge` entry point (the `.dist-info` beside this package). Its "remote" is
an SQLite file shared by every process of a test, so a worker in one process and an assertion in
another see the same provider state. Like a real provider with native idempotency, a repeated
idempotency key replays the first answer instead of creating a second record.

Environment: ACME_REMOTE_DB (the file), ACME_EXPORT_DELAY (seconds to stall after applying an
invoice write and before answering, so a test can kill a worker mid-call).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledgerbridge.errors import AuthorizationError, ProviderError, RateLimited
from ledgerbridge.plugins import hookimpl
from ledgerbridge.provider import (
    BatchOutcome,
    Capabilities,
    ExportResult,
    Page,
    ProviderInfo,
    RemoteAccount,
    RemoteCustomer,
    RemoteInvoice,
    RemoteItem,
    RemotePayment,
    RemoteTaxRate,
    Tenant,
    TokenSet,
    WebhookEvent,
)

CALLS: list[str] = []  # hooks called in this process, for tests that check the core called them
THROTTLED_BATCHES = [0]  # how many batch requests to refuse with a 429 next (tests set it)


def _db() -> sqlite3.Connection:
    connection = sqlite3.connect(os.environ["ACME_REMOTE_DB"], timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.executescript(
        """
        CREATE TABLE IF NOT EXISTS record (kind TEXT, id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT,
                                           version INTEGER DEFAULT 0, deleted INTEGER DEFAULT 0);
        CREATE TABLE IF NOT EXISTS replay (key TEXT PRIMARY KEY, answer TEXT);
        CREATE TABLE IF NOT EXISTS token (refresh TEXT PRIMARY KEY, valid INTEGER);
        """
    )
    return connection


def remote_records(kind: str) -> list[dict[str, Any]]:
    """What the provider holds, for assertions."""
    with _db() as db:
        rows = db.execute("SELECT id, body, version, deleted FROM record WHERE kind=?", (kind,)).fetchall()
    return [{"id": str(r[0]), **json.loads(r[1]), "version": r[2], "deleted": bool(r[3])} for r in rows]


def seed(kind: str, body: dict[str, Any]) -> str:
    with _db() as db:
        return str(db.execute("INSERT INTO record(kind, body) VALUES (?, ?)", (kind, json.dumps(body))).lastrowid)


def _write(kind: str, body: dict[str, Any], remote_id: str | None, key: str) -> tuple[str, int, bool]:
    db = _db()
    db.execute("BEGIN IMMEDIATE")
    answer = db.execute("SELECT answer FROM replay WHERE key=?", (key,)).fetchone()
    if answer:
        db.execute("COMMIT")
        rid, version, created = json.loads(answer[0])
        return rid, version, created  # the first answer, replayed
    if kind == "invoice" and remote_id is None:
        taken = db.execute("SELECT body FROM record WHERE kind='invoice' AND deleted=0").fetchall()
        if any(json.loads(row[0])["number"] == body["number"] for row in taken):
            db.execute("ROLLBACK")
            raise ProviderError(f"Invoice number {body['number']} is already used.", code="duplicate_number")
    if remote_id is None:
        rid = str(db.execute("INSERT INTO record(kind, body) VALUES (?, ?)", (kind, json.dumps(body))).lastrowid)
        version, created = 0, True
    else:
        db.execute("UPDATE record SET body=?, version=version+1 WHERE id=?", (json.dumps(body), int(remote_id)))
        rid, created = remote_id, False
        version = db.execute("SELECT version FROM record WHERE id=?", (int(rid),)).fetchone()[0]
    db.execute("INSERT INTO replay(key, answer) VALUES (?, ?)", (key, json.dumps([rid, version, created])))
    db.execute("COMMIT")
    return rid, version, created


CAPS = Capabilities(batch_size=10, native_idempotency=True, webhooks=True, income_accounts=True,
                    time_activities=True, invoice_number_max_length=21, requests_per_minute=600,
                    concurrent_requests=4, pkce=True)


@hookimpl
def provider_info() -> ProviderInfo:
    return ProviderInfo(key="acme", name="Acme Books", version="0.1.0", capabilities=CAPS)


@hookimpl
def authorization_url(settings, environment, redirect_uri, state, code_verifier):
    CALLS.append("authorization_url")
    challenge = hashlib.sha256((code_verifier or "").encode()).hexdigest()
    return f"https://acme.invalid/authorize?state={state}&redirect_uri={redirect_uri}&challenge={challenge}"


def _tokens(refresh_valid_for: float = 3600) -> TokenSet:
    refresh = f"r-{time.time_ns()}"
    with _db() as db:
        db.execute("INSERT INTO token(refresh, valid) VALUES (?, 1)", (refresh,))
    now = datetime.now(UTC)
    return TokenSet(access_token=f"a-{time.time_ns()}", refresh_token=refresh,
                    access_expires_at=now + timedelta(hours=1),
                    refresh_expires_at=now + timedelta(seconds=refresh_valid_for))


@hookimpl
async def exchange_code(settings, environment, code, redirect_uri, code_verifier, params):
    CALLS.append("exchange_code")
    if code != "good-code":
        raise AuthorizationError("The authorization code was refused.", code="token_revoked")
    return _tokens()


@hookimpl
async def connected_tenants(settings, environment, tokens, params):
    CALLS.append("connected_tenants")
    names = params.get("tenants", "acme-1:Acme Test Co").split(",")
    return [Tenant(id=item.split(":")[0], name=item.split(":")[1]) for item in names]


@hookimpl
async def refresh_token(settings, environment, refresh_token):
    CALLS.append("refresh_token")
    db = _db()
    db.execute("BEGIN IMMEDIATE")
    row = db.execute("SELECT valid FROM token WHERE refresh=?", (refresh_token,)).fetchone()
    if not row or not row[0]:
        db.execute("ROLLBACK")
        raise AuthorizationError("invalid_grant", code="token_expired")
    db.execute("UPDATE token SET valid=0 WHERE refresh=?", (refresh_token,))  # single use, rotates
    db.execute("COMMIT")
    return _tokens()


@hookimpl
async def revoke_token(session, refresh_token):
    CALLS.append("revoke_token")
    with _db() as db:
        db.execute("UPDATE token SET valid=0 WHERE refresh=?", (refresh_token,))
    return True


def _page(kind: str, cursor: str | None, build) -> Page:
    start = int(cursor or 0)
    rows = remote_records(kind)
    chunk = rows[start:start + 2]
    more = start + 2 < len(rows)
    return Page(records=[build(r) for r in chunk], next_cursor=str(start + 2) if more else None, cursor="0")


@hookimpl
async def import_customers(session, cursor):
    CALLS.append("import_customers")
    return _page("customer", cursor, lambda r: RemoteCustomer(
        remote_id=r["id"], version=str(r["version"]), deleted=r["deleted"], name=r["name"], email=r.get("email", ""),
        active=r.get("active", True)))


@hookimpl
async def import_items(session, cursor):
    CALLS.append("import_items")
    return _page("item", cursor, lambda r: RemoteItem(
        remote_id=r["id"], name=r["name"], unit_price=Decimal(r.get("price", "0")),
        income_account_id=r.get("account")))


@hookimpl
async def import_accounts(session, cursor):
    CALLS.append("import_accounts")
    return _page("account", cursor, lambda r: RemoteAccount(remote_id=r["id"], name=r["name"],
                                                            account_type="Income"))


@hookimpl
async def import_tax_rates(session, cursor):
    CALLS.append("import_tax_rates")
    return _page("tax_rate", cursor, lambda r: RemoteTaxRate(remote_id=r["id"], name=r["name"],
                                                             rate=Decimal(r["rate"])))


def _result(kind: str, remote_id: str, version: int, created: bool, number: str = "", record=None) -> ExportResult:
    return ExportResult(remote_id=remote_id, version=str(version), number=number, created=created, record=record)


@hookimpl
async def export_customer(session, customer, link, idempotency_key):
    CALLS.append("export_customer")
    rid, version, created = _write("customer", {"name": customer.name, "email": customer.email},
                                   link.remote_id if link else None, idempotency_key)
    return _result("customer", rid, version, created)


@hookimpl
async def export_item(session, item, link, idempotency_key):
    CALLS.append("export_item")
    rid, version, created = _write("item", {"name": item.name, "price": str(item.unit_price),
                                            "account": item.income_account_id},
                                   link.remote_id if link else None, idempotency_key)
    return _result("item", rid, version, created)


def _invoice_body(invoice) -> dict[str, Any]:
    return {"number": invoice.number, "customer": invoice.customer_id, "total": str(invoice.total),
            "balance": str(invoice.total), "status": "open", "issue_date": invoice.issue_date.isoformat()}


@hookimpl
async def export_invoice(session, invoice, link, idempotency_key):
    CALLS.append("export_invoice")
    rid, version, created = _write("invoice", _invoice_body(invoice), link.remote_id if link else None,
                                   idempotency_key)
    delay = float(os.environ.get("ACME_EXPORT_DELAY", "0"))
    if delay:
        await asyncio.sleep(delay)  # applied, not yet answered: the window a crash must survive
    return _result("invoice", rid, version, created, invoice.number,
                   RemoteInvoice(remote_id=rid, number=invoice.number, total=invoice.total, balance=invoice.total))


@hookimpl
async def export_invoices_batch(session, invoices):
    CALLS.append("export_invoices_batch")
    if THROTTLED_BATCHES[0] > 0:  # the provider refuses the whole request, as a 429 does
        THROTTLED_BATCHES[0] -= 1
        raise RateLimited("Acme is throttling batch requests.", retry_after=0.01)
    outcomes = []
    for invoice, link, key in invoices:
        try:
            outcomes.append(BatchOutcome(local_id=invoice.local_id, result=await export_invoice(
                session=session, invoice=invoice, link=link, idempotency_key=key)))
        except ProviderError as exc:
            outcomes.append(BatchOutcome(local_id=invoice.local_id, error=exc))
    return outcomes


@hookimpl
async def export_payment(session, payment, link, idempotency_key):
    CALLS.append("export_payment")
    rid, version, created = _write("payment", {"invoice": payment.invoice_id, "amount": str(payment.amount)},
                                   link.remote_id if link else None, idempotency_key)
    return _result("payment", rid, version, created)


@hookimpl
async def export_time_entry(session, entry, link, idempotency_key):
    CALLS.append("export_time_entry")
    rid, version, created = _write("time", {"person": entry.person, "hours": str(entry.hours)},
                                   link.remote_id if link else None, idempotency_key)
    return _result("time", rid, version, created)


def _set_status(remote_id: str, status: str, deleted: bool = False) -> int:
    with _db() as db:
        body = json.loads(db.execute("SELECT body FROM record WHERE id=?", (int(remote_id),)).fetchone()[0])
        body["status"] = status
        if status == "void":
            body["total"] = body["balance"] = "0"
        db.execute("UPDATE record SET body=?, version=version+1, deleted=? WHERE id=?",
                   (json.dumps(body), int(deleted), int(remote_id)))
        return db.execute("SELECT version FROM record WHERE id=?", (int(remote_id),)).fetchone()[0]


@hookimpl
async def void_invoice(session, link, idempotency_key):
    CALLS.append("void_invoice")
    return _result("invoice", link.remote_id, _set_status(link.remote_id, "void"), False)


@hookimpl
async def delete_invoice(session, link, idempotency_key):
    CALLS.append("delete_invoice")
    return _result("invoice", link.remote_id, _set_status(link.remote_id, "deleted", deleted=True), False)


def _remote_invoice(row: dict[str, Any]) -> RemoteInvoice:
    payments = tuple(RemotePayment(remote_id=p["id"], amount=Decimal(p["amount"])) for p in row.get("payments", []))
    return RemoteInvoice(remote_id=row["id"], version=str(row["version"]), number=row["number"],
                         status="deleted" if row["deleted"] else row["status"], deleted=row["deleted"],
                         total=Decimal(row["total"]), balance=Decimal(row["balance"]), payments=payments)


@hookimpl
async def find_invoice(session, number):
    CALLS.append("find_invoice")
    match = [r for r in remote_records("invoice") if r["number"] == number and not r["deleted"]]
    return _remote_invoice(match[0]) if match else None


@hookimpl
async def poll_invoices(session, cursor, remote_ids):
    CALLS.append("poll_invoices")
    rows = [r for r in remote_records("invoice") if remote_ids is None or r["id"] in remote_ids]
    return Page(records=[_remote_invoice(r) for r in rows], next_cursor=None, cursor="all")


@hookimpl
def record_url(provider_data, environment, record_type, remote_id):
    CALLS.append("record_url")
    return f"https://acme.invalid/{record_type}/{remote_id}"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@hookimpl
def verify_webhook(settings, headers, body):
    CALLS.append("verify_webhook")
    expected = sign(settings.webhook_secret or "acme-secret", body)
    return hmac.compare_digest(expected, headers.get("x-acme-signature", ""))


@hookimpl
def parse_webhook(settings, headers, body):
    CALLS.append("parse_webhook")
    return [WebhookEvent(tenant_id=e["tenant"], record_type=e["type"], remote_id=e["id"], operation=e["op"])
            for e in json.loads(body)["events"]]


EVENTS: list[tuple[str, dict[str, Any]]] = []


@hookimpl
def invoice_exported(workspace_id, connection_id, invoice_id, result):
    EVENTS.append(("invoice_exported", {"invoice_id": invoice_id, "remote_id": result.remote_id}))


@hookimpl
def invoice_status_changed(workspace_id, connection_id, invoice_id, old, new, remote):
    EVENTS.append(("invoice_status_changed", {"invoice_id": invoice_id, "old": old, "new": new}))


@hookimpl
def connection_changed(workspace_id, connection_id, old, new, reason):
    EVENTS.append(("connection_changed", {"connection_id": connection_id, "new": new}))


@hookimpl
async def sync_run_finished(workspace_id, run_id, kind, state, counts):
    EVENTS.append(("sync_run_finished", {"run_id": run_id, "kind": kind, "state": state}))


def set_payment(remote_id: str, amount: str) -> None:
    """The accountant records a payment in Acme Books."""
    with _db() as db:
        body = json.loads(db.execute("SELECT body FROM record WHERE id=?", (int(remote_id),)).fetchone()[0])
        body.setdefault("payments", []).append({"id": f"p{len(body.get('payments', [])) + 1}", "amount": amount})
        body["balance"] = str(Decimal(body["balance"]) - Decimal(amount))
        body["status"] = "paid" if Decimal(body["balance"]) == 0 else "partially_paid"
        db.execute("UPDATE record SET body=?, version=version+1 WHERE id=?", (json.dumps(body), int(remote_id)))
