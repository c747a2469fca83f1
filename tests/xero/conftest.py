"""Fixtures for the Xero sandbox tests: sandboxes over real HTTP, and Xero's OpenAPI specs.

The default sandbox has a frozen clock, so time moves only when a test advances it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from xero_harness import XeroHarness, running_sandbox

REQUIRED_SPEC_FILES = ("FACTS.md", "xero/xero_accounting.yaml", "xero/xero-identity.yaml", "xero/xero-webhooks.yaml")


@pytest.fixture
def xero() -> Iterator[XeroHarness]:
    """Default sandbox: demo organisations, production limits, frozen clock."""
    with running_sandbox() as harness:
        yield harness


@pytest.fixture
def xero_factory() -> Iterator[Callable[..., XeroHarness]]:
    """Start sandboxes with custom configuration; all stop at the end of the test."""
    managers: list[Any] = []

    def start(**kwargs: Any) -> XeroHarness:
        manager = running_sandbox(**kwargs)
        harness = manager.__enter__()
        managers.append(manager)
        return harness

    yield start
    for manager in reversed(managers):
        manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def xero_specs() -> Path:
    """The shared spec folder: skip when unconfigured, fail when incomplete."""
    location = os.environ.get("LEDGERBRIDGE_PROVIDER_SPECS")
    if not location:
        pytest.skip("LEDGERBRIDGE_PROVIDER_SPECS is not set; point it at the provider specs folder")
    root = Path(location)
    missing = [name for name in REQUIRED_SPEC_FILES if not (root / name).is_file()]
    if missing:
        pytest.fail(f"LEDGERBRIDGE_PROVIDER_SPECS={location} lacks: {', '.join(missing)}")
    return root
