"""The command line every sandbox shares: ``python -m ledgerbridge_<provider>.sandbox --port N``.

Each sandbox runs as its own process for demos and containers. Where to listen, which client
credentials and redirect URIs to accept, how fast time runs and where webhooks go mean the same for
every provider, and every option has an environment-variable twin (``<PREFIX>PORT`` ...) so container
setups need no command line. A sandbox adds its own options to the parser this module builds and turns
the shared ones into its own configuration type with :meth:`SandboxCommand.config_fields`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: Builds a provider's ``OAuthClientConfig(client_id, client_secret, redirect_uris, allow_loopback_redirects=)``.
ClientFactory = Callable[..., Any]


@dataclass(frozen=True)
class SandboxCommand:
    """What one sandbox's command line says about itself; the options themselves are shared."""

    module: str  # "ledgerbridge_quickbooks.sandbox": the program name in --help
    description: str
    env_prefix: str  # "QBO_SANDBOX_"
    port: int
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    public_url_help: str | None = None
    webhook_url_help: str | None = None

    def env(self, name: str, default: str | None = None) -> str | None:
        """The environment twin of an option: ``<PREFIX><NAME>``."""
        return os.environ.get(self.env_prefix + name, default)

    def parser(self) -> argparse.ArgumentParser:
        """The shared options (defaults from the environment); the caller adds its provider's own."""
        env = self.env
        parser = argparse.ArgumentParser(prog=f"python -m {self.module}", description=self.description)
        parser.add_argument("--host", default=env("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(env("PORT", str(self.port)) or self.port))
        parser.add_argument("--public-base-url", default=env("PUBLIC_URL"), help=self.public_url_help)
        parser.add_argument("--client-id", default=env("CLIENT_ID", self.client_id))
        parser.add_argument("--client-secret", default=env("CLIENT_SECRET", self.client_secret))
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[u for u in (env("REDIRECT_URIS", "") or "").split(",") if u],
            help="registered redirect URI (repeatable); loopback URIs are always accepted",
        )
        parser.add_argument("--time-scale", type=float, default=float(env("TIME_SCALE", "1") or 1))
        parser.add_argument("--webhook-url", default=env("WEBHOOK_URL"), help=self.webhook_url_help)
        parser.add_argument(
            "--webhook-interval",
            type=float,
            default=float(env("WEBHOOK_INTERVAL", "5") or 5),
            help="seconds between automatic webhook deliveries (0 disables)",
        )
        parser.add_argument("--no-control-api", action="store_true", help="disable the /_sandbox control API")
        return parser

    def parse(self, argv: Sequence[str] | None, add_options: Callable[[argparse.ArgumentParser], None] | None = None
              ) -> argparse.Namespace:
        """Parse ``argv`` with the shared options plus those ``add_options`` adds."""
        parser = self.parser()
        if add_options is not None:
            add_options(parser)
        return parser.parse_args(argv)

    def config_fields(self, args: argparse.Namespace, client: ClientFactory) -> dict[str, Any]:
        """The configuration every sandbox takes from the shared options (its ``SandboxConfig`` keywords).

        One registered client with the given credentials; loopback redirects are always accepted so a
        local LedgerBridge on any port can connect.
        """
        redirects = tuple(args.redirect_uri) or self.redirect_uris
        return {
            "clients": (client(args.client_id, args.client_secret, redirects, allow_loopback_redirects=True),),
            "time_scale": args.time_scale,
            "webhook_auto_deliver_interval": args.webhook_interval or None,
            "public_base_url": args.public_base_url,
            "enable_control_api": not args.no_control_api,
        }


def run(app: Any, args: argparse.Namespace) -> None:
    """Serve ``app`` with uvicorn on the parsed host and port until interrupted."""
    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
