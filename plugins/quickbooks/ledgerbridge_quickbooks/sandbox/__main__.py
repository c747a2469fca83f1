"""Serve the QBO sandbox: ``python -m ledgerbridge_quickbooks.sandbox --port 8701``.

This is the demo backend LedgerBridge uses without real Intuit credentials. Every option has an
environment-variable twin (``QBO_SANDBOX_*``) so container setups need no command line; the shared
options live in :mod:`ledgerbridge_testing.sandbox.cli`, the webhook signing and format ones are QBO's own.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ledgerbridge_testing.sandbox.cli import SandboxCommand, run

from ledgerbridge_quickbooks.sandbox.app import create_app
from ledgerbridge_quickbooks.sandbox.config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URIS,
    OAuthClientConfig,
    SandboxConfig,
)

COMMAND = SandboxCommand(
    module="ledgerbridge_quickbooks.sandbox",
    description="QuickBooks Online sandbox server",
    env_prefix="QBO_SANDBOX_",
    port=8701,
    client_id=DEMO_CLIENT_ID,
    client_secret=DEMO_CLIENT_SECRET,
    redirect_uris=DEMO_REDIRECT_URIS,
    public_url_help="URL clients use to reach the sandbox (discovery document)",
)


def _qbo_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--webhook-verifier-token", default=COMMAND.env("WEBHOOK_TOKEN"))
    parser.add_argument(
        "--webhook-format", choices=("legacy", "cloudevents"), default=COMMAND.env("WEBHOOK_FORMAT", "legacy")
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults from the environment)."""
    return COMMAND.parse(argv, _qbo_options)


def build_config(args: argparse.Namespace) -> SandboxConfig:
    """Turn options into a :class:`SandboxConfig`."""
    return SandboxConfig(
        **COMMAND.config_fields(args, OAuthClientConfig),
        webhook_url=args.webhook_url,
        webhook_verifier_token=args.webhook_verifier_token,
        webhook_format=args.webhook_format,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Start uvicorn with the sandbox app."""
    args = parse_args(argv)
    run(create_app(build_config(args)), args)


if __name__ == "__main__":
    main()
