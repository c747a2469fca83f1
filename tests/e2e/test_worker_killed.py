"""The conformance cases of `ledgerbridge_testing.conformance.test_worker_killed`, run here once per bundled
provider with a sandbox (the kit's plugin parametrizes `provider`; `--lb-conformance` selects groups)."""

from ledgerbridge_testing.conformance.test_worker_killed import *  # noqa: F403
