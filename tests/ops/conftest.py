"""Operations tests: what an operator sees (metrics, logs, processes, backups, release files)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from prometheus_client.parser import text_string_to_metric_families


@dataclass
class CapturedLog:
    """Everything the process logged after `start()`, as the configured handler wrote it."""

    stream: io.StringIO

    def start(self) -> None:
        """Configure logging now (again): a provider sandbox's Litestar app installs its own root handlers
        when it starts, as `ledgerbridge serve` knows; tests start their sandbox first."""
        from ledgerbridge import logs
        from ledgerbridge.settings import get_settings

        logs.configure(get_settings(), stream=self.stream)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture
def json_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[CapturedLog]:
    """Logging configured as `ledgerbridge serve` does with LEDGERBRIDGE_LOG_FORMAT=json, at DEBUG, into memory;
    the root logger's handlers and level are put back afterwards."""
    from ledgerbridge.settings import get_settings

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    monkeypatch.setenv("LEDGERBRIDGE_LOG_FORMAT", "json")
    monkeypatch.setenv("LEDGERBRIDGE_LOG_LEVEL", "DEBUG")
    get_settings.cache_clear()
    captured = CapturedLog(io.StringIO())
    captured.start()
    yield captured
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    get_settings.cache_clear()


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text as {(sample name, sorted labels): value}."""
    found = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(values: dict, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(value for (sample, sample_labels), value in values.items()
               if sample == name and all(dict(sample_labels).get(k) == v for k, v in labels.items()))
