"""The conformance cases of `ledgerbridge_testing.conformance.test_month`, run here once per bundled
provider with a sandbox (the kit's plugin parametrizes `provider`; `--lb-conformance=month` selects them)."""

from ledgerbridge_testing.conformance.test_month import *  # noqa: F403
