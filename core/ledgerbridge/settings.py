"""Every setting LedgerBridge reads, in one place.

Settings come from the environment, optionally seeded from a `.env` file in the working directory
(real environment variables win). Secrets that a first-time user should not have to invent (the
session secret and the token-encryption key) are generated once and kept in the data directory, so
`make run` works on a fresh machine and restarts keep sessions and tokens readable. Production
deployments set them explicitly.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from dotenv import load_dotenv

PREFIX = "LEDGERBRIDGE_"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(PREFIX + name, default).strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{PREFIX}{name} must be a whole number, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name).lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{PREFIX}{name} must be true or false, got {raw!r}")


def _seconds_list(name: str) -> tuple[float, ...]:
    """A comma-separated list of delays in seconds (tests shorten the webhook retry schedule)."""
    raw = _env(name)
    try:
        return tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise SettingsError(f"{PREFIX}{name} must be seconds separated by commas, got {raw!r}") from exc


class SettingsError(ValueError):
    """A setting is present but unusable; the message names the variable."""


def encryption_key_file(data_dir: Path) -> Path:
    """Where a generated token-encryption key lives when `LEDGERBRIDGE_ENCRYPTION_KEYS` is unset.

    Not beside the database: a copied data folder or a backup of it would hold the tokens and the key
    that opens them. The default is `LEDGERBRIDGE_KEY_DIR`, else `$XDG_CONFIG_HOME/ledgerbridge`
    (`~/.config/ledgerbridge`). A key an earlier version generated into the data directory is still
    used there, since moving it silently would make every stored token unreadable.
    """
    legacy = data_dir / "encryption_key"
    if legacy.exists():
        return legacy
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    key_dir = Path(_env("KEY_DIR") or config_home / "ledgerbridge")
    return key_dir.resolve() / "encryption_key"


def _persisted_secret(path: Path, make: Callable[[], str]) -> str:
    """Read a generated secret, creating it on first use with owner-only permissions."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


@dataclass(frozen=True)
class ProviderSettings:
    """Credentials and endpoint overrides for one provider plugin.

    Read from `LEDGERBRIDGE_<KEY>_CLIENT_ID` and friends so every provider, bundled or third-party,
    is configured the same way.
    """

    key: str
    client_id: str
    client_secret: str
    webhook_secret: str
    base_url: str  # empty: the provider's real endpoints; set: a sandbox at this URL
    # `_RATE_LIMITS`: the limits to pace to where they differ from the plugin's published ones
    # (a provider that publishes none, a plan with other figures, a sandbox configured tighter).
    rate_limits: tuple[tuple[str, int], ...] = ()


#: The names `LEDGERBRIDGE_<KEY>_RATE_LIMITS` may set (see `ledgerbridge.ratelimit.Limits`).
RATE_LIMIT_NAMES = ("per_minute", "per_day", "concurrent", "app_per_minute")


def _rate_limits(name: str) -> tuple[tuple[str, int], ...]:
    """`per_minute=120,concurrent=10`: each a whole number, 0 for none."""
    raw = _env(name)
    out = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        limit, _, value = part.partition("=")
        if limit.strip() not in RATE_LIMIT_NAMES or not value.strip().isdigit():
            raise SettingsError(f"{PREFIX}{name} must be name=number pairs separated by commas, names among "
                                f"{', '.join(RATE_LIMIT_NAMES)}; got {raw!r}")
        out.append((limit.strip(), int(value)))
    return tuple(out)


INTUIT_DISCOVERY_URL = "https://developer.intuit.com/.well-known/openid_configuration/"
SIGN_IN_SCOPES = ("openid", "email", "profile")


@dataclass(frozen=True)
class SignInIssuer:
    """An OpenID Connect issuer people may sign in with ("Sign in with <name>" on the sign-in page).

    `key` names it in its callback path (`/login/oidc/<key>/callback`). `issuer` is the `iss` its ID
    tokens must carry; empty for Intuit, whose discovery document lives apart from its issuer and says
    which it is.
    """

    key: str
    name: str
    discovery_url: str
    client_id: str
    client_secret: str
    issuer: str
    scopes: tuple[str, ...]


def _custom_issuer_url() -> str:
    return _env("OIDC_ISSUER").rstrip("/")


def _check_sign_in_issuers() -> None:
    """A half-configured issuer fails at start, not at someone's first sign-in."""
    issuer, client_id = _custom_issuer_url(), _env("OIDC_CLIENT_ID")
    if bool(issuer) != bool(client_id):
        missing = "OIDC_CLIENT_ID" if issuer else "OIDC_ISSUER"
        raise SettingsError(f"{PREFIX}{missing} must be set too: an OpenID Connect issuer needs both its URL and "
                            "this app's client id there")
    if issuer and not (issuer.startswith("https://") or issuer.startswith(("http://127.0.0.1", "http://localhost"))):
        raise SettingsError(f"{PREFIX}OIDC_ISSUER must be an https:// URL, got {issuer!r}")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str
    secret_key: str
    encryption_keys: tuple[str, ...]
    base_url: str
    host: str
    port: int
    log_level: str
    log_format: str  # json: one JSON object a line (for log collectors); text: for people
    worker_metrics_port: int  # where `ledgerbridge worker` serves /metrics (0: not at all)
    worker_threads: int
    job_lease_seconds: int
    sweep_interval_seconds: int
    poll_interval_seconds: int
    sandboxes: str  # auto: run a provider's sandbox when it has no client id; off: never
    sandbox_port: int
    session_cookie_secure: bool
    extra: dict[str, str] = field(default_factory=dict)
    # The host app hears back (ledgerbridge.events, ledgerbridge.notifications).
    smtp_url: str = ""  # smtp://user:pass@host:587 (STARTTLS when offered) or smtps://...; empty: no email
    mail_from: str = "LedgerBridge <ledgerbridge@localhost>"
    webhook_timeout_seconds: float = 10.0
    webhook_max_body_bytes: int = 256 * 1024
    webhook_allowed_hosts: tuple[str, ...] = ()  # empty: any host; else exact names or ".suffix"
    webhook_allow_private: bool = True  # the host app usually runs beside LedgerBridge
    webhook_retry_schedule: tuple[float, ...] = ()  # empty: the published default (ledgerbridge.events.schedule)
    webhook_secret_grace_hours: int = 24
    event_retention_days: int = 30
    # Customers, items, income accounts and tax rates re-read from each connection (ledgerbridge.scheduler).
    reference_sync_minutes: int = 15
    audit_retention_days: int = 400  # how long the audit trail keeps an entry (ledgerbridge.audit)
    # argon2 cost (ledgerbridge.identity.passwords): standard, or fast for throwaway test databases only.
    password_hashing: str = "standard"

    @property
    def embedded_broker(self) -> bool:
        """No broker URL means jobs run in a Dramatiq worker inside the server process."""
        return not self.broker_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def provider(self, key: str) -> ProviderSettings:
        upper = key.upper()
        return ProviderSettings(
            key=key,
            client_id=_env(f"{upper}_CLIENT_ID"),
            client_secret=_env(f"{upper}_CLIENT_SECRET"),
            webhook_secret=_env(f"{upper}_WEBHOOK_SECRET"),
            base_url=_env(f"{upper}_BASE_URL").rstrip("/"),
            rate_limits=_rate_limits(f"{upper}_RATE_LIMITS"),
        )

    def sign_in_issuers(self) -> tuple[SignInIssuer, ...]:
        """The OpenID Connect issuers configured for signing in, Intuit first.

        Read live, like `provider`: `serve` points Intuit at its demo sandbox after settings load.
        """
        found: list[SignInIssuer] = []
        if _env("OIDC_INTUIT_CLIENT_ID"):
            found.append(SignInIssuer(
                key="intuit", name="Intuit", discovery_url=_env("OIDC_INTUIT_DISCOVERY_URL") or INTUIT_DISCOVERY_URL,
                client_id=_env("OIDC_INTUIT_CLIENT_ID"), client_secret=_env("OIDC_INTUIT_CLIENT_SECRET"), issuer="",
                scopes=SIGN_IN_SCOPES))
        issuer = _custom_issuer_url()
        if issuer and _env("OIDC_CLIENT_ID"):
            scopes = tuple(_env("OIDC_SCOPES").split()) or SIGN_IN_SCOPES
            found.append(SignInIssuer(
                key="custom", name=_env("OIDC_NAME") or (urlsplit(issuer).hostname or issuer),
                discovery_url=f"{issuer}/.well-known/openid-configuration", client_id=_env("OIDC_CLIENT_ID"),
                client_secret=_env("OIDC_CLIENT_SECRET"), issuer=issuer,
                scopes=scopes if "openid" in scopes else ("openid", *scopes)))
        return tuple(found)


def _sandboxes_mode() -> str:
    mode = _env("SANDBOXES", "auto").lower()
    if mode not in {"auto", "off"}:
        raise SettingsError(f"{PREFIX}SANDBOXES must be auto or off, got {mode!r}")
    return mode


def _log_format() -> str:
    value = _env("LOG_FORMAT", "text").lower()
    if value not in {"json", "text"}:
        raise SettingsError(f"{PREFIX}LOG_FORMAT must be json or text, got {value!r}")
    return value


def _password_hashing() -> str:
    value = _env("PASSWORD_HASHING", "standard").lower()
    if value not in {"standard", "fast"}:
        raise SettingsError(f"{PREFIX}PASSWORD_HASHING must be standard or fast, got {value!r}")
    return value


def load_settings() -> Settings:
    """Build settings from the environment; call `get_settings()` for the cached instance."""
    load_dotenv(Path.cwd() / ".env", override=False)
    data_dir = Path(_env("DATA_DIR", "data")).resolve()
    database_url = _env("DATABASE_URL") or f"sqlite:///{data_dir / 'ledgerbridge.sqlite3'}"
    if not (database_url.startswith("sqlite:///") or database_url.startswith("postgres")):
        raise SettingsError(
            f"{PREFIX}DATABASE_URL must start with sqlite:/// or postgresql://, got {database_url!r}"
        )
    if _env("BROKER_URL"):
        # Separate processes (often separate containers, each with its own data directory) must share the
        # secrets: a generated key would differ per process, and workers could not read the web's tokens.
        missing = [PREFIX + name for name in ("SECRET_KEY", "ENCRYPTION_KEYS") if not _env(name)]
        if missing:
            raise SettingsError(
                f"{' and '.join(missing)} must be set when LEDGERBRIDGE_BROKER_URL is (every process must use the "
                "same secrets); see .env.example for how to generate each")
    secret_key = _env("SECRET_KEY") or _persisted_secret(
        data_dir / "secret_key", lambda: secrets.token_urlsafe(48)
    )
    raw_keys = _env("ENCRYPTION_KEYS") or _persisted_secret(
        encryption_key_file(data_dir), lambda: Fernet.generate_key().decode()
    )
    keys = tuple(k.strip() for k in raw_keys.split(",") if k.strip())
    for key in keys:
        try:
            Fernet(key)
        except ValueError as exc:
            raise SettingsError(
                f"{PREFIX}ENCRYPTION_KEYS holds a key that is not a Fernet key "
                "(32 url-safe base64-encoded bytes); generate one with `ledgerbridge genkey`"
            ) from exc
    _check_sign_in_issuers()
    port = _env_int("PORT", 8000)
    host = _env("HOST", "127.0.0.1")
    base_url = (_env("BASE_URL") or f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}").rstrip("/")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        broker_url=_env("BROKER_URL"),
        secret_key=secret_key,
        encryption_keys=keys,
        base_url=base_url,
        host=host,
        port=port,
        log_level=_env("LOG_LEVEL", "INFO").upper(),
        log_format=_log_format(),
        worker_metrics_port=_env_int("WORKER_METRICS_PORT", 9191),
        worker_threads=_env_int("WORKER_THREADS", 4),
        job_lease_seconds=_env_int("JOB_LEASE_SECONDS", 60),
        sweep_interval_seconds=_env_int("SWEEP_INTERVAL_SECONDS", 15),
        poll_interval_seconds=_env_int("POLL_INTERVAL_SECONDS", 300),
        sandboxes=_sandboxes_mode(),
        sandbox_port=_env_int("SANDBOX_PORT", 8701),
        session_cookie_secure=_env_bool("SECURE_COOKIES", base_url.startswith("https://")),
        smtp_url=_env("SMTP_URL"),
        mail_from=_env("MAIL_FROM", "LedgerBridge <ledgerbridge@localhost>"),
        webhook_timeout_seconds=float(_env_int("WEBHOOK_TIMEOUT_SECONDS", 10)),
        webhook_max_body_bytes=_env_int("WEBHOOK_MAX_BODY_BYTES", 256 * 1024),
        webhook_allowed_hosts=tuple(h.strip().lower() for h in _env("WEBHOOK_ALLOWED_HOSTS").split(",") if h.strip()),
        webhook_allow_private=_env_bool("WEBHOOK_ALLOW_PRIVATE", True),
        webhook_retry_schedule=_seconds_list("WEBHOOK_RETRY_SCHEDULE"),
        webhook_secret_grace_hours=_env_int("WEBHOOK_SECRET_GRACE_HOURS", 24),
        event_retention_days=_env_int("EVENT_RETENTION_DAYS", 30),
        reference_sync_minutes=_env_int("REFERENCE_SYNC_MINUTES", 15),
        audit_retention_days=_env_int("AUDIT_RETENTION_DAYS", 400),
        password_hashing=_password_hashing(),
    )


@cache
def get_settings() -> Settings:
    return load_settings()
