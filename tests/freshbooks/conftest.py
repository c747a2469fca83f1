"""Fixtures for the FreshBooks sandbox tests (helpers live in fb_harness)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fb_harness import SWITCH, FbHarness, running_sandbox

REQUIRED_SPEC_FILES = (
    "FACTS.md",
    "freshbooks/openapi-community.yaml",
    "freshbooks/sdk-fixtures/auth_me_response.json",
    "freshbooks/sdk-fixtures/get_client_response.json",
    "freshbooks/sdk-fixtures/list_callbacks_response.json",
)


@pytest.fixture(scope="session", autouse=True)
def _shared_server() -> Iterator[None]:
    with SWITCH.running():
        yield


@pytest.fixture
def fb() -> Iterator[FbHarness]:
    """Default sandbox: demo businesses, frozen clock, connected as the two-business user."""
    with running_sandbox() as harness:
        yield harness


@pytest.fixture
def fb_factory() -> Iterator[Callable[..., FbHarness]]:
    """Start sandboxes with custom configuration; all stop at the end of the test."""
    managers: list[Any] = []

    def start(**kwargs: Any) -> FbHarness:
        manager = running_sandbox(**kwargs)
        managers.append(manager)
        return manager.__enter__()

    yield start
    for manager in reversed(managers):
        manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def provider_specs() -> Path:
    """The shared provider-spec folder: skipped when unconfigured, an error when incomplete."""
    location = os.environ.get("LEDGERBRIDGE_PROVIDER_SPECS")
    if not location:
        pytest.skip("LEDGERBRIDGE_PROVIDER_SPECS is not set; point it at the provider specs folder")
    root = Path(location)
    missing = [name for name in REQUIRED_SPEC_FILES if not (root / name).is_file()]
    if missing:
        pytest.fail(f"LEDGERBRIDGE_PROVIDER_SPECS={location} lacks: {', '.join(missing)}")
    return root
