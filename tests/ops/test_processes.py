"""Each command as a person or a container runs it: a clean start, waiting for migrations, a graceful stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from ledgerbridge.settings import SettingsError, load_settings
from ledgerbridge_testing.servers import free_port

pytestmark = pytest.mark.slow


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ledgerbridge", *args], env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_until(predicate, what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def interrupt(process: subprocess.Popen) -> int:
    """Ctrl+C, as a terminal sends it to the foreground process group."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        return process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return dict(os.environ, LEDGERBRIDGE_DATA_DIR=str(tmp_path / "data"),
                LEDGERBRIDGE_DATABASE_URL=f"sqlite:///{tmp_path / 'ledgerbridge.sqlite3'}", **extra)


def test_serve_starts_cleanly_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = base_env(tmp_path, LEDGERBRIDGE_PORT=str(port), LEDGERBRIDGE_SANDBOXES="off", LEDGERBRIDGE_BROKER_URL="",
                   LEDGERBRIDGE_ADMIN_PASSWORD="first-admin-pw-123", PYTHONWARNINGS="default")
    log = tmp_path / "serve.log"
    process = spawn(["serve"], env, log)
    try:
        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, "serve to answer")
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "probe-1"})
        assert answer.headers["x-request-id"] == "probe-1"
    finally:
        code = interrupt(process)
    output = log.read_text()
    assert code == 0, output
    assert "Traceback" not in output and "Warning" not in output, output
    assert "migrations already complete" not in output and "not yet run" not in output
    assert output.count("applied ") == 1  # one line for the migrations
    assert "Uvicorn running" not in output and "Started server process" not in output  # said once, by us
    lines = output.strip().splitlines()
    assert lines[-1] == "LedgerBridge stopped"
    assert len(lines) <= 10, output


def test_workers_and_the_scheduler_wait_for_migrations_and_stop_gracefully(tmp_path, redis_url):
    env = base_env(tmp_path, LEDGERBRIDGE_BROKER_URL=redis_url, LEDGERBRIDGE_LOG_FORMAT="json",
                   LEDGERBRIDGE_WORKER_METRICS_PORT=str(free_port()))
    scheduler = spawn(["scheduler"], env, tmp_path / "scheduler.log")
    worker = spawn(["worker", "-t", "1"], env, tmp_path / "worker.log")
    try:
        wait_until(lambda: "waiting for" in (tmp_path / "scheduler.log").read_text()
                   and "waiting for" in (tmp_path / "worker.log").read_text(), "both to say they wait")
        time.sleep(1)
        assert scheduler.poll() is None and worker.poll() is None, "they wait instead of failing"
        assert "scheduler running" not in (tmp_path / "scheduler.log").read_text()
        migrated = subprocess.run([sys.executable, "-m", "ledgerbridge", "migrate"], env=env, capture_output=True,
                                  text=True, timeout=120)
        assert migrated.returncode == 0 and "applied" in migrated.stdout, migrated.stderr

        def beats() -> bool:
            checked = subprocess.run([sys.executable, "-m", "ledgerbridge", "healthcheck", "--role", "worker"],
                                     env=env, capture_output=True, text=True, timeout=60)
            return checked.returncode == 0

        wait_until(lambda: "scheduler running" in (tmp_path / "scheduler.log").read_text(), "the scheduler")
        wait_until(beats, "the worker's heartbeat")
    finally:
        codes = {"scheduler": interrupt(scheduler), "worker": interrupt(worker)}
    logs = {name: (tmp_path / f"{name}.log").read_text() for name in ("scheduler", "worker")}
    assert codes == {"scheduler": 0, "worker": 0}, logs
    for name, text in logs.items():
        assert "Traceback" not in text, text
        ours = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        assert ours, f"{name} wrote JSON lines"
    assert "scheduler stopped" in logs["scheduler"]


def test_separate_processes_need_shared_secrets(monkeypatch):
    monkeypatch.setenv("LEDGERBRIDGE_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.delenv("LEDGERBRIDGE_ENCRYPTION_KEYS")
    with pytest.raises(SettingsError, match="LEDGERBRIDGE_ENCRYPTION_KEYS must be set"):
        load_settings()


def test_genkey_works_before_the_keys_are_set(tmp_path, monkeypatch):
    env = base_env(tmp_path, LEDGERBRIDGE_BROKER_URL="redis://127.0.0.1:1/0", LEDGERBRIDGE_ENCRYPTION_KEYS="")
    made = subprocess.run([sys.executable, "-m", "ledgerbridge", "genkey"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert made.returncode == 0, made.stderr
    monkeypatch.setenv("LEDGERBRIDGE_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("LEDGERBRIDGE_ENCRYPTION_KEYS", made.stdout.strip())
    assert load_settings().encryption_keys == (made.stdout.strip(),)


def test_log_format_is_json_or_text(monkeypatch):
    monkeypatch.setenv("LEDGERBRIDGE_LOG_FORMAT", "xml")
    with pytest.raises(SettingsError, match="LOG_FORMAT must be json or text"):
        load_settings()
