"""bench/sync.py runs end to end on small numbers for each provider (its figures are the bench's job)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.conformance("bench")
def test_the_sync_bench_runs_on_small_numbers(provider: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "sync.py"), "--provider", provider, "--customers", "20",
         "--invoices", "12"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("provider", "database", "customers", "invoices", "import_records_per_s", "import_fraction_of_ceiling",
                "import_peak_rss_mb", "export_seconds", "ideal_export_seconds", "export_invoices_per_min",
                "ceiling_invoices_per_min", "fraction_of_ceiling", "requests", "requests_per_invoice",
                "responses_429", "failed_429", "duplicates", "lost", "idle_poll_requests"):
        assert key in figures, key
    assert figures["provider"] == provider and figures["invoices"] == 12
    assert figures["duplicates"] == 0 and figures["lost"] == 0
    from ledgerbridge.plugins import get_registry

    # Export against the best schedule the limits allow: ideal <= actual, both measured.
    assert 0 < figures["ideal_export_seconds"] <= figures["export_seconds"]
    assert 0 < figures["fraction_of_ceiling"] <= 1
    assert figures["import_records_per_s"] > 0 and 0 < figures["import_fraction_of_ceiling"] <= 1
    assert figures["requests_per_invoice"] > 0
    if get_registry().provider(provider).capabilities.requests_per_minute:
        assert figures["ceiling_invoices_per_min"] > 0
    else:  # no published limit: the bench says so instead of inventing one
        assert figures["ceiling_invoices_per_min"] is None
