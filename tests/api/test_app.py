"""The app factory: what it mounts and what its lifespan starts."""

from __future__ import annotations

from litestar.testing import AsyncTestClient


async def test_background_runtime_starts_and_stops_with_the_app(database: str, monkeypatch) -> None:
    from ledgerbridge import runtime
    from ledgerbridge.app import create_app

    calls: list[str] = []

    async def start(app_state: object = None) -> None:
        calls.append("start")
        assert app_state.settings is not None  # type: ignore[attr-defined]

    async def stop() -> None:
        calls.append("stop")

    monkeypatch.setattr(runtime, "start", start)
    monkeypatch.setattr(runtime, "stop", stop)
    async with AsyncTestClient(app=create_app(background=True)):
        assert calls == ["start"]
    assert calls == ["start", "stop"]

    calls.clear()
    async with AsyncTestClient(app=create_app(background=False)):
        pass
    assert calls == []


async def test_health_docs_and_ui_are_mounted(client: AsyncTestClient) -> None:
    assert (await client.get("/healthz")).status_code in (200, 503)
    docs = await client.get("/schema")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert (await client.get("/login")).status_code == 200
