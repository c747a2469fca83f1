"""Every reason code raised anywhere has default wording: a stable code, a message and a fix."""

from __future__ import annotations

import re
from pathlib import Path

from ledgerbridge.errors import REASONS

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
