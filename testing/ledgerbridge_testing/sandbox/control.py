"""The ``/_sandbox`` control API shared by all provider sandboxes.

Tests in other processes (and people poking at the demo) need to steer a running sandbox: move its
clock, arm faults, kill every token, deliver pending webhooks. The same operations exist as Python
methods on each sandbox; this router exposes them over HTTP with identical semantics. The fault
middleware exempts this prefix so the control API stays reachable while faults are armed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, Router, delete, get, post
from litestar.exceptions import HTTPException

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.clock import ClockError, SandboxClock
from ledgerbridge_testing.sandbox.faults import FaultRegistry, FaultRuleError
from ledgerbridge_testing.sandbox.oauth import OAuthStore

JSON = "application/json"


@dataclass
class ControlHooks:
    """Provider-specific operations the generic control API delegates to."""

    flush_webhooks: Callable[[], Awaitable[Any]] | None = None
    webhook_state: Callable[[], Any] | None = None
    reset: Callable[[], Any] | None = None
    describe: Callable[[], Any] | None = None


def _json(value: Any, status: int = 200) -> Response[bytes]:
    return Response(content=jsoncodec.dumps(value), media_type=JSON, status_code=status)


async def _body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = jsoncodec.loads(raw)
    except jsoncodec.JSONBodyError as exc:
        raise HTTPException(status_code=400, detail=f"invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise HTTPException(status_code=400, detail="expected a JSON object")
    return data


def build_control_router(
    clock: SandboxClock,
    faults: FaultRegistry,
    oauth: OAuthStore | None,
    hooks: ControlHooks | None = None,
    path: str = "/_sandbox",
) -> Router:
    """Create the control router for one sandbox instance."""
    hooks = hooks or ControlHooks()

    @get("/")
    async def describe() -> Response[bytes]:
        """Sandbox overview: clock, armed faults and provider details."""
        info = hooks.describe() if hooks.describe else {}
        return _json({"clock": clock.snapshot(), "faults": [r.to_json() for r in faults.rules()], **info})

    @get("/clock")
    async def read_clock() -> Response[bytes]:
        """Current simulated time and speed."""
        return _json(clock.snapshot())

    @post("/clock", status_code=200)
    async def change_clock(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Advance simulated time and/or change its speed: ``{"advance": s, "scale": x}``."""
        data = await _body(request)
        try:
            if "scale" in data:
                clock.set_scale(float(data["scale"]))
            if "advance" in data:
                clock.advance(float(data["advance"]))
        except (ClockError, TypeError, ValueError) as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        return _json(clock.snapshot())

    @get("/faults")
    async def list_faults() -> Response[bytes]:
        """Armed and spent fault rules with their trigger counts."""
        return _json([r.to_json() for r in faults.rules()])

    @post("/faults", status_code=201)
    async def add_fault(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Arm a fault rule (see :mod:`ledgerbridge_testing.sandbox.faults`)."""
        data = await _body(request)
        try:
            rule = faults.add(
                kind=str(data.get("kind", "error")),
                path_prefix=str(data.get("path_prefix", "/")),
                count=int(data.get("count", 1)),
                status=int(data["status"]) if data.get("status") is not None else None,
                delay=float(data.get("delay", 0)),
                method=str(data["method"]) if data.get("method") else None,
            )
        except (FaultRuleError, TypeError, ValueError) as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        return _json(rule.to_json(), status=201)

    @delete("/faults")
    async def clear_faults() -> None:
        """Disarm every fault and let held requests go."""
        faults.clear()

    @post("/faults/release", status_code=200)
    async def release_faults(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Release requests held by a ``hold`` fault (``{"id": n}``, or all)."""
        data = await _body(request)
        try:
            faults.release(int(data["id"]) if data.get("id") is not None else None)
        except (KeyError, TypeError, ValueError) as exc:
            raise HTTPException(status_code=400, detail=f"unknown fault id: {exc}") from exc
        return _json({"released": data.get("id", "all")})

    @post("/tokens/revoke-all", status_code=200)
    async def revoke_all() -> Response[bytes]:
        """End every OAuth connection at once."""
        return _json({"revoked": oauth.revoke_all() if oauth else 0})

    @post("/tokens/expire-access", status_code=200)
    async def expire_access() -> Response[bytes]:
        """Expire all access tokens now (refresh tokens keep working)."""
        return _json({"expired": oauth.expire_access_tokens() if oauth else 0})

    @post("/webhooks/flush", status_code=200)
    async def flush_webhooks() -> Response[bytes]:
        """Deliver pending webhook notifications now."""
        if hooks.flush_webhooks is None:
            raise HTTPException(status_code=404, detail="this sandbox sends no webhooks")
        return _json(await hooks.flush_webhooks())

    @get("/webhooks")
    async def webhook_state() -> Response[bytes]:
        """Pending and delivered webhook notifications."""
        return _json(hooks.webhook_state() if hooks.webhook_state else {})

    @post("/reset", status_code=200)
    async def reset() -> Response[bytes]:
        """Restore the seeded demo data."""
        if hooks.reset is None:
            raise HTTPException(status_code=404, detail="this sandbox cannot reset")
        hooks.reset()
        return _json({"reset": True})

    return Router(
        path=path,
        route_handlers=[
            describe,
            read_clock,
            change_clock,
            list_faults,
            add_fault,
            clear_faults,
            release_faults,
            revoke_all,
            expire_access,
            flush_webhooks,
            webhook_state,
            reset,
        ],
        include_in_schema=False,
    )
