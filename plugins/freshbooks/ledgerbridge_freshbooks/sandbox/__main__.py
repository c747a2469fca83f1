"""Serve the FreshBooks sandbox: ``python -m ledgerbridge_freshbooks.sandbox --port 8703``.

Every option has an environment-variable twin (``FB_SANDBOX_*``) so container setups need no
command line; the shared options live in :mod:`ledgerbridge_testing.sandbox.cli`. FreshBooks registers
webhooks per business, so the webhook URL pre-registers verified callbacks instead of naming one
endpoint, and its request limit is a guess worth overriding.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ledgerbridge_testing.sandbox.cli import SandboxCommand, run

from ledgerbridge_freshbooks.sandbox.app import create_app
from ledgerbridge_freshbooks.sandbox.config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URIS,
    OAuthClientConfig,
    SandboxConfig,
)

COMMAND = SandboxCommand(
    module="ledgerbridge_freshbooks.sandbox",
    description="FreshBooks sandbox server",
    env_prefix="FB_SANDBOX_",
    port=8703,
    client_id=DEMO_CLIENT_ID,
    client_secret=DEMO_CLIENT_SECRET,
    redirect_uris=DEMO_REDIRECT_URIS,
    public_url_help="URL browsers use to reach the sandbox (share and deep links)",
    webhook_url_help="pre-register verified callbacks for every business to this URL",
)


def _fb_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests-per-minute", type=int, default=int(COMMAND.env("RPM", "120") or 120))
    parser.add_argument("--webhook-verifier", default=COMMAND.env("WEBHOOK_VERIFIER"),
                        help="signing secret of the pre-registered callbacks")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults from the environment)."""
    return COMMAND.parse(argv, _fb_options)


def build_config(args: argparse.Namespace) -> SandboxConfig:
    """Turn options into a :class:`SandboxConfig`."""
    return SandboxConfig(
        **COMMAND.config_fields(args, OAuthClientConfig),
        requests_per_minute=args.requests_per_minute,
        preregistered_webhook_url=args.webhook_url,
        preregistered_webhook_verifier=args.webhook_verifier,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Start uvicorn with the sandbox app."""
    args = parse_args(argv)
    run(create_app(build_config(args)), args)


if __name__ == "__main__":
    main()
