"""Every reason code raised anywhere has default wording: a stable code, a message and a fix."""

from __future__ import annotations

import re
from pathlib import Path

from ledgerbridge.app import ledgerbridge_error
from ledgerbridge.errors import REASONS, LedgerBridgeError
from litestar import get
from litestar.testing import create_test_client

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r'\bcode\s*=\s*"([a-z_]+)"')


def test_every_raised_code_has_a_message_and_a_fix() -> None:
    sources = [p for folder in ("core", "web", "plugins") for p in (ROOT / folder).rglob("*.py")
               if "sandbox" not in p.parts and "migrations" not in p.parts]
    used = {code for path in sources for code in CODE.findall(path.read_text())}
    assert used, "the scan found the codes"
    missing = sorted(used - set(REASONS))
    assert not missing, f"codes without wording in ledgerbridge.errors.REASONS: {missing}"
    for code, reason in REASONS.items():
        assert reason.message.strip() and reason.fix.strip(), code


def test_every_reason_carries_an_error_status() -> None:
    for code, reason in REASONS.items():
        assert 400 <= reason.status <= 599, code


def test_the_app_answers_each_code_with_its_reasons_status() -> None:
    """The exception handler reads the status from the reason table, not a mapping of its own."""

    @get("/raise/{code:str}", sync_to_thread=False)
    def raising(code: str) -> None:
        raise LedgerBridgeError(code=code)

    handlers = {LedgerBridgeError: ledgerbridge_error}
    with create_test_client(route_handlers=[raising], exception_handlers=handlers) as client:
        for code, reason in REASONS.items():
            response = client.get(f"/raise/{code}")
            assert response.status_code == reason.status, code
            assert response.json()["code"] == code
            assert response.json()["fix"] == reason.fix
        assert client.get("/raise/no_such_reason").status_code == 400
