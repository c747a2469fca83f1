"""The LedgerBridge plugin kit: what a provider plugin's author needs to prove a plugin works.

* :mod:`.sandbox` - the toolkit a provider's local sandbox is built from (clock, OAuth store, limits,
  faults, webhooks, accountant view, ``/_sandbox`` control API);
* :mod:`.pytest_plugin` - fixtures (databases, servers, a connected provider, a capturing session) and
  the ``--lb-provider`` / ``--lb-conformance`` options;
* :mod:`.conformance` - the end-to-end suite every provider with a sandbox must pass.

Importing this package imports nothing of LedgerBridge: the pytest plugin sets up the test
environment first, and only then loads the modules that read it.
"""
