"""Serve the FreshBooks sandbox: ``python -m ledgerbridge_freshbooks.sandbox --port 8703``.

Every option has an environment-variable twin (``FB_SANDBOX_*``) so container setups need no
command line.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from ledgerbridge_freshbooks.sandbox.app import create_app
from ledgerbridge_freshbooks.sandbox.config import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URIS,
    OAuthClientConfig,
    SandboxConfig,
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults from the environment)."""
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m ledgerbridge_freshbooks.sandbox",
                                     description="FreshBooks sandbox server")
    parser.add_argument("--host", default=env("FB_SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("FB_SANDBOX_PORT", "8703")))
    parser.add_argument("--public-base-url", default=env("FB_SANDBOX_PUBLIC_URL"),
                        help="URL browsers use to reach the sandbox (share and deep links)")
    parser.add_argument("--client-id", default=env("FB_SANDBOX_CLIENT_ID", DEMO_CLIENT_ID))
    parser.add_argument("--client-secret", default=env("FB_SANDBOX_CLIENT_SECRET", DEMO_CLIENT_SECRET))
    parser.add_argument("--redirect-uri", action="append",
                        default=[u for u in env("FB_SANDBOX_REDIRECT_URIS", "").split(",") if u],
                        help="registered redirect URI (repeatable); loopback URIs are always accepted")
    parser.add_argument("--time-scale", type=float, default=float(env("FB_SANDBOX_TIME_SCALE", "1")))
    parser.add_argument("--requests-per-minute", type=int, default=int(env("FB_SANDBOX_RPM", "120")))
    parser.add_argument("--webhook-url", default=env("FB_SANDBOX_WEBHOOK_URL"),
                        help="pre-register verified callbacks for every business to this URL")
    parser.add_argument("--webhook-verifier", default=env("FB_SANDBOX_WEBHOOK_VERIFIER"),
                        help="signing secret of the pre-registered callbacks")
    parser.add_argument("--webhook-interval", type=float, default=float(env("FB_SANDBOX_WEBHOOK_INTERVAL", "5")),
                        help="seconds between automatic webhook deliveries (0 disables)")
    parser.add_argument("--no-control-api", action="store_true", help="disable the /_sandbox control API")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> SandboxConfig:
    """Turn options into a :class:`SandboxConfig`."""
    redirects = tuple(args.redirect_uri) or DEMO_REDIRECT_URIS
    return SandboxConfig(
        clients=(OAuthClientConfig(args.client_id, args.client_secret, redirects, allow_loopback_redirects=True),),
        time_scale=args.time_scale,
        requests_per_minute=args.requests_per_minute,
        preregistered_webhook_url=args.webhook_url,
        preregistered_webhook_verifier=args.webhook_verifier,
        webhook_auto_deliver_interval=args.webhook_interval or None,
        public_base_url=args.public_base_url,
        enable_control_api=not args.no_control_api,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Start uvicorn with the sandbox app."""
    import uvicorn

    args = parse_args(argv)
    uvicorn.run(create_app(build_config(args)), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
