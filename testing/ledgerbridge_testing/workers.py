"""Real `ledgerbridge worker` and `scheduler` processes, started and killed by a test.

What a crash does to a run can only be shown with a real process killed at a bad moment: the test
starts workers against its own database and broker, kills one with SIGKILL mid-job and waits for
another to finish the job. The processes see the same plugins as the test process, because they
get its import path.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def process_env(database_url: str, broker_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment, pointed at ``database_url`` and ``broker_url``, with short leases so a
    killed worker's job is taken over in seconds, and this process's import path."""
    path = os.pathsep.join(entry for entry in sys.path if entry and os.path.isdir(entry))
    return dict(os.environ, LEDGERBRIDGE_DATABASE_URL=database_url, LEDGERBRIDGE_BROKER_URL=broker_url,
                LEDGERBRIDGE_JOB_LEASE_SECONDS="3", LEDGERBRIDGE_SWEEP_INTERVAL_SECONDS="1",
                LEDGERBRIDGE_DATA_DIR=str(data_dir), PYTHONPATH=path, **extra)


def start_process(command: str, env: Mapping[str, str], log: Path) -> subprocess.Popen:
    """Start ``ledgerbridge <command>`` (a worker gets one thread) in a session of its own, logging to ``log``."""
    threads = ["-t", "1"] if command == "worker" else []
    return subprocess.Popen([sys.executable, "-m", "ledgerbridge", command, *threads], env=dict(env),
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def stop_process(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` (default: kill, as a crash would) to the process's whole group and reap it."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    process.wait(20)


async def wait_for(predicate: Callable[[], Awaitable[T]], what: str, attempts: int = 600) -> T:
    """Poll ``predicate`` every 0.1 s until it returns something truthy, and return that."""
    for _ in range(attempts):
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")
