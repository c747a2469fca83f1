"""Serve the Xero sandbox: ``python -m ledgerbridge_xero.sandbox --port 8702``.

The demo backend LedgerBridge uses without real Xero credentials. Every option has an
environment-variable twin (``XERO_SANDBOX_*``) so container setups need no command line; the shared
options live in :mod:`ledgerbridge_testing.sandbox.cli`, the webhook signing key is Xero's own.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ledgerbridge_testing.sandbox.cli import SandboxCommand, run

from ledgerbridge_xero.sandbox.app import create_app
from ledgerbridge_xero.sandbox.config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URIS,
    OAuthClientConfig,
    SandboxConfig,
)

COMMAND = SandboxCommand(
    module="ledgerbridge_xero.sandbox",
    description="Xero sandbox server",
    env_prefix="XERO_SANDBOX_",
    port=8702,
    client_id=DEMO_CLIENT_ID,
    client_secret=DEMO_CLIENT_SECRET,
    redirect_uris=DEMO_REDIRECT_URIS,
)


def _xero_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--webhook-key", default=COMMAND.env("WEBHOOK_KEY"))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults from the environment)."""
    return COMMAND.parse(argv, _xero_options)


def build_config(args: argparse.Namespace) -> SandboxConfig:
    """Turn options into a :class:`SandboxConfig` (Xero's identity issuer needs a public URL, so one is made up)."""
    fields = COMMAND.config_fields(args, OAuthClientConfig)
    fields["public_base_url"] = args.public_base_url or f"http://{args.host}:{args.port}"
    return SandboxConfig(**fields, webhook_url=args.webhook_url, webhook_key=args.webhook_key)


def main(argv: Sequence[str] | None = None) -> None:
    """Start uvicorn with the sandbox app."""
    args = parse_args(argv)
    run(create_app(build_config(args)), args)


if __name__ == "__main__":
    main()
