"""The `ledgerbridge` command: serve, worker, scheduler, migrate, createadmin, plugins."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sys

import click

from ledgerbridge.settings import SettingsError, get_settings


def _setup_logging() -> None:
    logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def migrate_database() -> None:
    """Apply every pending migration; safe to run on each start."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards("ledgerbridge")
    if not result.success:
        raise click.ClickException(f"migration failed: {result.message}")


@click.group()
def main() -> None:
    """LedgerBridge: keep your apps and QuickBooks Online, Xero and FreshBooks in step."""
    try:
        get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    asyncio.run(migrate_database())
    click.echo("database is up to date")


@main.command()
@click.option("--email", required=True)
@click.option("--password", help="Prompted for when omitted.")
@click.option("--workspace", "workspace_name", default="My business", show_default=True)
@click.option("--reset-password", is_flag=True, help="Set a new password if the user exists.")
def createadmin(email: str, password: str | None, workspace_name: str, reset_password: bool) -> None:
    """Create an owner account (and its first workspace)."""
    from ledgerbridge.identity.memberships import create_admin

    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def run() -> None:
        await migrate_database()
        await create_admin(email, password, workspace_name, reset_password=reset_password)

    asyncio.run(run())
    click.echo(f"owner {email} is ready")


async def _first_admin() -> tuple[str, str] | None:
    """On a fresh install, create a first owner with a random password, to be printed once."""
    from ledgerbridge.identity.memberships import create_admin
    from ledgerbridge.tables import User

    if await User.count() > 0:
        return None
    email = os.environ.get("LEDGERBRIDGE_ADMIN_EMAIL", "admin@example.com")
    password = os.environ.get("LEDGERBRIDGE_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    await create_admin(email, password, "My business")
    return email, password


@main.command()
@click.option("--host", default=None, help="Defaults to LEDGERBRIDGE_HOST.")
@click.option("--port", type=int, default=None, help="Defaults to LEDGERBRIDGE_PORT.")
def serve(host: str | None, port: int | None) -> None:
    """Run the server; without LEDGERBRIDGE_BROKER_URL, jobs run in this process too."""
    import uvicorn

    _setup_logging()
    settings = get_settings()

    async def prepare() -> tuple[str, str] | None:
        await migrate_database()
        return await _first_admin()

    first = asyncio.run(prepare())
    from ledgerbridge.app import create_app
    from ledgerbridge.demo import start_sandboxes, stop_sandboxes

    sandboxes = start_sandboxes(settings)
    app = create_app()
    url = settings.base_url
    click.echo(f"LedgerBridge is starting on {url}")
    click.echo(f"  database: {settings.database_url}")
    click.echo(f"  jobs: {'in this process' if settings.embedded_broker else settings.broker_url}")
    for sandbox in sandboxes:
        click.echo(f"  {sandbox.name}: local sandbox at {sandbox.url} (no credentials configured; demo data)")
    if first:
        click.echo(f"  first sign-in: {first[0]} / {first[1]}  (shown once; change it after signing in)")
    try:
        uvicorn.run(app, host=host or settings.host, port=port or settings.port,
                    log_level=settings.log_level.lower(), proxy_headers=True)
    finally:
        stop_sandboxes(sandboxes)


@main.command()
@click.option("--processes", "-p", default=1, show_default=True)
@click.option("--threads", "-t", default=None, type=int, help="Defaults to LEDGERBRIDGE_WORKER_THREADS.")
def worker(processes: int, threads: int | None) -> None:
    """Run Dramatiq workers against the Redis broker (LEDGERBRIDGE_BROKER_URL)."""
    settings = get_settings()
    if settings.embedded_broker:
        raise click.ClickException(
            "LEDGERBRIDGE_BROKER_URL is not set: jobs run inside `ledgerbridge serve`. "
            "Set it to a redis:// URL to run separate workers."
        )
    from dramatiq.cli import main as dramatiq_main

    from ledgerbridge.worker import worker_argv

    sys.argv = worker_argv(processes, threads or settings.worker_threads)
    sys.exit(dramatiq_main())


@main.command()
def scheduler() -> None:
    """Run the periodic work (sweeper, status polls, token keep-alive); one per deployment."""
    _setup_logging()
    if get_settings().embedded_broker:
        raise click.ClickException("Without LEDGERBRIDGE_BROKER_URL the scheduler runs inside `ledgerbridge serve`.")
    from ledgerbridge.scheduler import run_forever

    run_forever()


@main.command()
def plugins() -> None:
    """List installed plugins, their versions and what each provider can do."""
    from dataclasses import asdict

    from ledgerbridge.plugins import get_registry

    for record in get_registry().records():
        line = f"{record.name}  {record.distribution} {record.version}".rstrip()
        click.echo(line)
        if record.provider:
            caps = asdict(record.provider.capabilities)
            click.echo(f"    provider {record.provider.key!r}: {record.provider.name}")
            click.echo("    " + ", ".join(f"{key}={value}" for key, value in caps.items()))


@main.command()
def genkey() -> None:
    """Print a new token-encryption key for LEDGERBRIDGE_ENCRYPTION_KEYS."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@main.command()
def rekey() -> None:
    """Re-encrypt every stored token under the first LEDGERBRIDGE_ENCRYPTION_KEYS key."""
    from ledgerbridge import vault
    from ledgerbridge.db import write_transaction
    from ledgerbridge.tables import Connection

    async def run() -> int:
        rows = await Connection.select(Connection.id, Connection.access_token_enc, Connection.refresh_token_enc)
        async with write_transaction():
            for row in rows:
                await Connection.update({
                    Connection.access_token_enc: vault.rotate(row["access_token_enc"]),
                    Connection.refresh_token_enc: vault.rotate(row["refresh_token_enc"]),
                }).where(Connection.id == row["id"])
        return len(rows)

    click.echo(f"re-encrypted the tokens of {asyncio.run(run())} connections")
