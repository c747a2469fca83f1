"""Log lines an operator can collect and follow: one format per process, ids on every line, quiet when idle.

`LEDGERBRIDGE_LOG_FORMAT=json` writes one JSON object a line (for Loki, CloudWatch, Datadog...);
`text` (the default) is for people. Every line carries the id of the HTTP request or sync run it
was written under, taken from context variables, so a run's lines can be found across processes
and a user's "it failed at 10:42" can be traced to its request.

At INFO, idle work is silent: the scheduler's library announces every job it runs and httpx every
request it sends, so both are held to WARNING; our own sweeper logs only when it re-queues something.

Secrets never reach a log line by construction (tokens, keys and passwords are not logged);
`redact` is a second line of defence for text that came from elsewhere (a provider's error body
quoting an Authorization header).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from ledgerbridge.settings import Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("ledgerbridge_request_id", default=None)
RUN_ID: ContextVar[int | None] = ContextVar("ledgerbridge_run_id", default=None)

REQUEST_ID_HEADER = "x-request-id"
# Loggers whose INFO lines repeat for every idle tick or outgoing call.
# uvicorn's INFO lines repeat what `ledgerbridge serve` prints once, and each provider sandbox adds its own.
CHATTY = {"apscheduler": logging.WARNING, "httpx": logging.WARNING, "httpcore": logging.WARNING,
          "uvicorn": logging.WARNING, "uvicorn.error": logging.WARNING, "uvicorn.access": logging.WARNING,
          "asyncio": logging.WARNING, "piccolo": logging.WARNING, "dramatiq.middleware.asyncio": logging.WARNING}
_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:access|refresh|id)_token|client_secret|password|code_verifier|api_key)"
               r"([\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"),
    # An OAuth callback's code and state in a quoted URL (`?code=...&state=...`).
    re.compile(r"(?i)([?&](?:code|state)=)[^&\s\"']+"),
    # Password hashes, should a DEBUG line of a library quote a row or a query's parameters.
    re.compile(r"\$argon2(?:id|i|d)\$[^\s\"',)]+"),
]
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Attributes every LogRecord has; anything else on a record was passed with `extra=` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    """Mask bearer tokens and `name=value` secrets in text that may quote a request."""
    text = _SECRET_PATTERNS[0].sub(r"\1[redacted]", text)
    text = _SECRET_PATTERNS[1].sub(r"\1\2[redacted]", text)
    text = _SECRET_PATTERNS[2].sub(r"\1[redacted]", text)
    return _SECRET_PATTERNS[3].sub("[redacted hash]", text)


class ContextIds(logging.Filter):
    """Puts the current request id and run id on every record, whichever library wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        if not hasattr(record, "run_id"):
            record.run_id = RUN_ID.get()
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items()
            if key not in _STANDARD and key not in ("request_id", "run_id") and not key.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in ("request_id", "run_id"):
            if getattr(record, key, None) is not None:
                line[key] = getattr(record, key)
        line.update(_extras(record))
        if record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message [request=... run=...]`, ids only when there are some."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [f"{name}={value}" for name, value in (("request", getattr(record, "request_id", None)),
                                                   ("run", getattr(record, "run_id", None))) if value is not None]
        text = redact(super().format(record))
        return f"{text} [{' '.join(ids)}]" if ids else text


def _foreign(handler: logging.Handler) -> bool:
    """Handlers a library installed on the root logger (Litestar's queue handler, a basicConfig); pytest's
    capture handlers stay, so tests can read what was logged."""
    return not type(handler).__module__.startswith("_pytest")


def configure(settings: Settings, stream: Any = None) -> None:
    """Send every logger's lines through one handler in the chosen format; safe to call again (it replaces
    whatever handlers libraries installed meanwhile, so no line is printed twice)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if _foreign(h)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextIds())
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name, level in CHATTY.items():
        logging.getLogger(name).setLevel(max(level, logging.getLevelName(settings.log_level)))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq"):
        logging.getLogger(name).handlers.clear()  # theirs would print the same line twice, unformatted
        logging.getLogger(name).propagate = True
    logging.captureWarnings(True)


@contextmanager
def run_context(run_id: int) -> Iterator[None]:
    """Lines written inside carry `run_id`."""
    token = RUN_ID.set(run_id)
    try:
        yield
    finally:
        RUN_ID.reset(token)


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID when it is a sane token (a proxy's), else a new one."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


QUIET_PATHS = ("/healthz", "/metrics")
access_log = logging.getLogger("ledgerbridge.http")


def request_logging(app: Any) -> Any:
    """ASGI middleware: a request id for each request (echoed as X-Request-ID) and one line when it ends.

    The line has the path without its query string: OAuth callbacks carry codes and state there.
    Health checks and scrapes log at DEBUG, or a probe every few seconds would fill the log.
    """

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers") or [])
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            path = scope.get("path", "")
            level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
            access_log.log(level, "%s %s %s %.1fms", scope.get("method"), path, status, elapsed,
                           extra={"method": scope.get("method"), "path": path, "status": status,
                                  "duration_ms": elapsed})
            REQUEST_ID.reset(token)

    return middleware
