"""The admin UI's pages so far: sign-in, the workspace switcher, the dashboard, and placeholders.

Sign-in uses the same functions as the JSON API (`ledgerbridge.auth`), so throttling, sessions and
their cookies behave identically in both. Pages need a signed-in person; anyone else is sent to
the sign-in page and brought back afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ledgerbridge import auth
from ledgerbridge.jobs import loads
from ledgerbridge.plugins import get_registry
from ledgerbridge.settings import Settings
from ledgerbridge.tables import Connection, SyncRun
from litestar import Request, Response, Router, get, post
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_303_SEE_OTHER

STATIC_DIR = Path(__file__).parent / "static"
RECENT_RUNS = 10


@dataclass(frozen=True)
class NavEntry:
    label: str
    path: str


NAV = (
    NavEntry("Dashboard", "/"),
    NavEntry("Integrations", "/integrations"),
    NavEntry("Customers", "/customers"),
    NavEntry("Items", "/items"),
    NavEntry("Invoices", "/invoices"),
    NavEntry("Sync history", "/sync-history"),
    NavEntry("Issues", "/issues"),
)

# Pages not built yet, with where the same data is available meanwhile.
COMING_SOON = {
    "/integrations": ("Integrations", "/api/v1/connections"),
    "/customers": ("Customers", "/api/v1/customers"),
    "/items": ("Items", "/api/v1/items"),
    "/invoices": ("Invoices", "/api/v1/invoices"),
    "/sync-history": ("Sync history", "/api/v1/sync-runs"),
    "/issues": ("Issues", "/api/v1/issues/groups"),
}


def _settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings


def safe_next(target: str | None) -> str:
    """Only paths on this server: a crafted link must not bounce a fresh sign-in elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _to_login(request: Request[Any, Any, Any]) -> Redirect:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/login?next={quote(target, safe='')}", status_code=HTTP_303_SEE_OTHER)


def _page(request: Request[Any, Any, Any], template: str, status: int = 200, **context: Any) -> Template:
    me = auth.caller_of(request)
    return Template(
        template,
        context={"me": me, "nav": NAV, "current_path": request.url.path, **context},
        status_code=status,
    )


# --------------------------------------------------------------------------- sign-in


@get("/login", include_in_schema=False)
async def login_page(request: Request[Any, Any, Any]) -> Response[Any]:
    me = auth.caller_of(request)
    if me is not None and me.user_id is not None:
        return Redirect(safe_next(request.query_params.get("next")), status_code=HTTP_303_SEE_OTHER)
    return _page(request, "login.html", next=safe_next(request.query_params.get("next")), email="", error=None)


@post("/login", include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def login_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await request.form()
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "") or "/"))
    try:
        user = await auth.authenticate(email, password)
    except (auth.BadCredentials, auth.LoginThrottled) as exc:
        status = 429 if isinstance(exc, auth.LoginThrottled) else 401
        return _page(request, "login.html", status=status, next=target, email=email, error=exc)
    old = request.cookies.get(auth.SESSION_COOKIE)
    if old:
        await auth.close_session(old)
    token = await auth.open_session(user.id)
    return Redirect(target, status_code=HTTP_303_SEE_OTHER, cookies=[auth.session_cookie(_settings(request), token)])


@post("/logout", include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def logout_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        await auth.close_session(token)
    return Redirect("/login", status_code=HTTP_303_SEE_OTHER, cookies=[auth.expired_session_cookie(_settings(request))])


@post("/workspace", include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def switch_workspace(request: Request[Any, Any, Any]) -> Response[Any]:
    """The header's switcher: a plain form, so it works without JavaScript."""
    me = auth.caller_of(request)
    if me is None or me.user_id is None or me.session_token is None:
        return _to_login(request)
    form = await request.form()
    raw = str(form.get("workspace_id", ""))
    back = safe_next(str(form.get("next", "") or "/"))
    if not raw.isdigit():
        return Redirect(back, status_code=HTTP_303_SEE_OTHER)
    await auth.switch_workspace(me.session_token, me.user_id, int(raw))
    return Redirect(back, status_code=HTTP_303_SEE_OTHER)


# --------------------------------------------------------------------------- dashboard


async def _recent_runs(workspace_id: int) -> list[dict[str, Any]]:
    rows = (
        await SyncRun.select(
            SyncRun.id,
            SyncRun.kind,
            SyncRun.state,
            SyncRun.trigger,
            SyncRun.created_at,
            SyncRun.progress_done,
            SyncRun.progress_total,
            SyncRun.failed,
            SyncRun.error,
            SyncRun.params,
            SyncRun.connection.provider.as_alias("provider"),
        )
        .where(SyncRun.workspace == workspace_id)
        .order_by(SyncRun.created_at, ascending=False)
        .limit(RECENT_RUNS)
    )
    for row in rows:
        row["params"] = loads(row["params"])
        row["kind_label"] = str(row["kind"]).replace("_", " ")
    return rows


@get("/", include_in_schema=False)
async def dashboard(request: Request[Any, Any, Any]) -> Response[Any]:
    me = auth.caller_of(request)
    if me is None or me.user_id is None:
        return _to_login(request)
    if me.workspace_id is None:
        return _page(request, "dashboard.html", connections=[], runs=[], no_workspace=True)
    registry = get_registry()
    connections = [
        {
            "id": row.id,
            "provider": registry.providers[row.provider].name if row.provider in registry.providers else row.provider,
            "tenant_name": row.tenant_name or row.tenant_id,
            "environment": row.environment,
            "status": row.status,
            "status_label": str(row.status).replace("_", " "),
            "status_reason": row.status_reason,
            "last_synced_at": row.last_synced_at,
        }
        for row in await Connection.objects().where(Connection.workspace == me.workspace_id).order_by(Connection.id)
    ]
    return _page(
        request,
        "dashboard.html",
        connections=connections,
        runs=await _recent_runs(me.workspace_id),
        no_workspace=False,
    )


@get("/dashboard/runs", include_in_schema=False)
async def dashboard_runs(request: Request[Any, Any, Any]) -> Response[Any]:
    """The recent-runs table alone, for htmx to refresh in place."""
    me = auth.caller_of(request)
    if me is None or me.user_id is None or me.workspace_id is None:
        return Response("", status_code=401, headers={"HX-Redirect": "/login"})
    return Template("_runs_table.html", context={"runs": await _recent_runs(me.workspace_id)})


def _coming_soon_handler(path: str, title: str, api_path: str) -> Any:
    async def page(request: Request[Any, Any, Any]) -> Response[Any]:
        me = auth.caller_of(request)
        if me is None or me.user_id is None:
            return _to_login(request)
        return _page(request, "coming_soon.html", title=title, api_path=api_path)

    page.__name__ = f"coming_soon_{path.strip('/').replace('-', '_')}"
    return get(path, include_in_schema=False, name=page.__name__)(page)


def route_handlers() -> list[Any]:
    static = create_static_files_router(
        path="/static", directories=[STATIC_DIR], name="static", include_in_schema=False
    )
    pages: list[Any] = [login_page, login_submit, logout_submit, switch_workspace, dashboard, dashboard_runs]
    pages += [_coming_soon_handler(path, title, api) for path, (title, api) in COMING_SOON.items()]
    return [Router("/", route_handlers=pages, include_in_schema=False), static]
