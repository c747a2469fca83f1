"""The conformance cases of `ledgerbridge_testing.conformance.test_sync_end_to_end`, run here once per bundled
provider with a sandbox (the kit's plugin parametrizes `provider`; `--lb-conformance` selects groups)."""

from ledgerbridge_testing.conformance.test_sync_end_to_end import *  # noqa: F403
