"""The `ledgerbridge` command: serve, worker, scheduler, migrate, backup, restore, healthcheck, and admin tools.

Commands import what they run lazily (inside the command), so `ledgerbridge --help` and the container
health check start fast and a worker never imports the web server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

import click

from ledgerbridge import __version__, logs
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.settings import PREFIX, Settings, SettingsError, encryption_key_file, get_settings

log = logging.getLogger("ledgerbridge")


def _setup_logging() -> None:
    logs.configure(get_settings())


async def migrate_database() -> list[str]:
    """Apply every pending migration; safe to run on each start."""
    from ledgerbridge import schema

    try:
        return await schema.migrate()
    except LedgerBridgeError as exc:
        raise click.ClickException(f"{exc.message} {exc.fix}") from exc


# Commands that make the secrets the settings check for: they must run before those are set.
NEEDS_NO_SETTINGS = {"genkey"}


@click.group()
@click.version_option(__version__, "--version", "-V", package_name="ledgerbridge", prog_name="ledgerbridge")
@click.pass_context
def main(ctx: click.Context) -> None:
    """LedgerBridge: keep your apps and QuickBooks Online, Xero and FreshBooks in step."""
    if ctx.invoked_subcommand in NEEDS_NO_SETTINGS:
        return
    try:
        get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    applied = asyncio.run(migrate_database())
    click.echo(f"applied {len(applied)} migrations; the database is up to date" if applied
               else "the database is up to date")


@main.command()
@click.option("--email", required=True)
@click.option("--password", help="Prompted for when omitted.")
@click.option("--workspace", "workspace_name", default="My business", show_default=True)
@click.option("--reset-password", is_flag=True,
              help="Set a new password if the user exists; they must change it at their next sign-in.")
def createadmin(email: str, password: str | None, workspace_name: str, reset_password: bool) -> None:
    """Create an owner account (and its first workspace)."""
    from ledgerbridge.identity.memberships import create_admin

    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def run() -> None:
        await migrate_database()
        # A reset is a password chosen for the person: they choose their own at the next sign-in.
        await create_admin(email, password, workspace_name, reset_password=reset_password,
                           must_change_password=reset_password)

    asyncio.run(run())
    click.echo(f"owner {email} is ready")


async def _first_admin() -> tuple[str, str] | None:
    """On a fresh install, create a first owner with a random password, to be printed once."""
    from ledgerbridge.identity.memberships import create_admin
    from ledgerbridge.tables import User

    if await User.count() > 0:
        return None
    email = os.environ.get("LEDGERBRIDGE_ADMIN_EMAIL", "admin@example.com")
    configured = os.environ.get("LEDGERBRIDGE_ADMIN_PASSWORD")
    password = configured or secrets.token_urlsafe(12)
    # A generated password is printed to a terminal or a log: good for one sign-in, then replaced.
    await create_admin(email, password, "My business", must_change_password=not configured)
    # A password from the environment is already known to whoever set it: never echo it to a log.
    return email, "" if configured else password


@main.command()
@click.option("--host", default=None, help="Defaults to LEDGERBRIDGE_HOST.")
@click.option("--port", type=int, default=None, help="Defaults to LEDGERBRIDGE_PORT.")
def serve(host: str | None, port: int | None) -> None:
    """Run the server; without LEDGERBRIDGE_BROKER_URL, jobs run in this process too."""
    import uvicorn

    _setup_logging()
    settings = get_settings()
    _warn_key_beside_database(settings)
    if settings.password_hashing == "fast":
        log.warning("LEDGERBRIDGE_PASSWORD_HASHING=fast: passwords are hashed with argon2's cheapest profile, "
                    "meant for test runs; unset it before real people sign in")

    async def prepare() -> tuple[str, str] | None:
        await migrate_database()
        return await _first_admin()

    first = asyncio.run(prepare())
    from ledgerbridge.app import create_app
    from ledgerbridge.demo import start_sandboxes, stop_sandboxes

    sandboxes = start_sandboxes(settings)
    app = create_app()
    _setup_logging()  # again: each sandbox's uvicorn installed its own handlers while starting
    url = settings.base_url
    click.echo(f"LedgerBridge is starting on {url}")
    click.echo(f"  database: {settings.database_url}")
    click.echo(f"  jobs: {'in this process' if settings.embedded_broker else settings.broker_url}")
    for sandbox in sandboxes:
        click.echo(f"  {sandbox.name}: local sandbox at {sandbox.url} (no credentials configured; demo data)")
    if first:
        if first[1]:
            click.echo(f"  first sign-in: {first[0]} / {first[1]}  (shown once; you choose your own at first sign-in)")
        else:
            click.echo(f"  first sign-in: {first[0]} with LEDGERBRIDGE_ADMIN_PASSWORD")
    try:
        # log_config=None: uvicorn keeps our handlers instead of installing its own (one format, no doubles);
        # access_log=False: our request middleware writes the one line per request, with its id.
        uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_config=None,
                    access_log=False, proxy_headers=True)
    except KeyboardInterrupt:
        pass  # uvicorn has already shut down gracefully on the first Ctrl+C
    finally:
        stop_sandboxes(sandboxes)
    click.echo("LedgerBridge stopped")


def _warn_key_beside_database(settings: Settings) -> None:
    """In production, a generated key file in the data directory means one copied folder holds keys and data."""
    if os.environ.get(PREFIX + "ENCRYPTION_KEYS") or not settings.base_url.startswith("https://"):
        return
    key_file = encryption_key_file(settings.data_dir)
    if key_file.parent != settings.data_dir:
        return
    log.warning("the token-encryption key is the generated file %s, beside the data it protects; set "
                "LEDGERBRIDGE_ENCRYPTION_KEYS from a secret store (see README, Configure) and keep it out of "
                "backups", key_file)


@main.command()
@click.option("--processes", "-p", default=1, show_default=True)
@click.option("--threads", "-t", default=None, type=int, help="Defaults to LEDGERBRIDGE_WORKER_THREADS.")
def worker(processes: int, threads: int | None) -> None:
    """Run Dramatiq workers against the Redis broker (LEDGERBRIDGE_BROKER_URL); waits for migrations first."""
    settings = get_settings()
    if settings.embedded_broker:
        raise click.ClickException(
            "LEDGERBRIDGE_BROKER_URL is not set: jobs run inside `ledgerbridge serve`. "
            "Set it to a redis:// URL to run separate workers."
        )
    _setup_logging()
    # Before anything imports prometheus-client: the forked processes write their samples to files here,
    # and Dramatiq's middleware serves the sum on the metrics port (see `ledgerbridge.metrics`).
    folder = tempfile.mkdtemp(prefix="ledgerbridge-metrics-") if settings.worker_metrics_port else ""
    if folder:
        os.environ.update({"PROMETHEUS_MULTIPROC_DIR": folder, "dramatiq_prom_db": folder,
                           "dramatiq_prom_port": str(settings.worker_metrics_port)})
    os.environ["LEDGERBRIDGE_WORKER_PROCESS"] = "1"  # ledgerbridge.worker.WORKER_PROCESS_ENV, read by the children
    _wait_for_schema()
    from dramatiq.cli import main as dramatiq_main

    from ledgerbridge.worker import worker_argv

    sys.argv = worker_argv(processes, threads or settings.worker_threads)
    try:
        code = dramatiq_main()
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)  # samples of processes that are gone
    sys.exit(code)


def _wait_for_schema() -> None:
    from ledgerbridge import db, schema

    async def wait() -> None:
        try:
            await schema.wait_for_migrations()
        finally:
            await db.close_pool()

    try:
        asyncio.run(wait())
    except LedgerBridgeError as exc:
        raise click.ClickException(f"{exc.message} {exc.fix}") from exc
    except KeyboardInterrupt:
        sys.exit(130)


@main.command()
def scheduler() -> None:
    """Run the periodic work (sweeper, status polls, token keep-alive); one per deployment."""
    _setup_logging()
    if get_settings().embedded_broker:
        raise click.ClickException("Without LEDGERBRIDGE_BROKER_URL the scheduler runs inside `ledgerbridge serve`.")
    from ledgerbridge.scheduler import run_forever

    try:
        run_forever()
    except LedgerBridgeError as exc:
        raise click.ClickException(f"{exc.message} {exc.fix}") from exc


@main.command()
@click.option("--role", type=click.Choice(["web", "worker", "scheduler"]), envvar="LEDGERBRIDGE_ROLE",
              default="web", show_default=True, help="Which process of this container to check "
              "(defaults to LEDGERBRIDGE_ROLE, which the image sets to web).")
def healthcheck(role: str) -> None:
    """Exit 0 when this container's process is healthy (for Docker/compose health checks)."""
    from ledgerbridge import health

    settings = get_settings()
    if role == "web":
        healthy, detail = health.check_web(settings)
    elif role == "scheduler":
        healthy, detail = health.check_scheduler(settings)
    else:
        healthy, detail = asyncio.run(health.check_worker())
    click.echo(f"{role}: {'healthy' if healthy else 'unhealthy'} {detail}")
    sys.exit(0 if healthy else 1)


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Write every record to PATH (gzipped JSON); tokens stay encrypted, so keep the keys elsewhere."""
    from ledgerbridge import backups

    try:
        counts = asyncio.run(backups.backup(path))
    except LedgerBridgeError as exc:
        raise click.ClickException(f"{exc.message} {exc.fix}") from exc
    click.echo(f"backed up {sum(counts.values())} rows from {len(counts)} tables to {path}")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(path: Path) -> None:
    """Load a backup into an empty database (LEDGERBRIDGE_DATABASE_URL), with the same encryption keys."""
    from ledgerbridge import backups

    try:
        counts = asyncio.run(backups.restore(path))
    except LedgerBridgeError as exc:
        raise click.ClickException(f"{exc.message} {exc.fix}") from exc
    click.echo(f"restored {sum(counts.values())} rows into {len(counts)} tables")


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
