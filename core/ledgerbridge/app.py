"""The HTTP server: the REST API, sign-in, health, and every plugin's pages in one Litestar app.

`create_app()` is the only way the server is built (uvicorn, tests and the CLI all call it), so what
runs in tests is what runs in production. With `background=True` its lifespan starts the runtime
(database pool, in-process worker, scheduler) and stops it on shutdown; tests pass False and drive
jobs themselves.

Errors are answered the same way everywhere: a JSON body `{"code", "message", "fix"}` for API
clients, a readable page for browsers, and never a stack trace.
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    TemplateNotFoundException,
    ValidationException,
)
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, Reference, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.template.config import TemplateConfig

from ledgerbridge import __version__, connect, logs, metrics, runtime
from ledgerbridge.api.router import api_router
from ledgerbridge.api.schemas import ErrorOut, FieldErrorOut
from ledgerbridge.apidocs import LocalSwaggerPlugin
from ledgerbridge.errors import REASONS, LedgerBridgeError
from ledgerbridge.health import health_handler
from ledgerbridge.identity.api_keys import settle_touches
from ledgerbridge.identity.controllers import AuthController
from ledgerbridge.identity.guards import permitted
from ledgerbridge.identity.middleware import middleware
from ledgerbridge.identity.sessions import SESSION_COOKIE
from ledgerbridge.plugins import Registry, get_registry
from ledgerbridge.security_headers import security_headers
from ledgerbridge.settings import Settings, get_settings

log = logging.getLogger(__name__)

ERROR_TEMPLATE = "error.html"
LOGIN_PATH = "/login"
PASSWORD_PATH = "/account/password"  # where a person whose password someone else chose is sent first

SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
    "bearer": SecurityScheme(type="http", scheme="bearer", description="Authorization: Bearer lb_..."),
    "session": SecurityScheme(type="apiKey", name=SESSION_COOKIE, security_scheme_in="cookie"),
}


def create_app(settings: Settings | None = None, *, background: bool = True) -> Litestar:
    """Build the server. `background=False` leaves the worker and scheduler off (tests, tools)."""
    settings = settings or get_settings()
    registry = get_registry()
    handlers: list[Any] = [
        api_router(security=[{name: []} for name in SECURITY_SCHEMES]),
        AuthController,
        *connect.route_handlers(),
        health_handler,
        metrics.metrics_handler,
        *registry.collect("route_handlers"),
    ]
    return Litestar(
        route_handlers=handlers,
        middleware=[logs.request_logging, metrics.http_metrics, *middleware(settings)],
        guards=[permitted],  # every route's declared permission, for people and API keys alike
        before_send=[security_headers(settings.session_cookie_secure)],
        exception_handlers={
            LedgerBridgeError: ledgerbridge_error,
            ValidationException: _validation_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
        openapi_config=OpenAPIConfig(
            title="LedgerBridge API",
            version=__version__,
            path="/schema",
            description="Keep your apps in step with QuickBooks Online, Xero and FreshBooks. "
            "Authenticate with a workspace API key (`Authorization: Bearer lb_...` or `X-API-Key`). "
            "Money is sent and returned as decimal strings. Lists use offset pagination "
            "(`limit`, `offset`; answers carry `total`).",
            components=Components(security_schemes=SECURITY_SCHEMES),
            render_plugins=[LocalSwaggerPlugin()],
        ),
        template_config=_template_config(registry),
        state=State({"settings": settings}),
        lifespan=[_runtime] if background else [],
        on_shutdown=[settle_touches],  # an API key's last-used time still in flight lands before exit
        debug=False,
        logging_config=None,  # `ledgerbridge.logs` configures logging once per process; Litestar's would replace it
    )


@asynccontextmanager
async def _runtime(app: Litestar) -> AsyncIterator[None]:
    await runtime.start(app.state)
    try:
        yield
    finally:
        await runtime.stop()


def template_directories(registry: Registry) -> list[Path]:
    """Template folders shipped by plugins: a plugin package's `templates/` folder, by convention.

    The admin UI is a plugin, so the core must not know where its templates live; any plugin that
    adds pages can ship templates the same way. On a name clash the plugin whose name sorts first
    wins, so the outcome does not depend on load order.
    """
    found: list[Path] = []
    for _, plugin in sorted(registry.manager.list_name_plugin(), key=lambda pair: pair[0] or ""):
        if not isinstance(plugin, ModuleType) or not getattr(plugin, "__file__", None):
            continue
        folder = Path(plugin.__file__).resolve().parent / "templates"  # type: ignore[arg-type]
        if folder.is_dir() and folder not in found:
            found.append(folder)
    return found


def _template_config(registry: Registry) -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(folder)) for folder in template_directories(registry)]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        enable_async=False,
    )
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


# --------------------------------------------------------------------------- errors


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    """Browsers get pages; API clients (and anything under /api or /auth) get JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/auth/", "/schema")):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    message: str,
    fix: str,
    *,
    fields: list[FieldErrorOut] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    if _wants_html(request):
        if status == 401:
            target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="")
            return Redirect(f"{LOGIN_PATH}?next={target}", status_code=303)
        if code == "password_change_required":
            return Redirect(PASSWORD_PATH, status_code=303)
        return _error_page(request, status, code, message, fix, headers)
    return Response(
        ErrorOut(code=code, message=message, fix=fix, fields=fields),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def _error_page(
    request: Request[Any, Any, Any], status: int, code: str, message: str, fix: str, headers: dict[str, str] | None
) -> Response[Any]:
    context = {"status": status, "code": code, "message": message, "fix": fix}
    engine = request.app.template_engine
    if engine is not None:
        try:
            engine.get_template(ERROR_TEMPLATE)
        except TemplateNotFoundException:
            pass
        else:
            return Template(ERROR_TEMPLATE, context=context, status_code=status, headers=headers)
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>LedgerBridge: error</title></head>"
        f"<body><h1>{html.escape(message)}</h1><p>{html.escape(fix)}</p>"
        f"<p><small>{status} · {html.escape(code)}</small></p><p><a href='/'>Back to the dashboard</a></p>"
        "</body></html>"
    )
    return Response(body, status_code=status, media_type="text/html", headers=headers)


def ledgerbridge_error(request: Request[Any, Any, Any], exc: LedgerBridgeError) -> Response[Any]:
    """Any typed error ends the request with the status its reason carries (400 when unlisted)."""
    reason = REASONS.get(exc.code)
    status = reason.status if reason is not None else 400
    fields = None
    if (name := getattr(exc, "field", None)) is not None:
        fields = [FieldErrorOut(field=name, message=getattr(exc, "detail", exc.message))]
    headers = None
    if (retry_after := getattr(exc, "retry_after", None)) is not None:
        headers = {"Retry-After": str(int(retry_after))}
    if status >= 500:
        log.error("request %s %s failed: %s", request.method, request.url.path, exc.message)
    return error_response(request, status, exc.code, exc.message, exc.fix, fields=fields, headers=headers)


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    fields = [
        FieldErrorOut(field=str(item.get("key") or item.get("source") or "body"), message=str(item.get("message")))
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    message = "; ".join(f"{f.field}: {f.message}" for f in fields) or exc.detail
    return error_response(
        request,
        400,
        "validation_failed",
        message,
        "Correct the field named in the message and send the request again.",
        fields=fields or None,
    )


_HTTP_CODES = {
    400: ("validation_failed", "Correct the request and send it again."),
    401: ("not_signed_in", "Sign in, or send an API key."),
    403: ("forbidden", "Ask an owner of the workspace for access."),
    404: ("not_found", "Check the address."),
    405: ("method_not_allowed", "Check the API reference at /schema for the methods this path accepts."),
    413: ("too_large", "Send a smaller request."),
    429: ("rate_limited", "Wait a little and try again."),
}


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500:
        return _unexpected_error(request, exc)
    code, fix = _HTTP_CODES.get(status, ("http_error", "Check the request and try again."))
    message = exc.detail
    if isinstance(exc, NotFoundException) and message in ("", "Not Found"):
        message = f"Nothing is found at {request.url.path}."
    return error_response(request, status, code, message, fix, headers=exc.headers)


def _unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    reason = REASONS["internal_error"]
    return error_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        reason.message,
        "Try again; if it keeps failing, report it with the time it happened (details are in the server log).",
    )
