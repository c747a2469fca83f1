"""The provider template's tests generate a plugin and run suites in subprocesses: minutes, not seconds."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: generates a project and runs test suites in subprocesses")
