"""Serve the Xero sandbox: ``python -m ledgerbridge_xero.sandbox --port 8702``.

The demo backend LedgerBridge uses without real Xero credentials. Every option has an
environment-variable twin (``XERO_SANDBOX_*``) so container setups need no command line.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from ledgerbridge_xero.sandbox.app import create_app
from ledgerbridge_xero.sandbox.config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URIS,
    OAuthClientConfig,
    SandboxConfig,
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults from the environment)."""
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m ledgerbridge_xero.sandbox", description="Xero sandbox server")
    parser.add_argument("--host", default=env("XERO_SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("XERO_SANDBOX_PORT", "8702")))
    parser.add_argument("--public-base-url", default=env("XERO_SANDBOX_PUBLIC_URL"))
    parser.add_argument("--client-id", default=env("XERO_SANDBOX_CLIENT_ID", DEMO_CLIENT_ID))
    parser.add_argument("--client-secret", default=env("XERO_SANDBOX_CLIENT_SECRET", DEMO_CLIENT_SECRET))
    parser.add_argument(
        "--redirect-uri",
        action="append",
        default=[u for u in env("XERO_SANDBOX_REDIRECT_URIS", "").split(",") if u],
        help="registered redirect URI (repeatable); loopback URIs are always accepted",
    )
    parser.add_argument("--time-scale", type=float, default=float(env("XERO_SANDBOX_TIME_SCALE", "1")))
    parser.add_argument("--webhook-url", default=env("XERO_SANDBOX_WEBHOOK_URL"))
    parser.add_argument("--webhook-key", default=env("XERO_SANDBOX_WEBHOOK_KEY"))
    parser.add_argument(
        "--webhook-interval",
        type=float,
        default=float(env("XERO_SANDBOX_WEBHOOK_INTERVAL", "5")),
        help="seconds between automatic webhook deliveries (0 disables)",
    )
    parser.add_argument("--no-control-api", action="store_true", help="disable the /_sandbox control API")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> SandboxConfig:
    """Turn options into a :class:`SandboxConfig`."""
    redirects = tuple(args.redirect_uri) or DEMO_REDIRECT_URIS
    return SandboxConfig(
        clients=(OAuthClientConfig(args.client_id, args.client_secret, redirects, allow_loopback_redirects=True),),
        time_scale=args.time_scale,
        webhook_url=args.webhook_url,
        webhook_key=args.webhook_key,
        webhook_auto_deliver_interval=args.webhook_interval or None,
        public_base_url=args.public_base_url or f"http://{args.host}:{args.port}",
        enable_control_api=not args.no_control_api,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Start uvicorn with the sandbox app."""
    import uvicorn

    args = parse_args(argv)
    uvicorn.run(create_app(build_config(args)), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
