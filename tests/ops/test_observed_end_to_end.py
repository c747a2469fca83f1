"""An operator's view of a full run: connect through the provider's consent page, sign in, import and
bulk-export through the API, refresh a token. Afterwards `/metrics` shows every family having moved,
every JSON log line of a request or run carries its id, and no token, key or password is in the log."""

from __future__ import annotations

import httpx
import pytest
from ledgerbridge import jobs, metrics, oauth, vault
from ledgerbridge.app import create_app
from ledgerbridge.connections import LimitedTransport, provider_limits
from ledgerbridge.identity.api_keys import create_api_key
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Connection, Membership, RunState, SyncRun, utcnow
from ledgerbridge_testing.conformance.steps import OWNER_PASSWORD, connect, local_invoice, map_everything
from ledgerbridge_testing.world import open_world
from litestar.testing import AsyncTestClient

from tests.ops.conftest import CapturedLog, samples, total

PROVIDER = "quickbooks"
BULK = 6


async def drain() -> list[SyncRun]:
    """Execute every queued run here, as a worker would, until none is left (retries included)."""
    finished: dict[int, SyncRun] = {}
    for _ in range(50):
        queued = await SyncRun.objects().where(SyncRun.state == RunState.queued)
        if not queued:
            return list(finished.values())
        for run in queued:
            await SyncRun.update({SyncRun.not_before: None}).where(SyncRun.id == run.id)
            await jobs.execute(run.id, owner="test-worker")
            finished[run.id] = await SyncRun.objects().where(SyncRun.id == run.id).first()
    raise AssertionError("runs kept being queued")


async def full_run(monkeypatch: pytest.MonkeyPatch, log: CapturedLog | None = None) -> dict:
    """Do what a user and the workers do; return what was used and seen."""
    with open_world(PROVIDER, monkeypatch) as world:
        if log is not None:
            log.start()
        secrets: dict[str, str] = {"owner password": OWNER_PASSWORD, "wrong password": "not-the-password-9f3k",
                                   "secret key": get_settings().secret_key}
        for number, key in enumerate(get_settings().encryption_keys):
            secrets[f"encryption key {number}"] = key
        provider_settings = get_settings().provider(PROVIDER)
        secrets["client secret"] = provider_settings.client_secret
        if provider_settings.webhook_secret:
            secrets["webhook secret"] = provider_settings.webhook_secret

        real_complete = oauth.complete_connect

        async def complete_and_note(params: dict[str, str], *, user_id: int) -> oauth.ConnectOutcome:
            secrets["authorization code"] = params["code"]
            return await real_complete(params, user_id=user_id)

        monkeypatch.setattr(oauth, "complete_connect", complete_and_note)
        connection = await connect(world)
        membership = await Membership.objects().where(Membership.workspace == connection.workspace).first()
        api_key = await create_api_key(connection.workspace, "host app", membership.user)
        secrets["api key"] = api_key.key

        app = create_app(get_settings(), background=False)
        async with AsyncTestClient(app=app) as client:
            csrf = (await client.get("/auth/csrf")).json()
            wrong = await client.post("/auth/login", json={"email": "owner@example.com",
                                                           "password": secrets["wrong password"]},
                                      headers={csrf["header"]: csrf["csrf_token"]})
            assert wrong.status_code in (400, 401, 403)
            signed_in = await client.post("/auth/login", json={"email": "owner@example.com",
                                                               "password": OWNER_PASSWORD},
                                          headers={csrf["header"]: csrf["csrf_token"]})
            assert signed_in.status_code == 200, signed_in.text
            secrets["session cookie"] = next(iter(client.cookies.values()))
            client.cookies.clear()

            headers = {"X-API-Key": api_key.key, "X-Request-ID": "req-import-1"}
            answer = await client.post(f"/api/v1/connections/{connection.id}/sync", json={}, headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.headers["x-request-id"] == "req-import-1"
            imported = await drain()
            assert imported and all(run.state == RunState.done for run in imported), [r.error for r in imported]
            await map_everything(connection)

            invoices = [await local_invoice(connection, f"OPS-{n:03d}") for n in range(BULK)]
            answer = await client.post("/api/v1/invoices/export", json={"invoice_ids": [i.id for i in invoices]},
                                       headers={"X-API-Key": api_key.key})
            assert answer.status_code == 200, answer.text
            exported = await drain()
            assert [run.state for run in exported] == [RunState.done], [r.error for r in exported]
            assert sorted(n for n in world.invoice_numbers(connection.tenant_id) if n.startswith("OPS-")) == [
                f"OPS-{n:03d}" for n in range(BULK)]

            # The access token lapses: the next call refreshes it.
            world.control("tokens/expire-access")
            await Connection.update({Connection.access_expires_at: utcnow()}).where(Connection.id == connection.id)
            await client.post(f"/api/v1/connections/{connection.id}/sync", json={"what": ["customers"]},
                              headers={"X-API-Key": api_key.key})
            await drain()

            stored = await Connection.objects().where(Connection.id == connection.id).first()
            assert stored.token_version > connection.token_version, "the token was refreshed"
            for name, row in (("first", connection), ("refreshed", stored)):
                secrets[f"{name} access token"] = vault.decrypt(row.access_token_enc)
                secrets[f"{name} refresh token"] = vault.decrypt(row.refresh_token_enc)

            scraped = await client.get("/metrics")
            assert scraped.status_code == 200
            assert scraped.headers["content-type"].startswith("text/plain")
        return {"secrets": secrets, "metrics": scraped.text, "connection": stored, "export_run": exported[0]}


async def test_metrics_move_during_an_end_to_end_run(database, jobs_run_in_the_test, monkeypatch):
    before = samples((await metrics.exposition()).decode())
    seen = await full_run(monkeypatch)
    after = samples(seen["metrics"])

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("ledgerbridge_http_requests_total", method="POST",
                 route="/api/v1/connections/{connection_id}/sync", status="200") == 2
    assert moved("ledgerbridge_http_requests_total", route="/api/v1/invoices/export") == 1
    assert moved("ledgerbridge_http_request_duration_seconds_count", route="/api/v1/invoices/export") == 1
    assert moved("ledgerbridge_jobs_total", kind="export_invoices", outcome="done") == 1
    assert moved("ledgerbridge_jobs_total", outcome="done") >= 3
    assert moved("ledgerbridge_job_duration_seconds_count", kind="export_invoices") == 1
    assert moved("ledgerbridge_records_total", provider=PROVIDER, record_type="invoice", outcome="created") == BULK
    assert moved("ledgerbridge_records_total", provider=PROVIDER, outcome="failed") == 0
    assert moved("ledgerbridge_provider_requests_total", provider=PROVIDER, status="200") > BULK
    assert moved("ledgerbridge_token_refreshes_total", provider=PROVIDER, outcome="ok") == 1
    # Read at scrape time: nothing waits now, and the connection's allowance is reported.
    assert total(after, "ledgerbridge_queue_depth") == 0
    assert total(after, "ledgerbridge_queue_oldest_age_seconds") == 0
    key = f"{PROVIDER}:{seen['connection'].tenant_id}"
    allowance = total(after, "ledgerbridge_provider_allowance_remaining", connection=key, window="minute")
    limit = provider_limits(PROVIDER).per_minute
    assert limit and 0 < allowance < limit
    assert "ledgerbridge_webhook_deliveries_total" in seen["metrics"]  # the family exists for the webhook stream


async def test_queue_depth_and_oldest_age_are_read_from_the_database(any_database, workspace):
    from datetime import timedelta

    before = samples((await metrics.exposition()).decode())
    assert total(before, "ledgerbridge_queue_depth") == 0
    for minutes in (1, 5):
        await SyncRun(workspace=workspace.id, kind="import_customers", state=RunState.queued,
                      created_at=utcnow(), queued_at=utcnow() - timedelta(minutes=minutes)).save()
    after = samples((await metrics.exposition()).decode())
    assert total(after, "ledgerbridge_queue_depth") == 2
    assert 300 <= total(after, "ledgerbridge_queue_oldest_age_seconds") < 330


async def test_a_429_is_counted_for_its_connection(database, acme):
    key = "acme:tenant-429"
    before = samples((await metrics.exposition()).decode())
    answers = iter([httpx.Response(429, headers={"retry-after": "0"}), httpx.Response(200)])
    transport = LimitedTransport(key, provider_limits("acme"), inner=httpx.MockTransport(lambda r: next(answers)))
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get("https://acme.example/x")).status_code == 429
        assert (await client.get("https://acme.example/x")).status_code == 200
    after = samples((await metrics.exposition()).decode())
    assert total(after, "ledgerbridge_provider_rate_limited_total", connection=key) - total(
        before, "ledgerbridge_provider_rate_limited_total", connection=key) == 1
    assert total(after, "ledgerbridge_provider_requests_total", provider="acme") - total(
        before, "ledgerbridge_provider_requests_total", provider="acme") == 2


async def test_json_log_lines_carry_request_and_run_ids_and_no_secret(database, jobs_run_in_the_test, monkeypatch,
                                                                     json_log):
    seen = await full_run(monkeypatch, json_log)
    lines = json_log.json_lines()
    assert lines, "the run logged something"
    requests = [line for line in lines if line["logger"] == "ledgerbridge.http"]
    assert requests and all(line.get("request_id") for line in requests)
    import_request = [line for line in requests if line["request_id"] == "req-import-1"]
    assert [(line["method"], line["status"]) for line in import_request] == [("POST", 200)]
    assert "?" not in "".join(line["path"] for line in requests)
    ended = [line for line in lines if line["message"].startswith(f"run {seen['export_run'].id} ")]
    assert [(line["run_id"], line["state"]) for line in ended] == [(seen["export_run"].id, "done")]
    assert all(line.get("run_id") for line in lines if line["message"].startswith("run ") and "ended" in
               line["message"])

    log = json_log.text
    assert len(seen["secrets"]) >= 12
    leaked = [name for name, value in seen["secrets"].items() if value and value in log]
    assert leaked == [], f"secrets in the log: {leaked}"


def test_text_format_shows_ids_only_when_set():
    import logging

    from ledgerbridge import logs

    formatter = logs.TextFormatter()
    record = logging.LogRecord("ledgerbridge.jobs", logging.INFO, __file__, 1, "run %s ended", (7,), None)
    logs.ContextIds().filter(record)
    assert formatter.format(record).endswith("ledgerbridge.jobs: run 7 ended")
    with logs.run_context(7):
        record = logging.LogRecord("ledgerbridge.jobs", logging.INFO, __file__, 1, "step", (), None)
        logs.ContextIds().filter(record)
    assert formatter.format(record).endswith("step [run=7]")


def test_redaction_masks_tokens_quoted_from_elsewhere():
    from ledgerbridge import logs

    text = logs.redact('sent Authorization: Bearer abc.DEF-123 with {"refresh_token": "rt-secret"} password=hunter2')
    assert "abc.DEF-123" not in text and "rt-secret" not in text and "hunter2" not in text
    assert "Bearer [redacted]" in text
