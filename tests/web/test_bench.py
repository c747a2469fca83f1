"""bench/ui.py runs end to end on a small workspace (timings are not checked: they are the bench's job)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_ui_bench_runs_on_small_numbers(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ui.py"), "--invoices", "30", "--renders", "1"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"/invoices": {' in result.stdout and '"median_ms"' in result.stdout
