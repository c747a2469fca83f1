"""The conformance cases of `ledgerbridge_testing.conformance.test_connect_routes`, run here once per bundled
provider with a sandbox (the kit's plugin parametrizes `provider`; `--lb-conformance` selects groups)."""

from ledgerbridge_testing.conformance.test_connect_routes import *  # noqa: F403
