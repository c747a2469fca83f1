"""The conformance suite: the engine end to end against a provider's sandbox, for every provider.

A provider plugin that offers a sandbox (`demo_sandbox`) runs it with ``pytest --lb-provider=KEY``;
nothing of the provider is written here, the cases adapt to its declared capabilities. Each case
carries ``@pytest.mark.conformance(GROUP)`` so a plugin in the making can run some groups only
(``--lb-conformance=connect,import``).
"""

from pathlib import Path

HERE = Path(__file__).parent

# Every group a case may name, in the order a new provider usually passes them.
GROUPS = ("connect", "import", "export", "readback", "faults", "tokens", "month", "workers", "bench")
