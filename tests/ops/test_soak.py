"""The fault soak's short variant (`bench/soak.py`, issue 17): the production topology with faults at
every sandbox's door and a worker SIGKILLed, small enough for the suite. Faults must end as delays:
nothing lost, duplicated, unrecorded or wrong, and no run failed or left for a person to retry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.long, pytest.mark.redis, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
ZEROS = ("duplicates", "lost", "unrecorded", "wrong_status", "wrong_total", "failed_runs", "unfinished_runs",
         "runs_retried_by_person")


def test_the_short_soak_ends_with_every_invoice_there_once_and_recorded():
    command = [sys.executable, str(ROOT / "bench" / "soak.py"), "--invoices", "12", "--freshbooks-invoices", "6",
               "--customers", "4", "--bulk", "6", "--workers", "2", "--kills", "1", "--kill-every", "4",
               "--storm-every", "15", "--expire-every", "10", "--timeout", "600"]
    done = subprocess.run(command, env=dict(os.environ), capture_output=True, text=True,
                          timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-4000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    *providers, last = lines
    assert sorted(p["provider"] for p in providers) == ["freshbooks", "quickbooks", "xero"]
    for result in providers:
        assert {name: result[name] for name in ZEROS} == dict.fromkeys(ZEROS, 0), result
        assert result["exported"] == result["invoices"], result
        assert result["worker_kills"] >= 1
    assert sum(r["faults_injected"]["5xx"] + r["faults_injected"]["lost_answer"] for r in providers) > 0
    assert last["summary"]["ok"] is True, last
