"""Fixtures for the QBO sandbox tests (helpers live in qbo_harness): sandboxes over real HTTP, the spec folder."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ledgerbridge_quickbooks.sandbox import SandboxConfig
from ledgerbridge_testing.sandbox.clock import SandboxClock
from qbo_harness import REALM, SWITCH, QboHarness, running_sandbox


@pytest.fixture(scope="session", autouse=True)
def _shared_server() -> Iterator[None]:
    with SWITCH.running():
        yield


@pytest.fixture
def qbo() -> Iterator[QboHarness]:
    """Default sandbox (demo companies, production limits, frozen clock at START)."""
    with running_sandbox() as harness:
        yield harness


@pytest.fixture
def qbo_factory() -> Iterator[Callable[..., QboHarness]]:
    """Start sandboxes with custom configuration; all are stopped at the end of the test."""
    stack: list[Any] = []

    def start(
        config: SandboxConfig | None = None,
        clock: SandboxClock | None = None,
        realm: str = REALM,
        dedicated: bool = False,
    ) -> QboHarness:
        manager = running_sandbox(config, clock, realm, dedicated)
        harness = manager.__enter__()
        stack.append(manager)
        return harness

    yield start
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


REQUIRED_SPEC_FILES = (
    "FACTS.md",
    "quickbooks/xsd/IntuitRestServiceDef.xsd",
    "quickbooks/xsd/Finance.xsd",
    "quickbooks/xsd/IntuitBaseTypes.xsd",
    "quickbooks/xsd/IntuitNamesTypes.xsd",
    "quickbooks/xsd/SalesTax.xsd",
    "quickbooks/xsd/Report.xsd",
    "quickbooks/oauth2-documents/success_token_response.json",
    "quickbooks/oauth2-documents/discovery.json",
    "quickbooks/oauth2-documents/success_userinfo_response.json",
)


@pytest.fixture(scope="session")
def provider_specs() -> Path:
    """The shared provider-spec folder: skipped when unconfigured, an error when incomplete."""
    location = os.environ.get("LEDGERBRIDGE_PROVIDER_SPECS")
    if not location:
        pytest.skip(
            "LEDGERBRIDGE_PROVIDER_SPECS is not set; point it at the provider specs folder "
            "(e.g. /work/shared/providers) to run the spec-fidelity tests"
        )
    root = Path(location)
    missing = [name for name in REQUIRED_SPEC_FILES if not (root / name).is_file()]
    if missing:
        pytest.fail(f"LEDGERBRIDGE_PROVIDER_SPECS={location} lacks: {', '.join(missing)}")
    return root


@pytest.fixture(scope="session")
def qbo_xsd(provider_specs: Path) -> Any:
    """The official QBO schema loaded with xmlschema (once per session)."""
    from qbo_sandbox_xsd import QboXsd

    return QboXsd(provider_specs / "quickbooks" / "xsd")
